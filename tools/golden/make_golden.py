#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Golden fixtures for MMCA-MGQA, computed by a PyTorch implementation of SPEC.md.

This is a second, independent implementation of the computation the Java library performs:
plain PyTorch tensor operations in float64, written from SPEC.md. The Java tests compare the
library (and its own float64 oracle) against the files written here.

Usage:
    /usr/bin/python3 tools/golden/make_golden.py --out java/core/src/test/resources/golden [--cases all|simple|interleaved]

Every case writes into <out>/<case-name>/:
    weights.safetensors   the 12 upstream state_dict tensors (F32) and __metadata__
    visual.npy, text.npy  inputs, <f4, [B, Nv, dim] and [B, Nt, dim]
    visual_mask.npy, text_mask.npy  optional, |b1, [B, Nv] and [B, Nt] (true = real token)
    expected_visual.npy, expected_text.npy  outputs, <f8
and <out>/cases.txt lists the case names, one a line.

Interleaved cases (SPEC "Interleaved MMCA") write into <out>/<case-name>/:
    weights.safetensors   the 4 tensors of one block (to_q.weight ...) and __metadata__ (composition interleaved)
    tokens.npy            input, <f4, [B, N, dim]
    modality.npy          [B, N], 0 padding / 1 text / 2 image, as |u1 or <i8 (numpy's default integer)
    expected.npy          output, <f8
and <out>/interleaved_cases.txt lists them.
"""

import argparse
import json
import math
import os
import struct
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

QK_NORM_SCALE = 10.0
BLOCKS = ("visual_self_attn", "textual_self_attn", "cross_attn")
PROJECTIONS = ("to_q", "to_k", "to_v", "to_out")


# ----------------------------------------------------------------------------------------------
# The computation (SPEC.md "One grouped-query attention block" and "SimpleMMCA")
# ----------------------------------------------------------------------------------------------

class MGQA(nn.Module):
    """One grouped-query attention block. Runs in whatever dtype its parameters have."""

    def __init__(self, dim, heads, kv_heads, dim_head, qk_norm, head_mapping):
        super().__init__()
        if heads % kv_heads != 0:
            raise ValueError(f"heads ({heads}) must be a multiple of kv_heads ({kv_heads})")
        if head_mapping not in ("modulo", "grouped"):
            raise ValueError(f"head_mapping must be modulo or grouped, got {head_mapping!r}")
        self.heads = heads
        self.kv_heads = kv_heads
        self.dim_head = dim_head
        self.qk_norm = qk_norm
        self.head_mapping = head_mapping
        self.to_q = nn.Linear(dim, heads * dim_head, bias=False)
        self.to_k = nn.Linear(dim, kv_heads * dim_head, bias=False)
        self.to_v = nn.Linear(dim, kv_heads * dim_head, bias=False)
        self.to_out = nn.Linear(heads * dim_head, dim, bias=False)

    def _split(self, t, n_heads):
        # [B, L, n_heads * D] -> [B, n_heads, L, D]
        b, length, _ = t.shape
        return t.view(b, length, n_heads, self.dim_head).transpose(1, 2)

    def _expand_kv(self, t):
        # [B, G, M, D] -> [B, H, M, D] so that slot h holds kv head g(h).
        r = self.heads // self.kv_heads
        if self.head_mapping == "modulo":
            # slot h = rep * G + g, so slot h holds head h % G
            return t.repeat(1, r, 1, 1)
        # slot h = g * r + rep, so slot h holds head h // r
        return t.repeat_interleave(r, dim=1)

    def forward(self, x, context=None, mask=None, context_mask=None, causal=False):
        kv_in = x if context is None else context
        key_mask = mask if context is None else context_mask
        n = x.shape[1]
        m = kv_in.shape[1]

        q = self._split(self.to_q(x), self.heads)
        k = self._expand_kv(self._split(self.to_k(kv_in), self.kv_heads))
        v = self._expand_kv(self._split(self.to_v(kv_in), self.kv_heads))

        if self.qk_norm:
            q = F.normalize(q, dim=-1)
            k = F.normalize(k, dim=-1)
            scale = QK_NORM_SCALE
        else:
            scale = self.dim_head ** -0.5

        logits = torch.matmul(q, k.transpose(-1, -2)) * scale  # [B, H, N, M]

        # visible[b, i, j]: key j exists and (when causal) j <= i + (M - N)
        visible = torch.ones(x.shape[0], n, m, dtype=torch.bool)
        if key_mask is not None:
            visible = visible & key_mask[:, None, :]
        if causal:
            i = torch.arange(n)[:, None]
            j = torch.arange(m)[None, :]
            visible = visible & (j <= i + (m - n))[None, :, :]
        visible = visible[:, None, :, :]  # broadcast over heads

        probs = torch.softmax(logits.masked_fill(~visible, float("-inf")), dim=-1)
        # a query that sees no key gets an all-zero output instead of softmax's NaN
        sees_any = visible.any(dim=-1, keepdim=True)
        probs = torch.where(sees_any, probs, torch.zeros_like(probs))

        o = torch.matmul(probs, v)  # [B, H, N, D]
        o = o.transpose(1, 2).reshape(x.shape[0], n, self.heads * self.dim_head)
        out = self.to_out(o)
        if mask is not None:
            out = out * mask[:, :, None].to(out.dtype)
        return out


class SimpleMMCA(nn.Module):
    def __init__(self, dim, heads, kv_heads, dim_head, causal, qk_norm, composition, head_mapping):
        super().__init__()
        if composition not in ("cross", "seed"):
            raise ValueError(f"composition must be cross or seed, got {composition!r}")
        self.causal = causal
        self.composition = composition
        args = (dim, heads, kv_heads, dim_head, qk_norm, head_mapping)
        self.visual_self_attn = MGQA(*args)
        self.textual_self_attn = MGQA(*args)
        self.cross_attn = MGQA(*args)

    def forward(self, v, t, v_mask=None, t_mask=None):
        if self.composition == "cross":
            visual = self.visual_self_attn(v, mask=v_mask, causal=False)
            text = (self.textual_self_attn(t, mask=t_mask, causal=self.causal)
                    + self.cross_attn(t, context=visual, mask=t_mask, context_mask=v_mask, causal=False))
            return visual, text
        if v.shape[1] != t.shape[1]:
            raise ValueError(f"seed composition needs Nv == Nt, got {v.shape[1]} and {t.shape[1]}")
        visual = self.visual_self_attn(v, mask=v_mask, causal=self.causal)
        text = (self.textual_self_attn(t, mask=t_mask, causal=self.causal)
                + self.cross_attn(t + visual, mask=t_mask, causal=self.causal))
        return visual, text


class InterleavedMMCA(nn.Module):
    """SPEC "Interleaved MMCA" (DeepSpeed-VisualChat): one block over one sequence of text and image tokens.

    The paper's formula with two additive masks: a text group and an image group per query, each its own softmax
    over the keys its mask allows (-inf elsewhere), the two weighted sums of values added; a group whose mask allows
    no key contributes zero (the paper's code masks with a finite minimum and so adds a near-uniform average there,
    a fault not copied).
    """

    def __init__(self, dim, heads, kv_heads, dim_head, qk_norm, head_mapping, image_attention):
        super().__init__()
        if image_attention not in ("self", "block"):
            raise ValueError(f"image_attention must be self or block, got {image_attention!r}")
        self.block = MGQA(dim, heads, kv_heads, dim_head, qk_norm, head_mapping)
        self.image_attention = image_attention

    def group_masks(self, modality):
        """[B, N, N] boolean masks of the text and the image group of every query row."""
        n = modality.shape[1]
        text = modality == 1
        image = modality == 2
        i = torch.arange(n)[:, None]
        j = torch.arange(n)[None, :]
        causal = (j <= i)[None, :, :]
        q_text = text[:, :, None]
        q_image = image[:, :, None]
        k_text = text[:, None, :]
        k_image = image[:, None, :]
        t_group = q_text & causal & k_text
        i_group = q_text & causal & k_image
        if self.image_attention == "self":
            t_group = t_group | (q_image & causal & k_text)
            i_group = i_group | (q_image & (j == i)[None, :, :])
        else:
            # two image tokens belong to one image when no text token lies between them: the same count of text
            # tokens up to each of them (padding counts as nothing)
            run = torch.cumsum(text.to(torch.int64), dim=1)
            same_image = run[:, :, None] == run[:, None, :]
            i_group = i_group | (q_image & k_image & same_image)
        return t_group, i_group

    def forward(self, x, modality):
        m = self.block
        b, n, _ = x.shape
        q = m._split(m.to_q(x), m.heads)
        k = m._expand_kv(m._split(m.to_k(x), m.kv_heads))
        v = m._expand_kv(m._split(m.to_v(x), m.kv_heads))
        if m.qk_norm:
            q = F.normalize(q, dim=-1)
            k = F.normalize(k, dim=-1)
            scale = QK_NORM_SCALE
        else:
            scale = m.dim_head ** -0.5
        logits = torch.matmul(q, k.transpose(-1, -2)) * scale  # [B, H, N, N]
        o = torch.zeros_like(q)
        for group in self.group_masks(modality):
            allowed = group[:, None, :, :]
            probs = torch.softmax(logits.masked_fill(~allowed, float("-inf")), dim=-1)
            probs = torch.where(allowed.any(dim=-1, keepdim=True), probs, torch.zeros_like(probs))
            o = o + torch.matmul(probs, v)
        o = o.transpose(1, 2).reshape(b, n, m.heads * m.dim_head)
        out = m.to_out(o)
        return out * (modality != 0)[:, :, None].to(out.dtype)


# ----------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    covers: str
    composition: str
    dim: int
    heads: int
    kv_heads: int
    dim_head: int
    causal: bool
    batch: int
    nv: int
    nt: int
    qk_norm: bool = False
    head_mapping: str = "modulo"
    # each mask: None, ("lengths", [..]) or ("scattered", probability of a real token);
    # visual_empty_rows forces those batch rows of the visual mask to all false
    visual_mask: Optional[tuple] = None
    text_mask: Optional[tuple] = None
    visual_empty_rows: Sequence[int] = field(default_factory=tuple)
    text_empty_rows: Sequence[int] = field(default_factory=tuple)


CASES = [
    Case("cross-mha-causal-nomask", "CROSS, MHA (kv_heads = heads), causal text, no masks",
         "cross", dim=32, heads=4, kv_heads=4, dim_head=16, causal=True, batch=2, nv=6, nt=6),
    Case("cross-gqa-modulo-prefix-emptyvisual",
         "CROSS, GQA 4:2 modulo, Nv 7 != Nt 5, prefix-length masks, batch row 2 has an all-false visual mask",
         "cross", dim=40, heads=4, kv_heads=2, dim_head=16, causal=True, batch=3, nv=7, nt=5,
         visual_mask=("lengths", [7, 3, 0]), text_mask=("lengths", [5, 2, 4])),
    Case("cross-gqa-grouped-scattered-bidir",
         "CROSS, GQA 6:2 grouped, not causal, scattered masks, Nv 9 > Nt 4, odd dim 40",
         "cross", dim=40, heads=6, kv_heads=2, dim_head=8, causal=False, batch=2, nv=9, nt=4,
         head_mapping="grouped", visual_mask=("scattered", 0.6), text_mask=("scattered", 0.7)),
    Case("cross-mqa-qknorm-causal", "CROSS, MQA (kv_heads 1), qk_norm, causal, Nt 8 > Nv 5, no masks",
         "cross", dim=24, heads=4, kv_heads=1, dim_head=12, causal=True, batch=2, nv=5, nt=8, qk_norm=True),
    Case("cross-dimhead80", "CROSS, dim_head 80, GQA 2:1, causal, text mask only",
         "cross", dim=48, heads=2, kv_heads=1, dim_head=80, causal=True, batch=2, nv=4, nt=3,
         text_mask=("lengths", [3, 2])),
    Case("cross-grouped-qknorm-emptyrows",
         "CROSS, GQA 4:2 grouped, qk_norm, not causal, an all-false visual row and an all-false text row",
         "cross", dim=32, heads=4, kv_heads=2, dim_head=16, causal=False, batch=3, nv=6, nt=5,
         head_mapping="grouped", qk_norm=True, visual_mask=("scattered", 0.7), text_mask=("scattered", 0.8),
         visual_empty_rows=(1,), text_empty_rows=(2,)),
    Case("seed-mha-nomask", "SEED, MHA, not causal (upstream default), no masks",
         "seed", dim=32, heads=4, kv_heads=4, dim_head=16, causal=False, batch=2, nv=6, nt=6),
    Case("seed-gqa-grouped-causal-prefix", "SEED, GQA 8:2 grouped, causal, prefix-length masks, dim 40",
         "seed", dim=40, heads=8, kv_heads=2, dim_head=8, causal=True, batch=3, nv=5, nt=5,
         head_mapping="grouped", visual_mask=("lengths", [5, 1, 3]), text_mask=("lengths", [4, 5, 2])),
    Case("seed-mqa-qknorm-scattered-emptyvisual",
         "SEED, MQA, qk_norm, not causal, scattered masks, batch row 1 has an all-false visual mask",
         "seed", dim=24, heads=4, kv_heads=1, dim_head=12, causal=False, batch=2, nv=7, nt=7, qk_norm=True,
         visual_mask=("scattered", 0.6), text_mask=("scattered", 0.7), visual_empty_rows=(1,)),
    Case("seed-gqa-modulo-causal-odd", "SEED, GQA 6:3 modulo, causal, odd sizes (dim 40, N 7, dim_head 10), visual mask only",
         "seed", dim=40, heads=6, kv_heads=3, dim_head=10, causal=True, batch=1, nv=7, nt=7,
         visual_mask=("scattered", 0.6)),
]


def make_mask(spec, batch, length, empty_rows, gen):
    if spec is None:
        return None
    kind, arg = spec
    if kind == "lengths":
        if len(arg) != batch:
            raise ValueError(f"{len(arg)} lengths for batch {batch}")
        mask = torch.arange(length)[None, :] < torch.tensor(arg)[:, None]
    elif kind == "scattered":
        mask = torch.rand(batch, length, generator=gen) < arg
        mask[:, 0] = True  # keep every row non-empty unless it is listed as empty
    else:
        raise ValueError(kind)
    for r in empty_rows:
        mask[r, :] = False
    return mask


def init_weights(model, dim, inner, gen):
    """Float32 weights, wider than nn.Linear's default so that the softmaxes are far from uniform."""
    with torch.no_grad():
        for block in BLOCKS:
            mod = getattr(model, block)
            for proj in ("to_q", "to_k", "to_v"):
                w = getattr(mod, proj).weight
                w.copy_(torch.randn(w.shape, generator=gen, dtype=torch.float32) * (1.5 / math.sqrt(dim)))
            w = mod.to_out.weight
            w.copy_(torch.randn(w.shape, generator=gen, dtype=torch.float32) * (1.0 / math.sqrt(inner)))


def write_safetensors(path, tensors, metadata):
    """safetensors by hand: u64 LE header length, JSON header (space-padded to 8 bytes), raw LE data."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, arr in tensors:
        data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def forward64(case, state, visual, text, v_mask, t_mask, **changes):
    """The case's model (optionally with some settings changed) on the given float32 weights, in float64."""
    settings = dict(dim=case.dim, heads=case.heads, kv_heads=case.kv_heads, dim_head=case.dim_head,
                    causal=case.causal, qk_norm=case.qk_norm, composition=case.composition,
                    head_mapping=case.head_mapping)
    settings.update(changes)
    model = SimpleMMCA(**settings)
    model.load_state_dict(state)
    model = model.double()
    with torch.no_grad():
        return model(visual.double(), text.double(), v_mask, t_mask)


def check_discriminates(case, state, visual, text, v_mask, t_mask, exp_visual, exp_text):
    """A fixture is only useful if the usual mistakes move its outputs far beyond the 1e-5 test bound."""
    variants = {"causal flipped": dict(causal=not case.causal)}
    if 1 < case.kv_heads < case.heads:
        other = "grouped" if case.head_mapping == "modulo" else "modulo"
        variants["head mapping " + other] = dict(head_mapping=other)
    if case.composition == "cross" and case.nv == case.nt:
        variants["composition seed"] = dict(composition="seed")
    if case.composition == "seed":
        variants["composition cross"] = dict(composition="cross")
    if case.qk_norm:
        variants["qk_norm off"] = dict(qk_norm=False)
    results = {label: forward64(case, state, visual, text, v_mask, t_mask, **ch) for label, ch in variants.items()}
    if v_mask is not None or t_mask is not None:
        results["masks ignored"] = forward64(case, state, visual, text, None, None)
    ref = torch.cat([exp_visual.flatten(), exp_text.flatten()])
    for label, (vis, txt) in results.items():
        rel = (torch.cat([vis.flatten(), txt.flatten()]) - ref).norm() / ref.norm()
        if rel < 1e-3:
            raise AssertionError(f"{case.name}: output barely changes with {label} (relative {rel:.2e})")


def run_case(case, index, out_dir):
    gen = torch.Generator().manual_seed(20240 + index)
    model = SimpleMMCA(case.dim, case.heads, case.kv_heads, case.dim_head, case.causal, case.qk_norm,
                       case.composition, case.head_mapping)
    init_weights(model, case.dim, case.heads * case.dim_head, gen)

    visual = torch.randn(case.batch, case.nv, case.dim, generator=gen, dtype=torch.float32)
    text = torch.randn(case.batch, case.nt, case.dim, generator=gen, dtype=torch.float32)
    v_mask = make_mask(case.visual_mask, case.batch, case.nv, case.visual_empty_rows, gen)
    t_mask = make_mask(case.text_mask, case.batch, case.nt, case.text_empty_rows, gen)

    # The float32 values are the data; the computation runs on them widened to float64.
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model64 = model.double()
    with torch.no_grad():
        exp_visual, exp_text = model64(visual.double(), text.double(), v_mask, t_mask)

    for name, t in (("visual", exp_visual), ("text", exp_text)):
        if not torch.isfinite(t).all():
            raise AssertionError(f"{case.name}: non-finite expected {name}")
    for mask, t in ((v_mask, exp_visual), (t_mask, exp_text)):
        if mask is not None and (t[~mask] != 0).any():
            raise AssertionError(f"{case.name}: masked rows are not zero")

    check_discriminates(case, state, visual, text, v_mask, t_mask, exp_visual, exp_text)

    d = os.path.join(out_dir, case.name)
    os.makedirs(d, exist_ok=True)
    for stale in ("visual_mask.npy", "text_mask.npy"):
        if os.path.exists(os.path.join(d, stale)):
            os.remove(os.path.join(d, stale))
    names = [f"{b}.{p}.weight" for b in BLOCKS for p in PROJECTIONS]
    metadata = {
        "heads": str(case.heads),
        "kv_heads": str(case.kv_heads),
        "dim_head": str(case.dim_head),
        "causal": "true" if case.causal else "false",
        "qk_norm": "true" if case.qk_norm else "false",
        "composition": case.composition,
        "head_mapping": case.head_mapping,
    }
    write_safetensors(os.path.join(d, "weights.safetensors"), [(n, state[n].numpy()) for n in names], metadata)
    np.save(os.path.join(d, "visual.npy"), visual.numpy().astype("<f4"))
    np.save(os.path.join(d, "text.npy"), text.numpy().astype("<f4"))
    if v_mask is not None:
        np.save(os.path.join(d, "visual_mask.npy"), v_mask.numpy().astype("|b1"))
    if t_mask is not None:
        np.save(os.path.join(d, "text_mask.npy"), t_mask.numpy().astype("|b1"))
    np.save(os.path.join(d, "expected_visual.npy"), exp_visual.numpy().astype("<f8"))
    np.save(os.path.join(d, "expected_text.npy"), exp_text.numpy().astype("<f8"))


# ----------------------------------------------------------------------------------------------
# Interleaved cases
# ----------------------------------------------------------------------------------------------

@dataclass
class InterleavedCase:
    name: str
    covers: str
    dim: int
    heads: int
    kv_heads: int
    dim_head: int
    rows: Sequence[str]  # one per batch element: runs such as "t3 i5 .2" (3 text, 5 image, 2 padding tokens)
    image_attention: str = "self"
    qk_norm: bool = False
    head_mapping: str = "modulo"
    modality_dtype: str = "<i8"


def layout(runs):
    out = []
    for part in runs.split():
        out += [{"t": 1, "i": 2, ".": 0}[part[0]]] * int(part[1:])
    return out


INTERLEAVED_CASES = [
    InterleavedCase("interleaved-images-first", "images at the start of the sequence, GQA 4:2 modulo, rule self",
                    dim=32, heads=4, kv_heads=2, dim_head=8, rows=("i6 t6", "i3 t9")),
    InterleavedCase("interleaved-back-to-back", "two images with no text between them (one run), GQA 6:2 grouped,"
                    " rule block, |u1 modality", dim=24, heads=6, kv_heads=2, dim_head=8,
                    rows=("t2 i4 i3 t3", "i5 t1 i6"), image_attention="block", head_mapping="grouped",
                    modality_dtype="|u1"),
    InterleavedCase("interleaved-no-images", "text only (causal GQA attention), MQA, qk_norm",
                    dim=24, heads=4, kv_heads=1, dim_head=12, rows=("t10", "t10"), qk_norm=True),
    InterleavedCase("interleaved-padding-block", "padding before, inside and after images, GQA 4:2 grouped, rule block",
                    dim=32, heads=4, kv_heads=2, dim_head=8, rows=(".3 t3 i5 t1", "t2 i3 .2 i2 t3", "t4 i4 .4"),
                    image_attention="block", head_mapping="grouped"),
    InterleavedCase("interleaved-padding-self", "the same padding under rule self, MHA, dim_head 16, |u1 modality",
                    dim=32, heads=2, kv_heads=2, dim_head=16, rows=(".3 t3 i5 t1", "t2 i3 .2 i2 t3", "t4 i4 .4"),
                    modality_dtype="|u1"),
    InterleavedCase("interleaved-long-block", "100 tokens, images across the kernels' query and key tiles, GQA 8:2"
                    " grouped, rule block", dim=40, heads=8, kv_heads=2, dim_head=16,
                    rows=("t10 i40 t5 i30 t15", "i45 t5 i45 .5"), image_attention="block", head_mapping="grouped"),
    InterleavedCase("interleaved-long-self", "the same 100 tokens under rule self, GQA 8:2 modulo, qk_norm",
                    dim=40, heads=8, kv_heads=2, dim_head=16, rows=("t10 i40 t5 i30 t15", "i45 t5 i45 .5"),
                    qk_norm=True),
]


def forward_interleaved(case, state, x, modality, **changes):
    settings = dict(dim=case.dim, heads=case.heads, kv_heads=case.kv_heads, dim_head=case.dim_head,
                    qk_norm=case.qk_norm, head_mapping=case.head_mapping, image_attention=case.image_attention)
    settings.update(changes)
    model = InterleavedMMCA(**settings)
    model.block.load_state_dict(state)
    model = model.double()
    with torch.no_grad():
        return model(x.double(), modality)


def one_softmax(case, state, x, modality):
    """The mistake of one softmax over both groups (text and image keys together)."""
    model = InterleavedMMCA(case.dim, case.heads, case.kv_heads, case.dim_head, case.qk_norm, case.head_mapping,
                            case.image_attention)
    model.block.load_state_dict(state)
    model = model.double()
    t_group, i_group = model.group_masks(modality)
    merged = t_group | i_group
    model.group_masks = lambda _: (merged, torch.zeros_like(merged))
    with torch.no_grad():
        return model(x.double(), modality)


def run_interleaved_case(case, index, out_dir):
    gen = torch.Generator().manual_seed(31337 + index)
    rows = [layout(r) for r in case.rows]
    n = len(rows[0])
    if any(len(r) != n for r in rows):
        raise ValueError(f"{case.name}: rows of different lengths")
    modality = torch.tensor(rows, dtype=torch.int64)
    model = InterleavedMMCA(case.dim, case.heads, case.kv_heads, case.dim_head, case.qk_norm, case.head_mapping,
                            case.image_attention)
    with torch.no_grad():
        for proj in ("to_q", "to_k", "to_v"):
            w = getattr(model.block, proj).weight
            w.copy_(torch.randn(w.shape, generator=gen, dtype=torch.float32) * (1.5 / math.sqrt(case.dim)))
        w = model.block.to_out.weight
        w.copy_(torch.randn(w.shape, generator=gen, dtype=torch.float32) * (1.0 / math.sqrt(case.heads * case.dim_head)))
    x = torch.randn(len(rows), n, case.dim, generator=gen, dtype=torch.float32)
    state = {k: v.detach().clone() for k, v in model.block.state_dict().items()}
    expected = forward_interleaved(case, state, x, modality)
    if not torch.isfinite(expected).all():
        raise AssertionError(f"{case.name}: non-finite expected output")
    if (expected[modality == 0] != 0).any():
        raise AssertionError(f"{case.name}: padding rows are not zero")

    # a fixture is only useful if the usual mistakes move its outputs far beyond the 1e-5 test bound
    variants = {"one softmax over both groups": one_softmax(case, state, x, modality)}
    if (modality == 2).any():
        other = "block" if case.image_attention == "self" else "self"
        variants["image rule " + other] = forward_interleaved(case, state, x, modality, image_attention=other)
    if 1 < case.kv_heads < case.heads:
        other = "grouped" if case.head_mapping == "modulo" else "modulo"
        variants["head mapping " + other] = forward_interleaved(case, state, x, modality, head_mapping=other)
    if case.qk_norm:
        variants["qk_norm off"] = forward_interleaved(case, state, x, modality, qk_norm=False)
    if (modality == 0).any():
        variants["padding as text"] = forward_interleaved(case, state, x, torch.where(modality == 0, 1, modality))
    for label, out in variants.items():
        if label == "one softmax over both groups" and not ((modality == 1).any() and (modality == 2).any()):
            continue  # one modality only: one group per row, the mistake changes nothing
        rel = (out.flatten() - expected.flatten()).norm() / expected.flatten().norm()
        if rel < 1e-3:
            raise AssertionError(f"{case.name}: output barely changes with {label} (relative {rel:.2e})")

    d = os.path.join(out_dir, case.name)
    os.makedirs(d, exist_ok=True)
    metadata = {
        "heads": str(case.heads),
        "kv_heads": str(case.kv_heads),
        "dim_head": str(case.dim_head),
        "causal": "true",
        "qk_norm": "true" if case.qk_norm else "false",
        "composition": "interleaved",
        "head_mapping": case.head_mapping,
        "image_attention": case.image_attention,
    }
    write_safetensors(os.path.join(d, "weights.safetensors"),
                      [(f"{p}.weight", state[f"{p}.weight"].numpy()) for p in PROJECTIONS], metadata)
    np.save(os.path.join(d, "tokens.npy"), x.numpy().astype("<f4"))
    np.save(os.path.join(d, "modality.npy"), modality.numpy().astype(case.modality_dtype))
    np.save(os.path.join(d, "expected.npy"), expected.numpy().astype("<f8"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder that receives one sub-folder per case and cases.txt")
    parser.add_argument("--cases", choices=("all", "simple", "interleaved"), default="all",
                        help="which fixtures to write (default all)")
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    if args.cases in ("all", "simple"):
        for i, case in enumerate(CASES):
            run_case(case, i, args.out)
            print(f"{case.name}: {case.covers}")
        with open(os.path.join(args.out, "cases.txt"), "w") as f:
            for case in CASES:
                f.write(case.name + "\n")
    if args.cases in ("all", "interleaved"):
        for i, case in enumerate(INTERLEAVED_CASES):
            run_interleaved_case(case, i, args.out)
            print(f"{case.name}: {case.covers}")
        with open(os.path.join(args.out, "interleaved_cases.txt"), "w") as f:
            for case in INTERLEAVED_CASES:
                f.write(case.name + "\n")


if __name__ == "__main__":
    main()
