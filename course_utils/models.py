"""Video models assembled from the course's parts, and what they cost: the four models of notebook 06.

Every model starts from one 2D network trained on single frames (``course_utils.inflation.build_small_resnet``):

* the **single-frame baseline** is that network itself, applied to frames ``(N, C, H, W)``;
* a **TSN** (``tsn_from_resnet``) shares it across ``K`` snippets ``(N, K, C, H, W)`` and merges their scores with a
  consensus; for RGB differences its first convolution is rebuilt for ``3 * (clip_len - 1)`` channels with TSN's
  cross-modality initialisation (the RGB filters averaged over colour, repeated over the new channels);
* an **I3D** (``build_i3d``) is its inflated copy for clips ``(N, C, T, H, W)``, with ``K_t = 3`` for the stem and the
  first convolution of every residual block (``i3d_time_kernels``), as in I3D's ResNets;
* an **I3D with non-local blocks** (``insert_non_local``) appends a ``NonLocalBlock`` to chosen stages; a new block is
  the identity, so the network computes exactly what it did before the insertion.

``count_parameters`` and ``forward_flops`` measure size and cost; FLOPs are counted by
``torch.utils.flop_counter`` (2 per multiply-add of convolutions and matrix products; element-wise operations,
pooling and normalisation are not counted), so they are the same on every machine.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_utils.inflation.inflate import inflate_model
from course_utils.inflation.resnet2d import SmallResNet
from course_utils.non_local.block import NonLocalBlock
from course_utils.tsn import TSN, Consensus
from course_utils.validation import validate_choice, validate_instance, validate_int, validate_int_tuple

__all__ = ["ResNetBackbone", "build_i3d", "count_parameters", "forward_flops", "i3d_time_kernels",
           "insert_non_local", "tsn_from_resnet"]


class ResNetBackbone(nn.Module):
    """A ``SmallResNet``'s features as a TSN backbone: images ``(N, C, H, W)`` -> features ``(N, D)``.

    Args:
        resnet: the network whose stem, stages and pool are used (not copied; its head is not called).
    """

    def __init__(self, resnet: SmallResNet) -> None:
        super().__init__()
        validate_instance(resnet, "resnet", SmallResNet, what="a SmallResNet (build_small_resnet)")
        self.resnet = resnet
        self.feature_dim = resnet.head.in_features

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Pooled features ``(N, D)`` of images ``(N, C, H, W)``."""
        return self.resnet.features(frames)


def tsn_from_resnet(resnet2d: SmallResNet, consensus: Consensus, *, num_segments: int,
                    in_channels: int = 3) -> TSN:
    """A TSN whose backbone and classifier start as copies of a trained 2D network.

    Args:
        resnet2d: the 2D network (not modified).
        consensus: the segmental consensus (``course_utils.consensus``).
        num_segments: ``K``.
        in_channels: channels of a snippet: 3 for RGB, ``3 * (clip_len - 1)`` for RGB differences. For anything but
            3 the first convolution gets ``in_channels`` input channels, each with the mean of the RGB filters.

    Returns:
        The TSN, on ``resnet2d``'s device.
    """
    validate_instance(resnet2d, "resnet2d", SmallResNet, what="a SmallResNet (build_small_resnet)")
    in_channels = validate_int(in_channels, "in_channels", minimum=1)
    resnet = copy.deepcopy(resnet2d)
    first = resnet.stem[0]
    if in_channels != first.in_channels:
        conv = nn.Conv2d(in_channels, first.out_channels, first.kernel_size, stride=first.stride,
                         padding=first.padding, bias=first.bias is not None, device=first.weight.device,
                         dtype=first.weight.dtype)
        with torch.no_grad():  # (O, 3, k, k) -> (O, 1, k, k) -> (O, in_channels, k, k)
            conv.weight.copy_(first.weight.mean(dim=1, keepdim=True).expand_as(conv.weight))
            if first.bias is not None:
                conv.bias.copy_(first.bias)
        resnet.stem[0] = conv
    head, backbone = resnet.head, ResNetBackbone(resnet)
    resnet.head = nn.Identity()  # the head moves to the TSN's classifier: no unused parameters stay behind
    model = TSN(backbone, head.out_features, num_segments, consensus)
    model.classifier = head
    return model.to(first.weight.device)


