"""Frame sampling as MMAction2's ``SampleFrames`` does it: TSN segments, clips, train and test modes, and an explorer.

Modules: ``clips`` (frame indices for ``num_clips`` clips of ``clip_len`` frames, ``frame_interval`` apart) and
``explorer`` (a widget that draws the indices on a timeline as the settings change).
"""

from course_utils._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "clips": ["MODES", "OUT_OF_BOUND_OPTIONS", "TRAIN_BRANCHES", "as_generator", "offsets_to_indices", "sample_clips",
              "segment_bounds", "test_offsets", "train_branch", "train_offsets"],
    "explorer": ["describe_sampling", "sampling_explorer"],
})
