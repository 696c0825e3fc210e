"""I3D inflation: 2D layers and networks made 3D, the boring-video fixed point, and the small 2D ResNet to inflate.

Modules: ``inflate`` (weights, convolutions, BatchNorm, pooling, whole networks), ``fixed_point`` (boring videos and
how far an inflated network is from the 2D one on them), ``resnet2d`` (a small image ResNet that trains in seconds).
"""

from course_utils._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "inflate": ["INITS", "TIME_PADDING_MODES", "TimePaddedConv3d", "inflate_batchnorm", "inflate_conv",
                "inflate_model", "inflate_pool", "inflate_weight"],
    "fixed_point": ["boring_video", "boring_video_difference", "per_frame_difference", "zero_padding_edge_factors"],
    "resnet2d": ["BasicBlock", "SmallResNet", "build_small_resnet", "make_basic_block"],
})
