"""The course's trainer: fit a model, evaluate it with the multi-view test protocol, and plot what happened.

Modules: ``loop`` (``fit``, the training loop, and its ``History``), ``evaluation`` (views averaged per video,
accuracy per class group, confusion matrix), ``views`` (which frames make a view; ``VideoClips`` datasets of synthetic
and real videos), ``folder`` (class folders of video files), ``batches`` (tensors or datasets, batched in a given
order), ``amp`` (mixed precision on CUDA) and ``plots``.
"""

from course_utils._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "loop": ["History", "fit"],
    "evaluation": ["Evaluation", "confusion_matrix", "evaluate", "video_scores"],
    "views": ["ClipSampling", "VideoClips", "clip_input", "frame_input", "resize_frames"],
    "folder": ["folder_clips"],
    "amp": ["autocast_dtype"],
    "plots": ["plot_confusion", "plot_group_accuracy", "plot_learning_curves"],
})
