"""Checker of exercise 05.non_local_forward: the block's forward pass with its residual connection.

The check cell calls ``check("05.non_local_forward", non_local_forward)`` where ``non_local_forward(block, x)``
computes ``z = W_z(y) + x`` for a ``course_utils.non_local.NonLocalBlock`` built without sub-sampling and features
``x`` of shape ``(B, C, T, H, W)``. The reference blocks have fixed non-zero weights, ``W_z`` included.
"""

from __future__ import annotations

import torch

from course_utils.exercises.ex05_support import fixed_block, new_block, non_contiguous
from course_utils.exercises.framework import Exercise, close, course, expect_true, fail, forbid, plain, same
from course_utils.exercises.helpers import expect_tensor, max_difference, random_tensor
from course_utils.non_local.block import MODES, pairwise_weights

NON_LOCAL_FORWARD = Exercise(
    "05.non_local_forward", "The non-local block's forward pass",
    forbidden=[forbid("must compute the block's output itself",
                      "course_utils.non_local.block:NonLocalBlock.forward",
                      "course_utils.non_local.block:NonLocalBlock._forward_fast",
                      "course_utils.non_local.block:embed",
                      "course_utils.non_local.fast:attend_fast",
                      "course_utils.non_local.fast:concat_attention_sorted")],
    substitutes={"pairwise_weights": pairwise_weights})  # exercise 05.pairwise_functions is graded on its own

SHAPE = (2, 6, 3, 4, 5)  # (B, C, T, H, W): T, H, W all different so that mixed-up axes show
RESHAPE_HINT = ("flatten (B, C', T, H, W) to (B, C', N) with reshape, permute to (B, N, C'), and back the same way: "
                "y.permute(0, 2, 1).reshape(B, C', T, H, W); .view after .permute needs .contiguous()")


def _reference(block, x: torch.Tensor) -> torch.Tensor:
    """The course block's output, computed before the student's function sees the block."""
    with course():
        return block(x).detach()


def _expect_reference(non_local_forward, block, x: torch.Tensor, *, what: str, hint: str) -> torch.Tensor:
    expected = _reference(block, x)
    got = expect_tensor(non_local_forward(block, x.clone()), shape=tuple(x.shape), what=what,
                        hint="z = W_z(y) + x has the input's shape")
    if not close(got, expected, atol=1e-10, rtol=1e-8):
        fail(f"{what} differs from the reference block (largest difference {max_difference(got, expected):.3g})",
             expected=expected[0, 0, 0], got=got[0, 0, 0], hint=hint)
    return got


@NON_LOCAL_FORWARD.case("a new block is the identity (residual connection)")
def _(non_local_forward):
    x = random_tensor(*SHAPE, seed=100)
    for mode in MODES:
        got = expect_tensor(non_local_forward(new_block(mode), x.clone()), shape=SHAPE,
                            what=f"non_local_forward of a new {mode} block", hint="z has the input's shape")
        if not same(got, x):
            hint = ("a new block's W_z outputs exactly 0, so z must be x: return W_z(y) + x"
                    if same(got, x * 0) else "return W_z(y) + x: the residual adds x once, unchanged")
            fail(f"{mode}: a new block must return its input exactly", expected=x[0, 0, 0], got=got[0, 0, 0],
                 hint=hint)


@NON_LOCAL_FORWARD.case("matches the reference on fixed non-zero weights, every mode")
def _(non_local_forward):
    x = random_tensor(*SHAPE, seed=110)
    hints = {"gaussian": "gaussian uses x itself for theta and phi (the block has no theta/phi)",
             "embedded": "embedded: softmax over j of theta_i . phi_j, no 1/sqrt(d)",
             "dot": "dot: theta_i . phi_j / M", "concatenate": "concatenate: ReLU(W_f [theta_i, phi_j]) / M"}
    for mode in MODES:
        block = fixed_block(mode, seed=111)
        _expect_reference(non_local_forward, block, x, what=f"non_local_forward of a {mode} block",
                          hint=f"{hints[mode]}; y = weights @ g_x; z = W_z(y) + x. {RESHAPE_HINT}")


