#!/usr/bin/env python3
"""The CUDA kernel library without the JVM: loads libmmcacuda.so with ctypes, writes its parameter
block (native/include/mmca/attention_params.h) as a ctypes structure, and

  --layout   checks that structure against the library (size, and every field through
             mmca_cuda_c_format_params); needs no GPU and no PyTorch;
  --probe    prints the driver, device and per-head-width support as the library sees them;
  --parity   runs every kernel instantiation (exact fp32, tf32, fp16, bf16 x every head width; single
             problems, the fused text operation, decoding steps with key lengths, query positions and
             split-K) on ragged sizes against a float64 PyTorch reference, outputs NaN-poisoned;
  --summarize CSV  prints the pass counts and the speed targets from an earlier run's CSV (no GPU);
  --bench    times the benchmark shapes with CUDA events next to PyTorch SDPA with each backend forced
             in turn (flash, efficient, cuDNN, math), and says for every row which backend ran.

Exit status: 0 passed, 1 a check failed, 2 usage or setup error, 77 skipped (no GPU, no PyTorch).
Results as CSV with --csv FILE; a table on stdout.
"""
import argparse
import ctypes
import math
import os
import sys
import time

SKIP = 77

# The mmca_attention_params layout, field by field (LP64: pointers and int64 8 bytes, int32 and float 4).
I64, I32, F32, PTR = ctypes.c_int64, ctypes.c_int32, ctypes.c_float, ctypes.c_void_p
FIELDS = [
    ("q", PTR), ("k", PTR), ("v", PTR), ("o", PTR),
    ("q_batch_stride", I64), ("q_row_stride", I64), ("q_head_stride", I64),
    ("k_batch_stride", I64), ("k_row_stride", I64), ("k_head_stride", I64),
    ("v_batch_stride", I64), ("v_row_stride", I64), ("v_head_stride", I64),
    ("o_batch_stride", I64), ("o_row_stride", I64), ("o_head_stride", I64),
    ("key_mask", PTR), ("key_mask_batch_stride", I64),
    ("query_mask", PTR), ("query_mask_batch_stride", I64),
    ("batch", I32), ("heads", I32), ("kv_heads", I32), ("queries", I32), ("keys", I32), ("dim_head", I32),
    ("scale", F32), ("causal", I32), ("qk_norm", I32), ("head_mapping", I32), ("dtype", I32), ("reserved", I32),
    ("key_lengths", PTR), ("query_positions", PTR), ("query_positions_batch_stride", I64),
]
# Offsets the header asserts statically.
HEADER_OFFSETS = {"q_batch_stride": 32, "o_head_stride": 120, "key_mask": 128, "query_mask_batch_stride": 152,
                  "batch": 160, "dim_head": 180, "scale": 184, "dtype": 200, "key_lengths": 208,
                  "query_positions_batch_stride": 224}
HEADER_SIZE = 232


class Params(ctypes.Structure):
    _fields_ = FIELDS


class TextParams(ctypes.Structure):
    _fields_ = [("self_", Params), ("cross", Params)]


DTYPE_F32, DTYPE_F16, DTYPE_BF16 = 0, 1, 2
MATH_EXACT, MATH_TENSOR_CORE = 0, 1
MODULO, GROUPED = 0, 1


class Library:
    def __init__(self, path):
        self.path = path
        lib = ctypes.CDLL(path)
        self.lib = lib
        c = ctypes
        sig = {
            "mmca_cuda_c_last_error": (c.c_char_p, []),
            "mmca_cuda_c_params_size": (c.c_int, []),
            "mmca_cuda_c_format_params": (c.c_int, [c.POINTER(Params), c.c_char_p, c.c_int, c.POINTER(c.c_int)]),
            "mmca_cuda_c_dim_heads": (c.c_int, [c.POINTER(I32), c.c_int]),
            "mmca_cuda_c_driver_problem": (c.c_char_p, []),
            "mmca_cuda_c_device_count": (c.c_int, [c.POINTER(c.c_int), c.POINTER(c.c_int)]),
            "mmca_cuda_c_device_info": (c.c_int, [c.c_int, c.POINTER(c.c_int), c.POINTER(c.c_int), c.POINTER(I64),
                                                  c.POINTER(I64), c.c_char_p, c.c_int]),
            "mmca_cuda_c_support_problem": (c.c_int, [c.c_int, c.c_int, c.c_int, c.c_int, c.c_char_p, c.c_int]),
            "mmca_cuda_c_validate": (c.c_int, [c.POINTER(Params), c.c_int]),
            "mmca_cuda_c_workspace_bytes": (c.c_int, [c.c_int, c.POINTER(Params), c.c_int, c.POINTER(I64)]),
            "mmca_cuda_c_text_workspace_bytes": (c.c_int, [c.c_int, c.POINTER(TextParams), c.c_int, c.POINTER(I64)]),
            "mmca_cuda_c_attention": (c.c_int, [c.c_int, c.POINTER(Params), c.c_int, I64, I64, I64]),
            "mmca_cuda_c_text": (c.c_int, [c.c_int, c.POINTER(TextParams), c.c_int, I64, I64, I64]),
            "mmca_cuda_c_synchronize": (c.c_int, [c.c_int, I64]),
        }
        for name, (res, args) in sig.items():
            f = getattr(lib, name)
            f.restype = res
            f.argtypes = args

    def call(self, name, *args):
        status = getattr(self.lib, name)(*args)
        if status != 0:
            kind = "invalid argument" if status == 1 else "runtime error"
            raise RuntimeError("%s: %s: %s" % (name, kind, self.lib.mmca_cuda_c_last_error().decode()))

    def dim_heads(self):
        buf = (I32 * 32)()
        n = self.lib.mmca_cuda_c_dim_heads(buf, 32)
        return [buf[i] for i in range(n)]

    def driver_problem(self):
        return self.lib.mmca_cuda_c_driver_problem().decode()

    def device_count(self):
        count, err = ctypes.c_int(0), ctypes.c_int(0)
        self.call("mmca_cuda_c_device_count", ctypes.byref(count), ctypes.byref(err))
        return count.value, err.value

    def device_info(self, device=0):
        major, minor, total, shared = ctypes.c_int(), ctypes.c_int(), I64(), I64()
        name = ctypes.create_string_buffer(256)
        self.call("mmca_cuda_c_device_info", device, ctypes.byref(major), ctypes.byref(minor), ctypes.byref(total),
                  ctypes.byref(shared), name, 256)
        return {"name": name.value.decode(), "cc": (major.value, minor.value), "total": total.value,
                "shared_optin": shared.value}

    def support_problem(self, dtype, math_, dim_head, device=0):
        buf = ctypes.create_string_buffer(1024)
        self.call("mmca_cuda_c_support_problem", device, dtype, math_, dim_head, buf, 1024)
        return buf.value.decode()


