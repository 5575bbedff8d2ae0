#!/usr/bin/env python3
"""PyTorch side of gpu-check.sh: times scaled_dot_product_attention(..., enable_gqa=True) on the
cases GpuBench timed for mmca-cuda (G1 attention, the fused text operation vs two SDPA calls + add,
and the SimpleMMCA W2 forward on device tensors in eager PyTorch), then prints ONE table with both
and their ratio. W2 with host tensors in and out is compared with mmca's cpu backend.

Usage: bench_torch.py --java JAVA_CSV [--budget-ms N]
JAVA_CSV is GpuBench's output (case,ms,gflop); a missing or partial file gives n/a cells.
"""
import argparse
import csv
import os
import sys
import time

B, H, G, N, D = 4, 32, 8, 4096, 128


def read_java(path):
    rows = {}
    if path and os.path.exists(path):
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                try:
                    rows[r["case"]] = (float(r["ms"]), float(r["gflop"]))
                except (KeyError, ValueError):
                    pass
    return rows


def torch_cases(budget_ms):
    """Returns ({case: ms}, note) for the SDPA baselines, or ({}, reason) when PyTorch cannot run."""
    try:
        import torch
        import torch.nn.functional as F
    except Exception as e:  # noqa: BLE001 - report any import failure
        return {}, "PyTorch not importable: %s" % e
    if not torch.cuda.is_available():
        return {}, "torch.cuda.is_available() is False"
    import inspect
    if "enable_gqa" not in inspect.signature(F.scaled_dot_product_attention).parameters:
        return {}, "this PyTorch (%s) has no enable_gqa in scaled_dot_product_attention (needs 2.5+)" % torch.__version__
    dev = torch.device("cuda")
    out = {}

    def timed(fn):
        fn()
        torch.cuda.synchronize()
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        calls = 0
        t0 = time.perf_counter()
        start.record()
        while True:
            fn()
            calls += 1
            torch.cuda.synchronize()
            if (time.perf_counter() - t0) * 1000 >= budget_ms or calls >= 50:
                break
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / calls

    gen = torch.Generator(device=dev).manual_seed(0)
    for tag, dtype, tf32 in (("bf16", torch.bfloat16, False), ("fp32", torch.float32, False), ("tf32", torch.float32, True)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        q = torch.randn(B, H, N, D, device=dev, dtype=dtype, generator=gen)
        k = torch.randn(B, G, N, D, device=dev, dtype=dtype, generator=gen)
        v = torch.randn(B, G, N, D, device=dev, dtype=dtype, generator=gen)
        q2 = torch.randn(B, H, N, D, device=dev, dtype=dtype, generator=gen)
        try:
            for causal in (False, True):
                ms = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True))
                out["g1_attn_%s_%s" % (tag, "causal" if causal else "full")] = ms
            out["g1_text_" + tag] = timed(
                lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
                + F.scaled_dot_product_attention(q2, k, v, is_causal=False, enable_gqa=True))
        except Exception as e:  # noqa: BLE001 - e.g. out of memory in the math backend
            print("torch %s failed: %s" % (tag, e), file=sys.stderr)
        del q, k, v, q2
        torch.cuda.empty_cache()
    for tag, dtype, tf32 in (("fp32", torch.float32, False), ("tf32", torch.float32, True), ("bf16", torch.bfloat16, False)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        try:
            out["w2_device_" + tag] = timed(w2_forward(torch, F, dev, dtype, gen))
        except Exception as e:  # noqa: BLE001
            print("torch W2 %s failed: %s" % (tag, e), file=sys.stderr)
        torch.cuda.empty_cache()
    torch.backends.cuda.matmul.allow_tf32 = False
    return out, "torch %s on %s" % (torch.__version__, torch.cuda.get_device_name(0))


def w2_forward(torch, F, dev, dtype, gen):
    """SimpleMMCA (CROSS, causal text) W2 forward in eager PyTorch: nn.Linear products + SDPA with GQA."""
    b, nv, nt, dim, h, g, d = 4, 576, 512, 1024, 16, 4, 64

    def weight(rows, cols):
        return torch.randn(rows, cols, device=dev, dtype=dtype, generator=gen) / cols ** 0.5

    blocks = [(weight(h * d, dim), weight(g * d, dim), weight(g * d, dim), weight(dim, h * d)) for _ in range(3)]
    v = torch.randn(b, nv, dim, device=dev, dtype=dtype, generator=gen)
    t = torch.randn(b, nt, dim, device=dev, dtype=dtype, generator=gen)

    def mgqa(x, ctx, w, causal):
        kv = x if ctx is None else ctx
        n, m = x.shape[1], kv.shape[1]
        q = F.linear(x, w[0]).view(b, n, h, d).transpose(1, 2)
        k = F.linear(kv, w[1]).view(b, m, g, d).transpose(1, 2)
        vv = F.linear(kv, w[2]).view(b, m, g, d).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, k, vv, is_causal=causal, enable_gqa=True)
        return F.linear(o.transpose(1, 2).reshape(b, n, h * d), w[3])

    def forward():
        vis = mgqa(v, None, blocks[0], False)
        return vis, mgqa(t, None, blocks[1], True) + mgqa(t, vis, blocks[2], False)

    return forward


def fmt(x, spec="%.3f"):
    return "n/a" if x is None else spec % x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--java", required=True, help="GpuBench CSV")
    ap.add_argument("--budget-ms", type=float, default=600.0)
    args = ap.parse_args()
    java = read_java(args.java)
    torch_ms, torch_note = torch_cases(args.budget_ms)

    cases = []
    for tag in ("bf16", "fp32", "tf32"):
        for kind in ("full", "causal"):
            cases.append("g1_attn_%s_%s" % (tag, kind))
        cases.append("g1_text_" + tag)
    header = ("case", "mmca-cuda ms", "baseline", "baseline ms", "baseline/mmca", "mmca TFLOP/s")
    lines = []
    for c in cases:
        mine = java.get(c)
        ms = mine[0] if mine else None
        base = torch_ms.get(c)
        ratio = base / ms if (base and ms) else None
        tflops = mine[1] / ms if (mine and ms and mine[1] > 0) else None
        label = "2x SDPA + add" if c.startswith("g1_text") else "torch SDPA gqa"
        lines.append((c, fmt(ms), label, fmt(base), fmt(ratio, "%.2f"), fmt(tflops, "%.1f")))
    for tag in ("fp32", "tf32", "bf16"):
        c = "w2_device_" + tag
        mine = java.get(c)
        ms = mine[0] if mine else None
        base = torch_ms.get(c)
        ratio = base / ms if (base and ms) else None
        lines.append((c, fmt(ms), "torch eager", fmt(base), fmt(ratio, "%.2f"), "-"))
    cpu = java.get("w2_forward_cpu")
    for tag in ("fp32", "tf32", "bf16"):
        mine = java.get("w2_forward_cuda_" + tag)
        ms = mine[0] if mine else None
        base = cpu[0] if cpu else None
        ratio = base / ms if (base and ms) else None
        lines.append(("w2_host_" + tag, fmt(ms), "mmca cpu backend", fmt(base), fmt(ratio, "%.2f"), "-"))
    widths = [max(len(str(r[i])) for r in [header] + lines) for i in range(len(header))]
    print()
    print("mmca-cuda vs baselines (%s); baseline/mmca > 1 means mmca-cuda is faster" % torch_note)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in lines:
        print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
