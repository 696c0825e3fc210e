"""course_utils: the shared package of the hands-on video understanding course.

Importing it does no work: no seeding, no plotting settings, no downloads. The modules, one per concern:
``device``, ``data``, ``video_io``, ``plot``, ``sampling``, ``consensus`` and ``tsn``, ``inflation`` and
``resnet2d``, ``receptive_field``, ``non_local``, ``checks`` (exercise checks), ``authoring`` (solutions -> student
notebooks) and ``grade`` (the instructor's grader, ``python -m course_utils.grade``).
"""

from course_utils.checks import CheckFailed, check
from course_utils.consensus import AttentionWeighting, LinearWeighting, avg_consensus, max_consensus, topk_consensus
from course_utils.data import CLASS_GROUPS, CLASS_NAMES, SyntheticVideos, group_accuracy, make_videos, video_to_tensor
from course_utils.device import get_device, seed_everything
from course_utils.fixed_point import boring_video, boring_video_difference
from course_utils.inflation import inflate_batchnorm, inflate_conv, inflate_model, inflate_pool
from course_utils.non_local import NonLocalBlock
from course_utils.plot import animate_video, plot_frames, plot_sampling_timeline
from course_utils.receptive_field import ReceptiveField, ReceptiveFieldError, receptive_field
from course_utils.resnet2d import SmallResNet, build_small_resnet
from course_utils.rf_empirical import empirical_receptive_field
from course_utils.sampling import sample_clips, segment_bounds
from course_utils.tsn import TSN, build_tsn
from course_utils.video_io import VideoFolder, VideoInfo, read_video, video_info, write_video

__all__ = [
    "AttentionWeighting", "LinearWeighting", "NonLocalBlock", "SmallResNet", "TSN", "avg_consensus", "boring_video",
    "boring_video_difference", "build_small_resnet", "build_tsn", "inflate_batchnorm", "inflate_conv", "inflate_model",
    "inflate_pool", "max_consensus", "topk_consensus",
    "CLASS_GROUPS", "CLASS_NAMES", "CheckFailed", "ReceptiveField", "ReceptiveFieldError", "SyntheticVideos",
    "VideoFolder", "VideoInfo", "animate_video", "check", "empirical_receptive_field", "get_device",
    "group_accuracy", "make_videos", "plot_frames", "plot_sampling_timeline", "read_video", "receptive_field",
    "sample_clips", "seed_everything", "segment_bounds", "video_info", "video_to_tensor", "write_video",
]