def format_expected(p):
    """mmca_attention_params_format of p, computed here (the same printf format as the header)."""
    hexp = lambda v: "%x" % (v or 0)  # noqa: E731
    return ("q=%s k=%s v=%s o=%s" % (hexp(p.q), hexp(p.k), hexp(p.v), hexp(p.o))
            + " q_strides=%d,%d,%d k_strides=%d,%d,%d v_strides=%d,%d,%d o_strides=%d,%d,%d" % (
                p.q_batch_stride, p.q_row_stride, p.q_head_stride, p.k_batch_stride, p.k_row_stride, p.k_head_stride,
                p.v_batch_stride, p.v_row_stride, p.v_head_stride, p.o_batch_stride, p.o_row_stride, p.o_head_stride)
            + " key_mask=%s,%d query_mask=%s,%d" % (hexp(p.key_mask), p.key_mask_batch_stride, hexp(p.query_mask),
                                                    p.query_mask_batch_stride)
            + " batch=%d heads=%d kv_heads=%d queries=%d keys=%d dim_head=%d scale=%s" % (
                p.batch, p.heads, p.kv_heads, p.queries, p.keys, p.dim_head, "%.9g" % p.scale)
            + " causal=%d qk_norm=%d head_mapping=%d dtype=%d reserved=%d key_lengths=%s query_positions=%s,%d" % (
                p.causal, p.qk_norm, p.head_mapping, p.dtype, p.reserved, hexp(p.key_lengths),
                hexp(p.query_positions), p.query_positions_batch_stride))


def check_layout(lib):
    """The ctypes structure against the header's offsets and the library's own view of every field."""
    problems = []
    if ctypes.sizeof(Params) != HEADER_SIZE:
        problems.append("ctypes size %d, header says %d" % (ctypes.sizeof(Params), HEADER_SIZE))
    size = lib.lib.mmca_cuda_c_params_size()
    if size != ctypes.sizeof(Params):
        problems.append("library size %d, ctypes size %d" % (size, ctypes.sizeof(Params)))
    for name, off in HEADER_OFFSETS.items():
        if getattr(Params, name).offset != off:
            problems.append("%s at %d, header says %d" % (name, getattr(Params, name).offset, off))
    p = Params()
    # Every field a distinct value, so a shifted field shows up in the formatted text.
    for n, (name, kind) in enumerate(FIELDS):
        if kind is PTR:
            setattr(p, name, 0x1000 * (n + 1) + n)
        elif kind is I64:
            setattr(p, name, (n + 1) * 1000003 + (1 << 33))
        elif kind is F32:
            setattr(p, name, 0.125 + n)
        else:
            setattr(p, name, n + 7)
    buf = ctypes.create_string_buffer(4096)
    length = ctypes.c_int()
    lib.call("mmca_cuda_c_format_params", ctypes.byref(p), buf, 4096, ctypes.byref(length))
    got, want = buf.value.decode(), format_expected(p)
    if got != want:
        problems.append("formatted fields differ:\n  library: %s\n  ctypes:  %s" % (got, want))
    return problems


def probe(lib):
    out = {"library": lib.path, "dim_heads": lib.dim_heads()}
    drv = lib.driver_problem()
    out["driver_problem"] = drv
    if drv:
        return out
    count, err = lib.device_count()
    out["device_count"], out["cuda_error"] = count, err
    if err == 0 and count > 0:
        out["device"] = lib.device_info(0)
        support = {}
        for dtype, math_, tag in ((DTYPE_F32, MATH_EXACT, "exact"), (DTYPE_F32, MATH_TENSOR_CORE, "tf32"),
                                  (DTYPE_F16, MATH_TENSOR_CORE, "fp16"), (DTYPE_BF16, MATH_TENSOR_CORE, "bf16")):
            for d in out["dim_heads"]:
                support["%s/%d" % (tag, d)] = lib.support_problem(dtype, math_, d) or "ok"
        out["support"] = support
    return out


