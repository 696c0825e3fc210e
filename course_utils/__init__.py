"""course_utils: the shared package of the hands-on video understanding course.

Two wings, and nothing runs at import time (no seeding, no plotting settings, no downloads; names load on first use):

* the student toolkit, one module or subpackage per topic: ``device``, ``data``, ``video_io``, ``plot``,
  ``sampling``, ``consensus`` and ``tsn``, ``inflation``, ``receptive_field``, ``non_local``;
* the course tooling: ``exercises`` (the exercise and quiz checks: ``check("01.segment_sampling", ...)``, and the
  student's scoreboard ``progress("01")``), ``authoring``
  (``python -m course_utils.authoring``: solutions -> student notebooks) and ``grade`` (the instructor's grader,
  ``python -m course_utils.grade``). The tooling imports none of torch, PyAV or matplotlib until it runs a check.
"""

from course_utils._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "course_utils.exercises.framework": ["CheckFailed", "check"],
    "course_utils.exercises.progress": ["progress"],
    "course_utils.consensus": ["AttentionWeighting", "LinearWeighting", "avg_consensus", "max_consensus",
                               "topk_consensus"],
    "course_utils.data": ["CLASS_GROUPS", "CLASS_NAMES", "SyntheticVideos", "group_accuracy", "make_videos",
                          "video_to_tensor"],
    "course_utils.device": ["get_device", "seed_everything"],
    "course_utils.inflation.fixed_point": ["boring_video", "boring_video_difference"],
    "course_utils.inflation.inflate": ["inflate_batchnorm", "inflate_conv", "inflate_model", "inflate_pool"],
    "course_utils.inflation.resnet2d": ["SmallResNet", "build_small_resnet"],
    "course_utils.non_local.block": ["NonLocalBlock"],
    "course_utils.plot": ["animate_video", "plot_frames", "plot_sampling_timeline"],
    "course_utils.receptive_field.analytic": ["ReceptiveField", "ReceptiveFieldError"],
    "course_utils.receptive_field.empirical": ["empirical_receptive_field"],
    "course_utils.sampling.clips": ["sample_clips", "segment_bounds"],
    "course_utils.tsn": ["TSN", "build_tsn"],
    "course_utils.video_io": ["VideoFolder", "VideoInfo", "read_video", "video_info", "write_video"],
})
