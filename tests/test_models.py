"""course_utils.models: the capstone's models built from a 2D network, non-local insertion, parameters and FLOPs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course_utils.consensus import AvgConsensus
from course_utils.inflation import boring_video, build_small_resnet, inflate_model
from course_utils.models import (
    ResNetBackbone,
    build_i3d,
    count_parameters,
    forward_flops,
    i3d_time_kernels,
    insert_non_local,
    tsn_from_resnet,
)
from course_utils.non_local import NonLocalBlock


def resnet(seed: int = 0, **kwargs) -> nn.Module:
    torch.manual_seed(seed)
    return build_small_resnet(num_classes=5, widths=(4, 8), stem_stride=2, **kwargs).double().eval()


def test_tsn_from_resnet_starts_as_the_2d_network():
    net = resnet()
    frames = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    tsn = tsn_from_resnet(net, AvgConsensus(), num_segments=3).eval()
    same = frames[:, None].expand(-1, 3, -1, -1, -1)                             # (B, K, C, H, W), equal snippets
    assert torch.allclose(tsn(same), net(frames), atol=1e-12)
    assert isinstance(tsn.backbone, ResNetBackbone) and tsn.backbone.feature_dim == 8
    assert count_parameters(tsn) == count_parameters(net), "the head became the classifier, nothing was added"
    differences = tsn_from_resnet(net, AvgConsensus(), num_segments=3, in_channels=6)
    first = differences.backbone.resnet.stem[0]
    assert first.in_channels == 6 and net.stem[0].in_channels == 3, "the 2D network is not modified"
    assert torch.allclose(first.weight, net.stem[0].weight.mean(dim=1, keepdim=True).expand(-1, 6, -1, -1))


def test_build_i3d_inflates_the_first_conv_of_each_block():
    net = resnet()
    i3d = build_i3d(net, time_padding_mode="replicate").eval()
    block = i3d.stages[0][0]
    assert [layer.weight.shape[2] for layer in (i3d.stem[0], block.conv1, block.conv2)] == [3, 3, 1]
    assert i3d_time_kernels("stages.1.0.downsample.0", None) == 1
    images = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    assert torch.allclose(i3d(boring_video(images, 4)), net(images), atol=1e-12), "the boring-video fixed point"


def test_insert_non_local_adds_identity_blocks_at_the_end_of_stages():
    i3d = inflate_model(resnet(), time_kernel=3).eval()
    clip = torch.rand(2, 3, 4, 16, 16, dtype=torch.float64)
    with_blocks = insert_non_local(i3d, (0, 1), mode="dot", sub_sample=False)
    for index, width in ((0, 4), (1, 8)):
        block = with_blocks.stages[index][-1]
        assert isinstance(block, NonLocalBlock) and block.in_channels == width and block.mode == "dot"
        assert next(block.parameters()).dtype == torch.float64
    assert not any(isinstance(m, NonLocalBlock) for m in i3d.modules()), "the input network is not modified"
    assert torch.equal(with_blocks(clip), i3d(clip)), "new blocks are the identity"
    assert len(insert_non_local(i3d, ()).stages[0]) == len(i3d.stages[0])
    with pytest.raises(ValueError, match="stages"):
        insert_non_local(i3d, (2,))
    with pytest.raises(ValueError, match="stages"):
        insert_non_local(i3d, (0, 0))
    with pytest.raises(TypeError, match="model3d"):
        insert_non_local(nn.Linear(2, 2), (0,))


def test_parameters_and_flops_are_counted():
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
    assert count_parameters(conv) == 4 * 3 * 9
    assert forward_flops(conv, torch.zeros(1, 3, 5, 5)) == 2 * (4 * 3 * 9) * 25
    net = resnet()
    net.train()
    flops = forward_flops(net, torch.zeros(1, 3, 16, 16, dtype=torch.float64))
    assert flops > 0 and net.training, "the model's mode is restored"
    i3d = build_i3d(net)
    assert forward_flops(i3d, torch.zeros(1, 3, 4, 16, 16, dtype=torch.float64)) > 4 * flops * 0.99
