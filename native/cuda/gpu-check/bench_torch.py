#!/usr/bin/env python3
"""PyTorch side of the JVM benchmark in gpu-check.sh: times scaled_dot_product_attention on the cases
GpuBench timed for mmca-cuda (G1 attention, the fused text operation vs two SDPA calls, and the
SimpleMMCA W2 forward on device tensors in eager PyTorch), then prints ONE table with both and their
ratio. W2 with host tensors in and out is compared with mmca's cpu backend.

Every SDPA row names the backend that ran: each backend is forced in turn (flash, cuDNN, efficient;
math only where its score tensor stays small). The GQA cases use the GROUPED head mapping
(enable_gqa), except for PyTorch's memory-efficient kernel, which refuses grouped heads (it would
fall back to math): its fair fp32 peer gets the K/V heads repeated instead.

Usage: bench_torch.py --java JAVA_CSV [--budget-ms N] [--csv OUT_CSV]
JAVA_CSV is GpuBench's output (case,ms,gflop); a missing or partial file gives n/a cells.
"""
import argparse
import csv
import os
import sys

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


def timed(torch, fn, budget_ms):
    """Median of five event-timed rounds after a warm-up, per call."""
    fn()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    torch.cuda.synchronize()
    per_round = max(1, min(50, int(budget_ms / 5 / max(start.elapsed_time(end), 1e-3))))
    times = []
    for _ in range(5):
        start.record()
        for _ in range(per_round):
            fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / per_round)
    return sorted(times)[2]


def torch_cases(budget_ms):
    """Returns ({case: [(backend, ms)]}, note) for the SDPA baselines, or ({}, reason) when PyTorch cannot run."""
    try:
        import torch
        import torch.nn.functional as F
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except Exception as e:  # noqa: BLE001 - report any import failure
        return {}, "PyTorch not importable: %s" % e
    if not torch.cuda.is_available():
        return {}, "torch.cuda.is_available() is False"
    import inspect
    if "enable_gqa" not in inspect.signature(F.scaled_dot_product_attention).parameters:
        return {}, "this PyTorch (%s) has no enable_gqa in scaled_dot_product_attention (needs 2.5+)" % torch.__version__
    dev = torch.device("cuda")
    out = {}

    def backends(fp32):
        if fp32:
            return (("efficient, K/V repeated", SDPBackend.EFFICIENT_ATTENTION, True),)
        return (("flash", SDPBackend.FLASH_ATTENTION, False), ("cudnn", SDPBackend.CUDNN_ATTENTION, False),
                ("efficient, K/V repeated", SDPBackend.EFFICIENT_ATTENTION, True))

    def sdpa(q, k, v, causal, backend, gqa):
        with sdpa_kernel([backend]):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=gqa)

    gen = torch.Generator(device=dev).manual_seed(0)
    for tag, dtype, tf32 in (("bf16", torch.bfloat16, False), ("fp32", torch.float32, False), ("tf32", torch.float32, True)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        q = torch.randn(B, H, N, D, device=dev, dtype=dtype, generator=gen)
        k = torch.randn(B, G, N, D, device=dev, dtype=dtype, generator=gen)
        v = torch.randn(B, G, N, D, device=dev, dtype=dtype, generator=gen)
        q2 = torch.randn(B, H, N, D, device=dev, dtype=dtype, generator=gen)
        for name, backend, repeat in backends(dtype == torch.float32):
            # K/V as the backend takes them: grouped (enable_gqa) or with the heads repeated.
            kr = k.repeat_interleave(H // G, dim=1) if repeat else k
            vr = v.repeat_interleave(H // G, dim=1) if repeat else v
            gqa = not repeat
            try:
                for causal in (False, True):
                    ms = timed(torch, lambda: sdpa(q, kr, vr, causal, backend, gqa), budget_ms)
                    out.setdefault("g1_attn_%s_%s" % (tag, "causal" if causal else "full"), []).append((name, ms))
                ms = timed(torch, lambda: (sdpa(q, kr, vr, True, backend, gqa), sdpa(q2, kr, vr, False, backend, gqa)),
                           budget_ms)
                out.setdefault("g1_text_" + tag, []).append(("2x " + name, ms))
            except Exception as e:  # noqa: BLE001 - a backend that refuses says so
                print("torch %s %s refused: %s" % (tag, name, str(e).splitlines()[0][:200]), file=sys.stderr)
            del kr, vr
        del q, k, v, q2
        torch.cuda.empty_cache()
    for tag, dtype, tf32 in (("fp32", torch.float32, False), ("tf32", torch.float32, True), ("bf16", torch.bfloat16, False)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        try:
            out.setdefault("w2_device_" + tag, []).append(
                ("eager, default SDPA choice", timed(torch, w2_forward(torch, F, dev, dtype, gen), budget_ms)))
        except Exception as e:  # noqa: BLE001
            print("torch W2 %s failed: %s" % (tag, e), file=sys.stderr)
        torch.cuda.empty_cache()
    torch.backends.cuda.matmul.allow_tf32 = False
    return out, "torch %s, cuDNN %s, on %s" % (torch.__version__, torch.backends.cudnn.version(), torch.cuda.get_device_name(0))


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
        if dtype == torch.float32:  # the efficient kernel refuses grouped heads: repeat them (else: math)
            o = F.scaled_dot_product_attention(q, k.repeat_interleave(h // g, dim=1), vv.repeat_interleave(h // g, dim=1),
                                               is_causal=causal)
        else:
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
    ap.add_argument("--budget-ms", type=float, default=300.0)
    ap.add_argument("--csv", help="write the table here too")
    args = ap.parse_args()
    java = read_java(args.java)
    torch_ms, torch_note = torch_cases(args.budget_ms)

    cases = []
    for tag in ("bf16", "fp32", "tf32"):
        for kind in ("full", "causal"):
            cases.append("g1_attn_%s_%s" % (tag, kind))
        cases.append("g1_text_" + tag)
    cases += ["w2_device_" + t for t in ("fp32", "tf32", "bf16")]
    header = ("case", "mmca-cuda ms", "baseline", "baseline ms", "baseline/mmca", "mmca TFLOP/s")
    lines = []
    for c in cases:
        mine = java.get(c)
        ms = mine[0] if mine else None
        tflops = mine[1] / ms if (mine and ms and mine[1] > 0 and not c.startswith("w2")) else None
        for backend, base in torch_ms.get(c, [("torch (not run)", None)]):
            ratio = base / ms if (base and ms) else None
            lines.append((c, fmt(ms), "sdpa " + backend, fmt(base), fmt(ratio, "%.2f"), fmt(tflops, "%.1f")))
    cpu = java.get("w2_forward_cpu")
    for tag in ("fp32", "tf32", "bf16"):
        mine = java.get("w2_forward_cuda_" + tag)
        ms = mine[0] if mine else None
        base = cpu[0] if cpu else None
        ratio = base / ms if (base and ms) else None
        lines.append(("w2_host_" + tag, fmt(ms), "mmca cpu backend", fmt(base), fmt(ratio, "%.2f"), "-"))
    widths = [max(len(str(r[i])) for r in [header] + lines) for i in range(len(header))]
    print()
    print("mmca-cuda (JVM) vs baselines (%s); baseline/mmca > 1 means mmca-cuda is faster" % torch_note)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in lines:
        print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