# ---------------------------------------------------------------------------------------------------------
# GPU checks (PyTorch)

FAMILIES = (("exact", DTYPE_F32, MATH_EXACT, 1e-5), ("tf32", DTYPE_F32, MATH_TENSOR_CORE, 1e-3),
            ("fp16", DTYPE_F16, MATH_TENSOR_CORE, 1e-2), ("bf16", DTYPE_BF16, MATH_TENSOR_CORE, 1e-2))


def torch_dtype(torch, dtype):
    return {DTYPE_F32: torch.float32, DTYPE_F16: torch.float16, DTYPE_BF16: torch.bfloat16}[dtype]


class Case:
    """One attention problem on the GPU: inputs in [B, rows, heads * D], masks, decoding fields."""

    def __init__(self, torch, dev, dtype, B, H, G, N, M, D, causal=False, qk_norm=False, mapping=MODULO,
                 key_mask=True, query_mask=True, lengths=False, positions=False, seed=0, qmask=None):
        g = torch.Generator(device=dev).manual_seed(seed)
        td = torch_dtype(torch, dtype)
        self.t, self.dev, self.dtype = torch, dev, dtype
        self.B, self.H, self.G, self.N, self.M, self.D = B, H, G, N, M, D
        self.causal, self.qk_norm, self.mapping = causal, qk_norm, mapping
        self.q = torch.randn(B, N, H * D, device=dev, generator=g).to(td)
        self.k = torch.randn(B, M, G * D, device=dev, generator=g).to(td)
        self.v = torch.randn(B, M, G * D, device=dev, generator=g).to(td)
        self.kmask = (torch.rand(B, M, device=dev, generator=g) < 0.75).to(torch.uint8) if key_mask else None
        if qmask is not None:
            self.qmask = qmask
        else:
            self.qmask = (torch.rand(B, N, device=dev, generator=g) < 0.8).to(torch.uint8) if query_mask else None
        self.lengths = None
        if lengths:
            self.lengths = torch.randint(0, M + 4, (B,), device=dev, generator=g, dtype=torch.int32)
            self.lengths[0] = M
            # Cache rows past the lengths hold garbage the kernels must never read.
            for b in range(B):
                n = max(0, min(int(self.lengths[b]), M))
                self.k[b, n:] = float("nan")
                self.v[b, n:] = float("nan")
        self.positions = None
        if positions:
            base = (self.lengths.clamp(0, M) if self.lengths is not None
                    else torch.full((B,), M, device=dev, dtype=torch.int32)).to(torch.int64)
            pos = base[:, None] - N + torch.arange(N, device=dev)[None, :]
            pos = pos + torch.randint(-2, 3, (B, N), device=dev, generator=g)
            pos[-1, 0] = -1  # sees nothing
            self.positions = pos.to(torch.int32).contiguous()

    def params(self, out, out_row_stride):
        p = Params()
        H, G, D, N, M = self.H, self.G, self.D, self.N, self.M
        p.q, p.k, p.v, p.o = self.q.data_ptr(), self.k.data_ptr(), self.v.data_ptr(), out
        p.q_batch_stride, p.q_row_stride, p.q_head_stride = N * H * D, H * D, D
        p.k_batch_stride, p.k_row_stride, p.k_head_stride = M * G * D, G * D, D
        p.v_batch_stride, p.v_row_stride, p.v_head_stride = M * G * D, G * D, D
        p.o_batch_stride, p.o_row_stride, p.o_head_stride = N * out_row_stride, out_row_stride, D
        if self.kmask is not None:
            p.key_mask, p.key_mask_batch_stride = self.kmask.data_ptr(), M
        if self.qmask is not None:
            p.query_mask, p.query_mask_batch_stride = self.qmask.data_ptr(), N
        p.batch, p.heads, p.kv_heads, p.queries, p.keys, p.dim_head = self.B, H, G, N, M, D
        p.scale = 10.0 if self.qk_norm else D ** -0.5
        p.causal, p.qk_norm, p.head_mapping, p.dtype = int(self.causal), int(self.qk_norm), self.mapping, self.dtype
        if self.lengths is not None:
            p.key_lengths = self.lengths.data_ptr()
        if self.positions is not None:
            p.query_positions, p.query_positions_batch_stride = self.positions.data_ptr(), N
        return p

    def reference(self):
        """SPEC steps 2-5 with the decoding fields, in float64: [B, N, H * D]."""
        t = self.t
        B, H, G, N, M, D = self.B, self.H, self.G, self.N, self.M, self.D
        q = self.q.double().view(B, N, H, D).transpose(1, 2)
        k = self.k.double().view(B, M, G, D).transpose(1, 2)
        v = self.v.double().view(B, M, G, D).transpose(1, 2)
        heads = t.arange(H, device=self.dev)
        kv = heads % G if self.mapping == MODULO else heads // (H // G)
        k, v = k[:, kv], v[:, kv]
        if self.qk_norm:
            q = q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            k = k / k.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        scale = 10.0 if self.qk_norm else D ** -0.5
        j = t.arange(M, device=self.dev)
        vis = t.ones(B, N, M, dtype=t.bool, device=self.dev)
        if self.lengths is not None:
            vis &= (j[None, None, :] < self.lengths.clamp(0, M).to(t.int64)[:, None, None])
        if self.kmask is not None:
            vis &= self.kmask.bool()[:, None, :]
        if self.causal:
            pos = (self.positions.to(t.int64) if self.positions is not None
                   else (t.arange(N, device=self.dev) + (M - N))[None, :].expand(B, N))
            vis &= j[None, None, :] <= pos[:, :, None]
        k = t.nan_to_num(k, nan=0.0)  # the garbage past the lengths is invisible anyway
        v = t.nan_to_num(v, nan=0.0)
        s = scale * (q @ k.transpose(-1, -2))
        s = s.masked_fill(~vis[:, None], float("-inf"))
        any_visible = vis.any(-1)[:, None, :, None]
        p = t.softmax(s, dim=-1).nan_to_num(0.0)
        o = (p @ v) * any_visible
        if self.qmask is not None:
            o = o * self.qmask.bool()[:, None, :, None]
        return o.transpose(1, 2).reshape(B, N, H * D)


