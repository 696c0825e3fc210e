"""Checker of exercise 06.insert_non_local: non-local blocks appended to chosen stages of an inflated network.

The check cell calls ``check("06.insert_non_local", insert_non_local)`` where ``insert_non_local(model3d, stages, *,
mode="embedded")`` returns a copy of an inflated ``SmallResNet`` in which each stage listed in ``stages`` ends with a
new ``NonLocalBlock(C, mode=mode, sub_sample=True)`` (``C``: that stage's output channels), on the model's dtype and
device; ``model3d`` is not changed. New blocks are the identity, so the copy computes what ``model3d`` does.
"""

from __future__ import annotations

import torch
from torch import nn

from course_utils.exercises.ex06_support import WIDTHS, clips, small_i3d
from course_utils.exercises.framework import Exercise, close, expect_equal, expect_true, fail, forbid, same
from course_utils.exercises.helpers import max_difference
from course_utils.non_local.block import NonLocalBlock

INSERT_NON_LOCAL = Exercise(
    "06.insert_non_local", "Non-local blocks inserted into the inflated network",
    forbidden=[forbid("must insert the blocks itself", "course_utils.models:insert_non_local")])

COPY_HINT = "start from copy.deepcopy(model3d) and change only the copy"


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def _result(insert_non_local, model3d: nn.Module, stages: tuple[int, ...], **options) -> nn.Module:
    with torch.random.fork_rng():  # new blocks draw their weights: the notebook's random state stays as it was
        model = insert_non_local(model3d, stages, **options)
    if not isinstance(model, nn.Module):
        fail(f"insert_non_local returned a {type(model).__name__}, not a model", hint="return the modified copy")
    if model is model3d:
        fail("insert_non_local returned model3d itself", hint=COPY_HINT)
    if not hasattr(model, "stages") or len(model.stages) != len(model3d.stages):
        fail("the returned model lost its stages", hint="keep the model's structure: model.stages[index] = "
             "nn.Sequential(*old_stage, block)")
    return model


def _blocks(stage: nn.Module) -> list[NonLocalBlock]:
    return [module for module in stage.modules() if isinstance(module, NonLocalBlock)]


@INSERT_NON_LOCAL.case("returns a new model and leaves model3d unchanged")
def _(insert_non_local):
    model3d = small_i3d(1)
    before = _state(model3d)
    model = _result(insert_non_local, model3d, (0, 1))
    expect_true(not _blocks(model3d), what="model3d now holds non-local blocks", hint=COPY_HINT)
    expect_equal(list(model3d.state_dict()), list(before), what="model3d's layers changed", hint=COPY_HINT)
    for name, value in model3d.state_dict().items():
        expect_true(same(value, before[name]), what=f"model3d's {name} changed", hint=COPY_HINT)
    originals = {param.data_ptr() for param in model3d.parameters()}
    shared = [name for name, param in model.named_parameters() if param.data_ptr() in originals]
    expect_true(not shared, what=f"the copy shares {len(shared)} parameter tensors with model3d (e.g. "
                f"{shared[:1]})", hint="copy.copy is not enough: copy.deepcopy copies every layer")


@INSERT_NON_LOCAL.case("one block at the end of each chosen stage, with that stage's channels")
def _(insert_non_local):
    model3d = small_i3d(2)
    for stages in ((1,), (0, 1), (0,)):
        model = _result(insert_non_local, model3d, stages)
        for index, stage in enumerate(model.stages):
            blocks = _blocks(stage)
            if index not in stages:
                expect_true(not blocks, what=f"stages={stages}: stage {index} got a non-local block",
                            hint="add blocks to the listed stages only; stage indices start at 0")
                continue
            expect_equal(len(blocks), 1, what=f"stages={stages}: non-local blocks in stage {index}")
            expect_true(isinstance(stage[len(stage) - 1], NonLocalBlock),
                        what=f"stages={stages}: the block is not the last module of stage {index}",
                        hint="append it after the stage's residual blocks: nn.Sequential(*stage, block)")
            expect_equal(len(stage), len(model3d.stages[index]) + 1,
                         what=f"stages={stages}: modules in stage {index} (its residual blocks, then the block)",
                         hint="keep every residual block and append one NonLocalBlock")
            block = blocks[0]
            expect_equal(block.in_channels, WIDTHS[index], what=f"in_channels of the block after stage {index}",
                         hint="the block takes the stage's output: the channels of its last residual block "
                              "(stage[-1].bn2.num_features)")
            expect_true(block.sub_sample, what=f"the block after stage {index} must sub-sample its keys",
                        hint="NonLocalBlock(C, mode=mode, sub_sample=True)")
            expect_equal(block.mode, "embedded", what="the blocks' default mode")


@INSERT_NON_LOCAL.case("the new blocks are the identity: the outputs do not change")
def _(insert_non_local):
    model3d = small_i3d(3)
    x = clips(30, frames=4)
    with torch.no_grad():
        expected = model3d(x)
    model = _result(insert_non_local, model3d, (0, 1)).eval()
    with torch.no_grad():
        got = model(x)
    if not close(got, expected, atol=1e-12, rtol=0):
        fail(f"the network's scores changed after the insertion (largest difference "
             f"{max_difference(got, expected):.3g})", expected=expected[0], got=got[0],
             hint="use new NonLocalBlocks as they are built: their W_z BatchNorm starts at zero, so each block "
                  "returns its input")


@INSERT_NON_LOCAL.case("the blocks are part of the model: registered, trainable, same dtype, in the forward pass")
def _(insert_non_local):
    model3d = small_i3d(4)
    model = _result(insert_non_local, model3d, (1,), mode="dot").train()
    block = _blocks(model.stages[1])[0]
    expect_equal(block.mode, "dot", what="mode of the block when mode='dot'", hint="pass mode on to NonLocalBlock")
    names = {id(param) for param in model.parameters()}
    expect_true(all(id(param) in names for param in block.parameters()),
                what="the block's parameters are not among the model's parameters",
                hint="put the block inside the model (in the stage's nn.Sequential), not in a list on the side")
    expect_true(all(param.dtype == torch.float64 for param in block.parameters()),
                what="the block is not in the model's dtype (float64 here)",
                hint="move it like the model: block.to(next(model3d.parameters())) (dtype and device)")
    expect_true(all(param.requires_grad for param in block.parameters()), what="the block's parameters are frozen")
    x = clips(40, frames=4)
    (model(x) * torch.linspace(-1, 1, 5, dtype=torch.float64)).sum().backward()
    expect_true(block.W_z[1].weight.grad is not None and bool(block.W_z[1].weight.grad.abs().sum() > 0),
                what="no gradient reaches the block's W_z: the block is not in the forward pass",
                hint="the stage must run the block: model.stages[index] = nn.Sequential(*old_stage, block)")
    model.eval()
    with torch.no_grad():
        before = model(x)
        block.W_z[1].weight.fill_(1.0)                                          # the block stops being the identity
        after = model(x)
    expect_true(not close(before, after, atol=1e-9, rtol=0),
                what="the output ignores the block even when it is no longer the identity",
                hint="the stage must run the block after its residual blocks")


@INSERT_NON_LOCAL.case("no stage listed: an unchanged copy")
def _(insert_non_local):
    model3d = small_i3d(5)
    model = _result(insert_non_local, model3d, ())
    expect_true(not _blocks(model), what="stages=() added a non-local block")
    x = clips(50, frames=4)
    with torch.no_grad():
        expect_true(close(model.eval()(x), model3d(x), atol=1e-12, rtol=0), what="stages=() changed the outputs")


EXERCISES = (INSERT_NON_LOCAL,)
