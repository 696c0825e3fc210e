"""The small 2D ResNet: shapes, residual structure, bad inputs, and inflation (torchvision's resnet18 when present)."""

from __future__ import annotations

import pytest
import torch

from course_utils.exercises.ex03_support import randomize
from course_utils.inflation.fixed_point import boring_video_difference
from course_utils.inflation.inflate import inflate_model
from course_utils.inflation.resnet2d import BasicBlock, SmallResNet, build_small_resnet, make_basic_block


def test_builder_shapes_and_structure():
    model = build_small_resnet(in_channels=3, num_classes=5, widths=(8, 16, 32), blocks_per_stage=2)
    assert isinstance(model, SmallResNet) and len(model.stages) == 3
    assert all(isinstance(block, BasicBlock) for stage in model.stages for block in stage)
    assert model.stages[0][0].downsample is None and model.stages[1][0].downsample is not None
    x = torch.randn(2, 3, 32, 32)
    assert model(x).shape == (2, 5) and model.features(x).shape == (2, 32)
    assert build_small_resnet(stem_stride=2)(torch.randn(1, 3, 32, 32)).shape == (1, 8)


def test_basic_block_is_residual():
    block = make_basic_block(4, 4)
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    block.eval()
    x = torch.rand(2, 4, 6, 6)  # non-negative: relu(0 + x) == x
    assert torch.equal(block(x), x)
    down = make_basic_block(4, 8, stride=2)
    assert down(x).shape == (2, 8, 3, 3)


def test_inflated_small_resnet_runs_on_videos_and_keeps_the_fixed_point():
    model2d = randomize(build_small_resnet(num_classes=3, widths=(4, 8)), 0).double()
    model3d = inflate_model(model2d, time_padding_mode="replicate")
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    assert boring_video_difference(model2d, model3d, x, 4) < 1e-10
    # a training-mode forward pass updates the 3D running statistics only: the fixed point is gone
    assert model3d(torch.randn(2, 3, 4, 16, 16, dtype=torch.float64)).shape == (2, 3)
    assert boring_video_difference(model2d, model3d, x, 4) > 1e-6


@pytest.mark.parametrize("options, error, match", [
    (dict(widths=()), ValueError, "widths"), (dict(widths=(8, 0)), ValueError, r"widths\[1\]"),
    (dict(num_classes=0), ValueError, "num_classes"), (dict(blocks_per_stage=1.5), TypeError, "blocks_per_stage"),
    (dict(in_channels=True), TypeError, "in_channels"), (dict(stem_stride=0), ValueError, "stem_stride"),
])
def test_builder_rejects_bad_numbers(options, error, match):
    with pytest.raises(error, match=match):
        build_small_resnet(**options)


def test_make_basic_block_rejects_bad_numbers():
    with pytest.raises(ValueError, match="stride"):
        make_basic_block(4, 4, stride=0)


def test_torchvision_resnet18_inflates_and_keeps_the_fixed_point():
    torchvision = pytest.importorskip("torchvision")
    model2d = randomize(torchvision.models.resnet18(weights=None, num_classes=4), 1).double()
    model3d = inflate_model(model2d, time_kernel=lambda name, layer: 3 if name.endswith("conv1") else 1,
                            time_padding_mode="replicate")
    assert not any(type(m).__name__.endswith("2d") for m in model3d.modules())
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    assert boring_video_difference(model2d, model3d, x, 4) < 1e-9