def rel_err(torch, out, ref):
    o = out.double()
    if not torch.isfinite(o).all():
        return float("inf")
    den = ref.norm().item()
    num = (o - ref).norm().item()
    return num / den if den > 0 else num


def run_single(lib, torch, case, math_, with_workspace=True):
    B, N, H, D = case.B, case.N, case.H, case.D
    guard = 67
    buf = torch.full((B * N * H * D + guard,), float("nan"), device=case.dev, dtype=torch_dtype(torch, case.dtype))
    p = case.params(buf.data_ptr(), H * D)
    ws_bytes = I64(0)
    if with_workspace:
        lib.call("mmca_cuda_c_workspace_bytes", 0, ctypes.byref(p), math_, ctypes.byref(ws_bytes))
    ws = torch.empty(max(ws_bytes.value, 16), dtype=torch.uint8, device=case.dev) if ws_bytes.value else None
    stream = torch.cuda.current_stream().cuda_stream
    lib.call("mmca_cuda_c_attention", 0, ctypes.byref(p), math_, ws.data_ptr() if ws is not None else 0,
             ws_bytes.value, stream)
    lib.call("mmca_cuda_c_synchronize", 0, stream)
    out = buf[:B * N * H * D].view(B, N, H * D)
    guard_ok = bool(torch.isnan(buf[B * N * H * D:].float()).all())
    return rel_err(torch, out, case.reference()), guard_ok, ws_bytes.value


def run_text(lib, torch, self_case, cross_case, math_):
    B, N, H, D = self_case.B, self_case.N, self_case.H, self_case.D
    guard = 67
    buf = torch.full((B * N * 2 * H * D + guard,), float("nan"), device=self_case.dev,
                     dtype=torch_dtype(torch, self_case.dtype))
    elem = buf.element_size()
    tp = TextParams()
    tp.self_ = self_case.params(buf.data_ptr(), 2 * H * D)
    tp.cross = cross_case.params(buf.data_ptr() + H * D * elem, 2 * H * D)
    ws_bytes = I64(0)
    lib.call("mmca_cuda_c_text_workspace_bytes", 0, ctypes.byref(tp), math_, ctypes.byref(ws_bytes))
    ws = torch.empty(max(ws_bytes.value, 16), dtype=torch.uint8, device=self_case.dev) if ws_bytes.value else None
    stream = torch.cuda.current_stream().cuda_stream
    lib.call("mmca_cuda_c_text", 0, ctypes.byref(tp), math_, ws.data_ptr() if ws is not None else 0, ws_bytes.value,
             stream)
    lib.call("mmca_cuda_c_synchronize", 0, stream)
    out = buf[:B * N * 2 * H * D].view(B, N, 2 * H * D)
    guard_ok = bool(torch.isnan(buf[B * N * 2 * H * D:].float()).all())
    return (rel_err(torch, out[..., :H * D], self_case.reference()),
            rel_err(torch, out[..., H * D:], cross_case.reference()), guard_ok, ws_bytes.value)


