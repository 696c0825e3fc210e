"""Checker of exercise 05.subsampling: queries, keys and values of a block, with the sub-sampling trick.

The check cell calls ``check("05.subsampling", embed)`` where ``embed(block, x)`` returns ``(theta_x, phi_x, g_x)``
of shapes ``(B, N, Cq)``, ``(B, Cq, M)`` and ``(B, M, C')`` for a ``course_utils.non_local.NonLocalBlock``: when
``block.sub_sample`` is True, keys and values are max-pooled by ``(1, 2, 2)`` after ``phi`` and ``g`` (the mmcv order;
gaussian: ``phi_x = pool(x)``), and queries never are.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from course_utils.exercises.ex05_support import fixed_block
from course_utils.exercises.framework import Exercise, close, course, expect_true, fail, forbid
from course_utils.exercises.helpers import expect_tensor, max_difference, random_tensor
from course_utils.non_local.block import MODES, pairwise_weights
from course_utils.non_local.block import embed as reference_embed

SUBSAMPLING = Exercise(
    "05.subsampling", "The sub-sampling trick: pooled keys and values",
    forbidden=[forbid("must compute the queries, keys and values itself", "course_utils.non_local.block:embed")],
    substitutes={"pairwise_weights": pairwise_weights})

B, C, T, H, W = 2, 6, 3, 5, 7  # odd H and W: max-pooling by 2 floors them to 2 and 3
N, M = T * H * W, T * (H // 2) * (W // 2)


def _embed(embed, block, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The student's (theta_x, phi_x, g_x) as plain float64 tensors (shapes are checked by the cases)."""
    out = embed(block, x.clone())
    expect_true(isinstance(out, tuple) and len(out) == 3, what="embed must return a tuple (theta_x, phi_x, g_x)",
                expected="3 tensors", got=type(out).__name__)
    return tuple(expect_tensor(tensor, shape=None, what=f"{name} of embed(block, x)")
                 for name, tensor in zip(("theta_x", "phi_x", "g_x"), out, strict=True))


def _shapes(block, num_keys: int) -> dict[str, tuple[int, int, int]]:
    query_channels = C if block.mode == "gaussian" else block.inter_channels
    return {"theta_x": (B, N, query_channels), "phi_x": (B, query_channels, num_keys),
            "g_x": (B, num_keys, block.inter_channels)}


@SUBSAMPLING.case("queries are never pooled, keys and values are pooled over space only")
def _(embed):
    x = random_tensor(B, C, T, H, W, seed=200)
    for mode in MODES:
        block = fixed_block(mode, sub_sample=True, seed=201)
        got = _embed(embed, block, x)
        hints = {"theta_x": "queries keep every position: y_i is needed for every i, so theta is never pooled",
                 "phi_x": f"keys: pool (1, 2, 2) keeps T={T} frames and floors H, W: M = T*(H//2)*(W//2) = {M}",
                 "g_x": f"values are pooled like the keys: M = {M}, laid out (B, M, C')"}
        for (name, shape), tensor in zip(_shapes(block, M).items(), got, strict=False):
            expect_tensor(tensor, shape=shape, what=f"{name} of a {mode} block with sub_sample=True",
                          hint=hints[name])


@SUBSAMPLING.case("nothing is pooled when block.sub_sample is False")
def _(embed):
    x = random_tensor(B, C, T, H, W, seed=210)
    for mode in ("gaussian", "concatenate"):
        block = fixed_block(mode, seed=211)
        got = _embed(embed, block, x)
        for (name, shape), tensor in zip(_shapes(block, N).items(), got, strict=False):
            expect_tensor(tensor, shape=shape, what=f"{name} of a {mode} block with sub_sample=False",
                          hint="pool only when block.sub_sample is True")


@SUBSAMPLING.case("max-pool after the 1x1x1 convolutions (conv, then pool)")
def _(embed):
    x = random_tensor(B, C, T, H, W, seed=220)
    for mode in ("embedded", "dot"):
        block = fixed_block(mode, sub_sample=True, seed=221)
        with course():
            expected = reference_embed(block, x)
        pooled_x = F.max_pool3d(x, (1, 2, 2))
        # (B, C', T, H', W') -> (B, C', M), and for values -> (B, M, C')
        caffe2 = {"phi_x": block.phi(pooled_x).reshape(B, block.inter_channels, -1),
                  "g_x": block.g(pooled_x).reshape(B, block.inter_channels, -1).permute(0, 2, 1)}
        averaged = {"phi_x": F.avg_pool3d(block.phi(x), (1, 2, 2)).reshape(B, block.inter_channels, -1),
                    "g_x": F.avg_pool3d(block.g(x), (1, 2, 2)).reshape(B, block.inter_channels, -1).permute(0, 2, 1)}
        got = _embed(embed, block, x)
        for name, mine, ref in zip(("theta_x", "phi_x", "g_x"), got, expected, strict=True):
            if close(mine, ref, atol=1e-10):
                continue
            hint = "theta_x = theta(x), phi_x = pool(phi(x)), g_x = pool(g(x)), then flatten as the lecture does"
            if name in caffe2 and close(mine, caffe2[name], atol=1e-10):
                hint = ("you pooled x before the convolution (the Caffe2 original's order); max-pooling does not "
                        "commute with a 1x1 conv, and this course follows mmcv: conv first, then pool")
            if name in averaged and close(mine, averaged[name], atol=1e-10):
                hint = "the trick uses max-pooling, not average pooling"
            fail(f"{mode}: {name} differs from the reference (largest difference "
                 f"{max_difference(mine, ref) if mine.shape == ref.shape else float('nan'):.3g})",
                 expected=ref[0, 0], got=mine[0, 0], hint=hint)


@SUBSAMPLING.case("gaussian: theta_x is x, phi_x is pool(x)")
def _(embed):
    x = random_tensor(B, C, T, H, W, seed=230)
    block = fixed_block("gaussian", sub_sample=True, seed=231)
    with course():
        expected_theta, expected_phi, _ = reference_embed(block, x)
    theta_x, phi_x, _ = _embed(embed, block, x)
    for name, mine, ref in (("theta_x", theta_x, expected_theta), ("phi_x", phi_x, expected_phi)):
        if not close(mine, ref, atol=1e-12):
            fail(f"gaussian: {name} differs from the reference", expected=ref[0, 0], got=mine[0, 0],
                 hint="gaussian has no embeddings: theta_x comes from x itself, phi_x from max-pooled x")


@SUBSAMPLING.case("the block's output with your embeddings matches the reference, every mode")
def _(embed):
    x = random_tensor(B, C, T, H, W, seed=240)
    for mode in MODES:
        block = fixed_block(mode, sub_sample=True, seed=241)
        with course():
            expected = block(x)
        theta_x, phi_x, g_x = _embed(embed, block, x)
        with course():
            weights = pairwise_weights(theta_x, phi_x, mode, getattr(block, "W_f", None))  # (B, N, M)
            y = torch.matmul(weights, g_x)  # (B, N, M) @ (B, M, C') -> (B, N, C')
            # (B, N, C') -> (B, C', N) -> (B, C', T, H, W)
            z = block.W_z(y.permute(0, 2, 1).reshape(B, block.inter_channels, T, H, W)) + x
        if not close(z, expected, atol=1e-10):
            fail(f"{mode}: z computed from your (theta_x, phi_x, g_x) differs from the block's output (largest "
                 f"difference {max_difference(z, expected):.3g})",
                 hint="check the flattening order: (B, C', T, H', W') -> (B, C', M) keeps T, H', W' in that order")


EXERCISES = (SUBSAMPLING,)