def i3d_time_kernels(name: str, layer: nn.Module) -> int:
    """``K_t`` of a convolution in I3D's ResNets: 3 for the stem and the first conv of every block, 1 elsewhere."""
    return 3 if name == "stem.0" or name.endswith("conv1") else 1


def build_i3d(resnet2d: SmallResNet, *, time_padding_mode: str = "zeros") -> SmallResNet:
    """Inflate a 2D ``SmallResNet`` into an I3D for clips ``(N, C, T, H, W)`` (``resnet2d`` is not modified).

    Args:
        resnet2d: the trained 2D network.
        time_padding_mode: ``"zeros"`` (MMAction2) or ``"replicate"`` (exact boring-video fixed point).

    Returns:
        The inflated copy, with ``i3d_time_kernels`` and mean initialisation.
    """
    validate_instance(resnet2d, "resnet2d", SmallResNet, what="a SmallResNet (build_small_resnet)")
    return inflate_model(resnet2d, time_kernel=i3d_time_kernels, time_padding_mode=time_padding_mode)


def insert_non_local(model3d: SmallResNet, stages: Sequence[int], *, mode: str = "embedded",
                     sub_sample: bool = True) -> SmallResNet:
    """Return a copy of an inflated network with a new ``NonLocalBlock`` at the end of each chosen stage.

    Args:
        model3d: an inflated ``SmallResNet`` (not modified).
        stages: indices into ``model3d.stages`` (e.g. ``(0,)``), each at most once.
        mode: the blocks' pairwise function.
        sub_sample: whether the blocks max-pool their keys and values by 2 in space.

    Returns:
        The copy; a block after stage ``s`` has ``in_channels`` = that stage's output channels, the model's device
        and dtype, and is the identity (its ``W_z`` BatchNorm starts at zero), so the copy computes what
        ``model3d`` does.
    """
    validate_instance(model3d, "model3d", SmallResNet, what="an inflated SmallResNet (build_i3d)")
    stages = validate_int_tuple(stages, "stages", minimum=0, layout="of stage indices")
    validate_choice(mode, "mode", ("gaussian", "embedded", "dot", "concatenate"))
    if len(set(stages)) != len(stages) or any(s >= len(model3d.stages) for s in stages):
        raise ValueError(f"stages must be distinct indices in [0, {len(model3d.stages)}), got {stages}")
    model = copy.deepcopy(model3d)
    reference = next(model.parameters())
    for index in stages:
        stage = model.stages[index]
        channels = stage[-1].bn2.num_features                                   # the stage's output channels
        block = NonLocalBlock(channels, mode=mode, sub_sample=sub_sample).to(reference.device, reference.dtype)
        model.stages[index] = nn.Sequential(*stage, block.train(model.training))
    return model


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters (elements of tensors with ``requires_grad``)."""
    validate_instance(model, "model", nn.Module, what="an nn.Module")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def forward_flops(model: nn.Module, example: torch.Tensor) -> int:
    """FLOPs of one forward pass on ``example`` (a batch of one input), counted, not timed.

    Args:
        model: the network; it runs in eval mode, without gradients, and its mode is restored.
        example: one input with its batch axis, e.g. ``(1, C, T, H, W)``, on the model's device.

    Returns:
        Twice the multiply-adds of every convolution and matrix product, as ``torch.utils.flop_counter`` counts.
    """
    validate_instance(model, "model", nn.Module, what="an nn.Module")
    modes = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(example)
    finally:
        for module, mode in modes:
            module.training = mode
    return int(counter.get_total_flops())