@NON_LOCAL_FORWARD.case("bn=False (W_z is a single conv) and in_channels=1")
def _(non_local_forward):
    x = random_tensor(*SHAPE, seed=120)
    _expect_reference(non_local_forward, fixed_block("embedded", bn=False, seed=121), x,
                      what="non_local_forward of an embedded block with bn=False",
                      hint="call block.W_z(y) whatever it contains")
    x1 = random_tensor(2, 1, 3, 4, 5, seed=122)
    for mode in MODES:
        _expect_reference(non_local_forward, fixed_block(mode, in_channels=1, seed=123), x1,
                          what=f"non_local_forward of a {mode} block with in_channels=1",
                          hint="use block.inter_channels and x's own sizes; don't hard-code channel counts")


@NON_LOCAL_FORWARD.case("videos in a batch do not mix")
def _(non_local_forward):
    x = random_tensor(*SHAPE, seed=130)
    for mode in ("embedded", "concatenate"):
        block = fixed_block(mode, seed=131)
        both = expect_tensor(non_local_forward(block, x.clone()), shape=SHAPE, what=f"non_local_forward ({mode})")
        for index in range(SHAPE[0]):
            alone = expect_tensor(non_local_forward(block, x[index:index + 1].clone()), shape=(1, *SHAPE[1:]),
                                  what=f"non_local_forward of video {index} alone ({mode})")
            if not close(both[index:index + 1], alone, atol=1e-10):
                fail(f"{mode}: video {index}'s output changes when another video is in the batch",
                     hint="keep the batch axis first in every reshape: (B, C', N), never (C', B*N)")


@NON_LOCAL_FORWARD.case("permuting the positions permutes the output the same way")
def _(non_local_forward):
    x = random_tensor(*SHAPE, seed=140)
    batch, channels = SHAPE[:2]
    order = torch.randperm(SHAPE[2] * SHAPE[3] * SHAPE[4], generator=torch.Generator().manual_seed(141))
    # (B, C, T, H, W) -> (B, C, N) -> permuted positions -> (B, C, T, H, W)
    x_permuted = x.reshape(batch, channels, -1)[:, :, order].reshape(SHAPE)
    for mode in ("gaussian", "embedded", "dot"):
        block = fixed_block(mode, seed=142)
        z = expect_tensor(non_local_forward(block, x.clone()), shape=SHAPE, what=f"non_local_forward ({mode})")
        z_permuted = expect_tensor(non_local_forward(block, x_permuted.clone()), shape=SHAPE,
                                   what=f"non_local_forward of permuted positions ({mode})")
        # (B, C, T, H, W) -> (B, C, N)
        if not close(z_permuted.reshape(batch, channels, -1), z.reshape(batch, channels, -1)[:, :, order],
                     atol=1e-10):
            fail(f"{mode}: the output is not permuted along with the input positions",
                 hint="each output position i must stay paired with its own input x_i. " + RESHAPE_HINT)


@NON_LOCAL_FORWARD.case("works on a non-contiguous input")
def _(non_local_forward):
    x = non_contiguous(random_tensor(*SHAPE, seed=150))
    for mode in ("gaussian", "dot"):
        _expect_reference(non_local_forward, fixed_block(mode, seed=151), x,
                          what=f"non_local_forward of a {mode} block on a non-contiguous x", hint=RESHAPE_HINT)


@NON_LOCAL_FORWARD.case("gradients reach every parameter, as in the reference")
def _(non_local_forward):
    x = random_tensor(*SHAPE, seed=160)
    for mode in MODES:
        block = fixed_block(mode, seed=161)
        params = [param for _, param in block.named_parameters()]
        names = [name for name, _ in block.named_parameters()]
        probe = random_tensor(*SHAPE, seed=162)
        with course():
            reference = torch.autograd.grad((block(x) * probe).sum(), params)
        got = non_local_forward(block, x.clone())
        got = plain(got) if isinstance(got, torch.Tensor) else got
        expect_true(isinstance(got, torch.Tensor) and got.requires_grad,
                    what=f"{mode}: the output must depend on the block's parameters",
                    hint="use the block's modules (block.g, block.W_z, ...) with torch ops; no .detach()")
        got = expect_tensor(got, shape=SHAPE, what=f"non_local_forward of a {mode} block")
        mine = torch.autograd.grad((got * probe).sum(), params, allow_unused=True)
        for name, grad, ref in zip(names, mine, reference, strict=True):
            if grad is None or not close(grad, ref, atol=1e-9, rtol=1e-7):
                fail(f"{mode}: the gradient of {name} differs from the reference",
                     expected="the reference gradient", got="no gradient" if grad is None else "a different one",
                     hint="every module of the block takes part in z = W_z(y) + x")


EXERCISES = (NON_LOCAL_FORWARD,)