def parity(lib, torch, rows):
    dev = torch.device("cuda")
    failures = 0
    for fam, dtype, math_, tol in FAMILIES:
        for D in lib.dim_heads():
            reason = lib.support_problem(dtype, math_, D)
            if reason:
                rows.append(("parity", fam, D, "unsupported here", "", "", reason))
                continue
            seed = D * 10
            cases = [
                ("masks B=2 H=8 G=2 N=77 M=301", Case(torch, dev, dtype, 2, 8, 2, 77, 301, D, seed=seed)),
                ("causal grouped qk_norm N=300 M=128", Case(torch, dev, dtype, 2, 8, 4, 300, 128, D, causal=True,
                                                            qk_norm=True, mapping=GROUPED, key_mask=False,
                                                            seed=seed + 1)),
                ("causal right-aligned N=129 M=700", Case(torch, dev, dtype, 1, 4, 1, 129, 700, D, causal=True,
                                                          seed=seed + 2)),
                ("decoding N=1 cache 3000 lengths positions", Case(torch, dev, dtype, 3, 16, 4, 1, 3000, D,
                                                                   causal=True, lengths=True, positions=True,
                                                                   key_mask=False, seed=seed + 3)),
                ("decoding N=5 cache 1000 lengths positions", Case(torch, dev, dtype, 2, 8, 2, 5, 1000, D,
                                                                   causal=True, lengths=True, positions=True,
                                                                   mapping=GROUPED, seed=seed + 4)),
            ]
            for label, case in cases:
                for ws in ((True, False) if "decoding" in label else (True,)):
                    try:
                        err, guard_ok, ws_bytes = run_single(lib, torch, case, math_, ws)
                        ok = err <= tol and guard_ok
                        note = "" if guard_ok else "wrote past the output"
                        note += " workspace %d B" % ws_bytes if ws_bytes else (" no workspace" if not ws else "")
                    except Exception as e:  # noqa: BLE001 - report and go on
                        err, ok, note = float("nan"), False, str(e)
                    failures += not ok
                    rows.append(("parity", fam, D, label, "%.2e" % err, "ok" if ok else "FAIL", note.strip()))
            for label, N, M_self, M_cross, decoding in (("text op N=333", 333, 333, 576, False),
                                                        ("text op decoding N=1", 1, 2500, 576, True)):
                sc = Case(torch, dev, dtype, 2, 8, 2, N, M_self, D, causal=True, mapping=GROUPED, key_mask=not decoding,
                          lengths=decoding, positions=decoding, seed=seed + 5)
                cc = Case(torch, dev, dtype, 2, 8, 4, N, M_cross, D, mapping=GROUPED, seed=seed + 6, qmask=sc.qmask)
                try:
                    e1, e2, guard_ok, ws_bytes = run_text(lib, torch, sc, cc, math_)
                    ok = e1 <= tol and e2 <= tol and guard_ok
                    err_s = "%.2e/%.2e" % (e1, e2)
                    note = ("" if guard_ok else "wrote past the output") + (" workspace %d B" % ws_bytes if ws_bytes else "")
                except Exception as e:  # noqa: BLE001
                    err_s, ok, note = "nan", False, str(e)
                failures += not ok
                rows.append(("parity", fam, D, label, err_s, "ok" if ok else "FAIL", note.strip()))
    return failures


# ---------------------------------------------------------------------------------------------------------
# Timings

