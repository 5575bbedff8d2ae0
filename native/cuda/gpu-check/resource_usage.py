#!/usr/bin/env python3
"""One line per compiled kernel from nvcc --resource-usage (ptxas -v) output: architecture, kernel
(attention family and head dim, combine, element-wise), registers, stack frame and spills.

Usage: resource_usage.py BUILD_LOG [...]   (prints the table; a last line counts the kernels that spill)
"""
import re
import sys

# attention_kernel<AttentionConfig<Math, D, warps, keys, swizzle>>: Math 0 fp16, 1 bf16, 2 tf32, 3 exact (3xTF32)
FAMILIES = {"0": "fp16", "1": "bf16", "2": "tf32", "3": "exact"}
COMBINE = {"f": "fp32", "6__half": "fp16", "13__nv_bfloat16": "bf16"}


def kernel_name(mangled):
    k = re.search(r"attention_kernelINS_15AttentionConfigILNS_4MathE(\d)ELi(\d+)ELi(\d+)ELi(\d+)", mangled)
    if k:
        return "attention %-5s D=%-3s" % (FAMILIES[k.group(1)], k.group(2))
    c = re.search(r"combine_kernelI(\w+?)EE", mangled)
    if c:
        return "combine %s" % COMBINE.get(c.group(1), c.group(1))
    e = re.search(r"(add_kernel|to_half_kernel|to_f32_kernel)I(\w+?)E", mangled)
    if e:
        return "%s %s" % (e.group(1), COMBINE.get(e.group(2), e.group(2)))
    return mangled[:40]


def main():
    rows = []
    for path in sys.argv[1:]:
        name = arch = stack = None
        for line in open(path, errors="replace"):
            m = re.search(r"Compiling entry function '([^']+)' for '(sm_\d+)'", line)
            if m:
                name, arch, stack = kernel_name(m.group(1)), m.group(2), None
                continue
            m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
            if m:
                stack = m.groups()
                continue
            m = re.search(r"Used (\d+) registers", line)
            if m and name:
                rows.append((arch, name, int(m.group(1))) + tuple(int(x) for x in (stack or (0, 0, 0))))
                name = None
    for r in rows:
        print("%-6s %-28s %3d registers, stack %4d B, spill stores %4d B, spill loads %4d B" % r)
    print("%d kernels compiled, %d with spills" % (len(rows), sum(1 for r in rows if r[4] > 0)))
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