def time_ms(torch, fn, budget_ms):
    """Median per-call time over several event-timed rounds, after a warm-up."""
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    torch.cuda.synchronize()
    once = max(start.elapsed_time(end), 1e-3)
    per_round = max(1, min(50, int(budget_ms / 5 / once)))
    times = []
    for _ in range(5):
        start.record()
        for _ in range(per_round):
            fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / per_round)
    times.sort()
    return times[len(times) // 2]


def attention_flops(B, H, N, M, D, causal):
    if not causal:
        return 4.0 * B * H * N * M * D
    visible = sum(min(M, i + (M - N) + 1) for i in range(N)) if N <= 65536 else N * M / 2
    return 4.0 * B * H * visible * D


def sdpa_peers(torch, F, q, k, v, causal, G, H, repeat_for_efficient):
    """(label, fn) per SDPA backend: q [B, H, N, D], k/v [B, G, M, D]; GROUPED head mapping (enable_gqa)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    peers = []
    kr = vr = None
    for name, backend in (("flash", SDPBackend.FLASH_ATTENTION), ("efficient", SDPBackend.EFFICIENT_ATTENTION),
                          ("cudnn", SDPBackend.CUDNN_ATTENTION), ("math", SDPBackend.MATH)):
        if backend == SDPBackend.EFFICIENT_ATTENTION and repeat_for_efficient:
            # The memory-efficient kernel refuses enable_gqa (it would fall to math): give it repeated heads.
            if kr is None:
                kr = k.repeat_interleave(H // G, dim=1)
                vr = v.repeat_interleave(H // G, dim=1)

            def fn(backend=backend):
                with sdpa_kernel([backend]):
                    return F.scaled_dot_product_attention(q, kr, vr, is_causal=causal)
            peers.append((name + " (K/V heads repeated)", fn))
        else:
            def fn(backend=backend):
                with sdpa_kernel([backend]):
                    return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
            peers.append((name, fn))
    return peers


def bench(lib, torch, rows, budget_ms, quick):
    import torch.nn.functional as F
    dev = torch.device("cuda")
    g = torch.Generator(device=dev).manual_seed(0)
    failures = 0
    shapes = []
    for D in (128, 64):
        for causal in (False, True):
            shapes.append(("bf16", DTYPE_BF16, MATH_TENSOR_CORE, 4, 32, 8, 4096, 4096, D, causal))
    shapes.append(("fp16", DTYPE_F16, MATH_TENSOR_CORE, 4, 32, 8, 4096, 4096, 128, False))
    for fam, math_ in (("exact", MATH_EXACT), ("tf32", MATH_TENSOR_CORE)):
        for causal in (False, True):
            shapes.append((fam, DTYPE_F32, math_, 4, 32, 8, 4096, 4096, 128, causal))
    if quick:
        shapes = shapes[:1] + shapes[-2:-1]
    for fam, dtype, math_, B, H, G, N, M, D, causal in shapes:
        label = "%s attention B=%d H=%d G=%d N=M=%d D=%d %s" % (fam, B, H, G, N, D, "causal" if causal else "full")
        td = torch_dtype(torch, dtype)
        # Our layout: [B, rows, heads * D] (the projections' output); SDPA's: [B, heads, rows, D].
        q = torch.randn(B, N, H * D, device=dev, dtype=td, generator=g)
        k = torch.randn(B, M, G * D, device=dev, dtype=td, generator=g)
        v = torch.randn(B, M, G * D, device=dev, dtype=td, generator=g)
        o = torch.empty(B, N, H * D, device=dev, dtype=td)
        case = Case.__new__(Case)
        case.t, case.dev, case.dtype = torch, dev, dtype
        case.B, case.H, case.G, case.N, case.M, case.D = B, H, G, N, M, D
        case.causal, case.qk_norm, case.mapping = causal, False, GROUPED
        case.q, case.k, case.v, case.kmask, case.qmask, case.lengths, case.positions = q, k, v, None, None, None, None
        p = case.params(o.data_ptr(), H * D)
        stream = torch.cuda.current_stream().cuda_stream

        def ours():
            lib.call("mmca_cuda_c_attention", 0, ctypes.byref(p), math_, 0, 0, stream)
        flops = attention_flops(B, H, N, M, D, causal)
        try:
            ms = time_ms(torch, ours, budget_ms)
            rows.append(("bench", fam, D, label, "%.3f" % ms, "%.1f" % (flops / ms / 1e9), "mmca"))
        except Exception as e:  # noqa: BLE001
            rows.append(("bench", fam, D, label, "", "", "mmca failed: %s" % e))
            failures += 1
            continue
        qs, ks, vs = (x.view(B, -1, n, D).transpose(1, 2).contiguous() for x, n in ((q, H), (k, G), (v, G)))
        torch.backends.cuda.matmul.allow_tf32 = fam == "tf32"
        torch.backends.cudnn.allow_tf32 = fam == "tf32"
        ref_out = None
        for name, fn in sdpa_peers(torch, F, qs, ks, vs, causal, G, H, dtype == DTYPE_F32):
            if name == "math" and N * M * H * B >= 2 ** 31:
                rows.append(("bench", fam, D, label, "", "", "sdpa math: not timed (score tensor of %.1f GB)"
                             % (B * H * N * M * q.element_size() / 1e9)))
                continue
            try:
                out = fn()
                if ref_out is None:
                    ref_out = out
                pms = time_ms(torch, fn, budget_ms)
                rows.append(("bench", fam, D, label, "%.3f" % pms, "%.1f" % (flops / pms / 1e9),
                             "sdpa %s; mmca %.2fx" % (name, pms / ms)))
            except Exception as e:  # noqa: BLE001 - a backend that refuses the inputs says why
                rows.append(("bench", fam, D, label, "", "", "sdpa %s refused: %s" % (name, str(e).splitlines()[0][:160])))
        if ref_out is not None:  # agreement with the first backend that ran, at the benchmark size
            ours()
            torch.cuda.synchronize()
            err = rel_err(torch, o.view(B, N, H, D).transpose(1, 2), ref_out.double())
            tol = {"exact": 1e-5, "tf32": 2e-3}.get(fam, 2e-2)
            ok = err <= tol
            failures += not ok
            rows.append(("bench", fam, D, label, "%.2e" % err, "ok" if ok else "FAIL", "mmca vs sdpa output"))
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        del q, k, v, o, qs, ks, vs, ref_out
        torch.cuda.empty_cache()

    # The fused text operation against two SDPA calls (causal self + cross to visual tokens).
    for fam, dtype, math_ in (("bf16", DTYPE_BF16, MATH_TENSOR_CORE),) + (() if quick else (("tf32", DTYPE_F32, MATH_TENSOR_CORE),)):
        B, H, G, N, Mv, D = 4, 32, 8, 4096, 4096, 128
        td = torch_dtype(torch, dtype)
        q = torch.randn(B, N, H * D, device=dev, dtype=td, generator=g)
        k = torch.randn(B, N, G * D, device=dev, dtype=td, generator=g)
        v = torch.randn(B, N, G * D, device=dev, dtype=td, generator=g)
        kc = torch.randn(B, Mv, G * D, device=dev, dtype=td, generator=g)
        vc = torch.randn(B, Mv, G * D, device=dev, dtype=td, generator=g)
        o = torch.empty(B, N, 2 * H * D, device=dev, dtype=td)
        elem = o.element_size()

        def mk(kk, vv, M, causal, off):
            c = Case.__new__(Case)
            c.t, c.dev, c.dtype = torch, dev, dtype
            c.B, c.H, c.G, c.N, c.M, c.D = B, H, G, N, M, D
            c.causal, c.qk_norm, c.mapping = causal, False, GROUPED
            c.q, c.k, c.v, c.kmask, c.qmask, c.lengths, c.positions = q, kk, vv, None, None, None, None
            return c.params(o.data_ptr() + off, 2 * H * D)
        tp = TextParams()
        tp.self_ = mk(k, v, N, True, 0)
        tp.cross = mk(kc, vc, Mv, False, H * D * elem)
        stream = torch.cuda.current_stream().cuda_stream
        label = "%s text op B=%d H=%d G=%d N=%d (causal self) + Mv=%d (cross) D=%d" % (fam, B, H, G, N, Mv, D)
        flops = attention_flops(B, H, N, N, D, True) + attention_flops(B, H, N, Mv, D, False)
        try:
            ms = time_ms(torch, lambda: lib.call("mmca_cuda_c_text", 0, ctypes.byref(tp), math_, 0, 0, stream), budget_ms)
            rows.append(("bench", fam, D, label, "%.3f" % ms, "%.1f" % (flops / ms / 1e9), "mmca fused"))
        except Exception as e:  # noqa: BLE001
            rows.append(("bench", fam, D, label, "", "", "mmca failed: %s" % e))
            failures += 1
            continue
        qs = q.view(B, N, H, D).transpose(1, 2).contiguous()
        ks, vs, kcs, vcs = (x.view(B, -1, G, D).transpose(1, 2).contiguous() for x in (k, v, kc, vc))
        torch.backends.cuda.matmul.allow_tf32 = fam == "tf32"
        from torch.nn.attention import SDPBackend, sdpa_kernel
        backends = (("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)) if dtype != DTYPE_F32 \
            else (("efficient (K/V heads repeated)", SDPBackend.EFFICIENT_ATTENTION),)
        for name, backend in backends:
            if dtype == DTYPE_F32:
                ksr, vsr, kcr, vcr = (x.repeat_interleave(H // G, dim=1) for x in (ks, vs, kcs, vcs))
                gqa = False
            else:
                ksr, vsr, kcr, vcr, gqa = ks, vs, kcs, vcs, True

            def two(backend=backend, ksr=ksr, vsr=vsr, kcr=kcr, vcr=vcr, gqa=gqa):
                with sdpa_kernel([backend]):
                    a = F.scaled_dot_product_attention(qs, ksr, vsr, is_causal=True, enable_gqa=gqa)
                    b = F.scaled_dot_product_attention(qs, kcr, vcr, is_causal=False, enable_gqa=gqa)
                return a, b
            try:
                pms = time_ms(torch, two, budget_ms)
                rows.append(("bench", fam, D, label, "%.3f" % pms, "%.1f" % (flops / pms / 1e9),
                             "2x sdpa %s; mmca %.2fx" % (name, pms / ms)))
            except Exception as e:  # noqa: BLE001
                rows.append(("bench", fam, D, label, "", "", "2x sdpa %s refused: %s" % (name, str(e).splitlines()[0][:160])))
        torch.backends.cuda.matmul.allow_tf32 = False
        del q, k, v, kc, vc, o
        torch.cuda.empty_cache()

    # Decoding: one new token per sequence against a long cache, split-K with the library's workspace.
    for B, M in ((8, 8192), (1, 65536)):
        H, G, D = 32, 8, 128
        td = torch.bfloat16
        q = torch.randn(B, 1, H * D, device=dev, dtype=td, generator=g)
        k = torch.randn(B, M, G * D, device=dev, dtype=td, generator=g)
        v = torch.randn(B, M, G * D, device=dev, dtype=td, generator=g)
        o = torch.empty(B, 1, H * D, device=dev, dtype=td)
        c = Case.__new__(Case)
        c.t, c.dev, c.dtype = torch, dev, DTYPE_BF16
        c.B, c.H, c.G, c.N, c.M, c.D = B, H, G, 1, M, D
        c.causal, c.qk_norm, c.mapping = False, False, GROUPED
        c.q, c.k, c.v, c.kmask, c.qmask, c.lengths, c.positions = q, k, v, None, None, None, None
        p = c.params(o.data_ptr(), H * D)
        ws_bytes = I64(0)
        lib.call("mmca_cuda_c_workspace_bytes", 0, ctypes.byref(p), MATH_TENSOR_CORE, ctypes.byref(ws_bytes))
        ws = torch.empty(max(ws_bytes.value, 16), dtype=torch.uint8, device=dev)
        stream = torch.cuda.current_stream().cuda_stream
        label = "bf16 decoding B=%d H=%d G=%d N=1 cache=%d D=%d" % (B, H, G, M, D)
        bytes_moved = 2.0 * B * M * G * D * 2
        for tag, wsp, wsb in (("split-K", ws.data_ptr(), ws_bytes.value), ("unsplit", 0, 0)):
            try:
                ms = time_ms(torch, lambda: lib.call("mmca_cuda_c_attention", 0, ctypes.byref(p), MATH_TENSOR_CORE,
                                                     wsp, wsb, stream), budget_ms)
                rows.append(("bench", "bf16", D, label, "%.4f" % ms, "%.0f GB/s" % (bytes_moved / ms / 1e6),
                             "mmca %s (workspace %d B)" % (tag, wsb)))
            except Exception as e:  # noqa: BLE001
                rows.append(("bench", "bf16", D, label, "", "", "mmca %s failed: %s" % (tag, e)))
                failures += 1
        qs = q.view(B, 1, H, D).transpose(1, 2).contiguous()
        ks, vs = (x.view(B, M, G, D).transpose(1, 2).contiguous() for x in (k, v))
        for name, fn in sdpa_peers(torch, F, qs, ks, vs, False, G, H, True):
            if name == "math":
                continue
            try:
                pms = time_ms(torch, fn, budget_ms)
                rows.append(("bench", "bf16", D, label, "%.4f" % pms, "%.0f GB/s" % (bytes_moved / pms / 1e6),
                             "sdpa %s" % name))
            except Exception as e:  # noqa: BLE001
                rows.append(("bench", "bf16", D, label, "", "", "sdpa %s refused: %s" % (name, str(e).splitlines()[0][:160])))
        del q, k, v, o, ks, vs, ws
        torch.cuda.empty_cache()
    return failures


def print_table(rows, header=("check", "family", "D", "case", "value", "result", "note")):
    widths = [min(max(len(str(r[i])) for r in [header] + rows), 70) for i in range(len(header) - 1)]
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)) + "  " + header[-1])
    for r in rows:
        print("  ".join(str(x)[:70].ljust(w) for x, w in zip(r, widths)) + "  " + str(r[-1]))


TARGETS = (  # (family, case prefix, peers, wanted ratio peer time / mmca time)
    ("bf16", "bf16 attention", ("sdpa flash", "sdpa cudnn"), 0.8),
    ("exact", "exact attention", ("sdpa efficient (K/V heads repeated)",), 1.0),
    ("tf32", "tf32 attention", ("sdpa efficient (K/V heads repeated)",), 2.0),
    ("bf16", "bf16 text op", ("2x sdpa flash", "2x sdpa cudnn"), 1.3),
)


def summarize(path):
    """Pass counts and the targets (ratio against the faster of the listed peers) from a CSV of this script."""
    import csv
    rows = list(csv.DictReader(open(path, newline="")))
    lines = []
    par = [r for r in rows if r["check"] == "parity"]
    if par:
        bad = [r for r in par if r["result"] != "ok" and r["result"] != ""]
        lines.append("parity: %d cases, %d failed%s" % (len(par), len(bad), "".join(
            "\n  FAIL %s D=%s %s: %s %s" % (r["family"], r["D"], r["case"], r["value"], r["note"]) for r in bad[:12])))
    for r in rows:
        if r["check"] == "bench" and r["result"] == "FAIL":
            lines.append("bench agreement FAIL: %s %s: %s" % (r["case"], r["note"], r["value"]))
    for fam, prefix, peers, want in TARGETS:
        cases = sorted({r["case"] for r in rows if r["check"] == "bench" and r["case"].startswith(prefix)})
        for case in cases:
            mine = [r for r in rows if r["case"] == case and r["note"].startswith("mmca") and r["value"]
                    and "vs sdpa" not in r["note"]]
            if not mine:
                lines.append("target %-60s mmca: no time" % case)
                continue
            ms = float(mine[0]["value"])
            best = None
            for r in rows:
                if r["case"] != case or not r["value"]:
                    continue
                for peer in peers:
                    if r["note"].startswith(peer + ";"):
                        t = float(r["value"])
                        if best is None or t < best[1]:
                            best = (peer, t)
            if best is None:
                lines.append("target %-60s mmca %.3f ms; no peer ran (%s)" % (case, ms, ", ".join(peers)))
                continue
            ratio = best[1] / ms
            lines.append("target %-60s mmca %.3f ms (%s TFLOP/s) vs %s %.3f ms: %.2fx (want >= %.1fx) %s" % (
                case, ms, mine[0]["result"], best[0], best[1], ratio, want, "MET" if ratio >= want else "missed"))
    for line in lines:
        print(line)
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--summarize":
        return summarize(sys.argv[2])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", required=True, help="path of libmmcacuda.so")
    ap.add_argument("--layout", action="store_true")
    ap.add_argument("--probe", action="store_true")
    ap.add_argument("--parity", action="store_true")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--quick", action="store_true", help="fewer benchmark shapes")
    ap.add_argument("--budget-ms", type=float, default=150.0, help="time per timed case")
    ap.add_argument("--csv", help="append result rows here")
    args = ap.parse_args()
    try:
        lib = Library(os.path.abspath(args.lib))
    except OSError as e:
        print("kernel_check: cannot load %s: %s" % (args.lib, e))
        return 2
    status = 0
    rows = []
    if args.layout:
        problems = check_layout(lib)
        for pr in problems:
            print("layout: FAIL %s" % pr)
        rows.append(("layout", "", "", "mmca_attention_params through ctypes", "%d bytes" % ctypes.sizeof(Params),
                     "ok" if not problems else "FAIL", "; ".join(problems)[:200]))
        status = status or (1 if problems else 0)
    info = probe(lib)
    if args.probe:
        for key in ("library", "dim_heads", "driver_problem", "device_count", "cuda_error", "device"):
            if key in info:
                print("probe: %s = %s" % (key, info[key]))
        for key, val in sorted(info.get("support", {}).items()):
            print("probe: support %s: %s" % (key, val))
    gpu_wanted = args.parity or args.bench
    if gpu_wanted:
        reason = None
        if info.get("driver_problem"):
            reason = info["driver_problem"]
        elif info.get("cuda_error", 0) != 0:
            reason = "cudaGetDeviceCount failed with error %d" % info["cuda_error"]
        elif info.get("device_count", 0) == 0:
            reason = "no CUDA device"
        if reason is None:
            try:
                import torch
                if not torch.cuda.is_available():
                    reason = "torch.cuda.is_available() is False"
            except Exception as e:  # noqa: BLE001
                reason = "PyTorch not importable: %s" % e
        if reason is not None:
            print("kernel_check: skipped: no GPU: %s" % reason)
            rows.append(("gpu", "", "", "parity/bench", "", "skipped", "no GPU: " + reason))
            write_csv(args.csv, rows)
            print_table(rows)
            return status or SKIP
        print("kernel_check: torch %s, cuDNN %s, %s" % (torch.__version__, torch.backends.cudnn.version(),
                                                       torch.cuda.get_device_name(0)))
        t0 = time.time()
        if args.parity:
            failures = parity(lib, torch, rows)
            print("kernel_check: parity %d failures (%.1f s)" % (failures, time.time() - t0))
            status = status or (1 if failures else 0)
        if args.bench:
            failures = bench(lib, torch, rows, args.budget_ms, args.quick)
            status = status or (1 if failures else 0)
    write_csv(args.csv, rows)
    print_table(rows)
    return status


def write_csv(path, rows):
    if not path:
        return
    import csv
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["check", "family", "D", "case", "value", "result", "note"])
        w.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
