"""Real videos for the trainer: a class-per-folder tree of video files (UCF101, HMDB51) as train and test views.

Nothing is downloaded: point :func:`folder_clips` at a folder you already have, laid out as
``root/<class_name>/<video file>``. Each item decodes only the frames its view needs (``VideoFolder``'s sampled
decoding), centre-crops and resizes them, and turns them into the model's input, exactly as for the synthetic videos.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from course_utils.train.views import ClipSampling, InputFunction, VideoClips
from course_utils.validation import validate_instance, validate_int, validate_number
from course_utils.video_io import VIDEO_EXTENSIONS, VideoFolder

__all__ = ["folder_clips", "split_by_class"]


def split_by_class(labels: np.ndarray, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Split item indices into train and test, class by class: the last ``test_fraction`` of each class is test.

    Taking the *last* files of each class (in file-name order) rather than a random sample keeps videos cut from
    the same long recording together when their names say so (UCF101's ``v_<class>_g<group>_c<clip>``): a random
    split would put clips of one recording on both sides and overstate the accuracy.

    Args:
        labels: int ``(N,)`` class of each item, items of a class in file-name order.
        test_fraction: in (0, 1); each class with at least 2 items gives at least one to each side.

    Returns:
        ``(train_indices, test_indices)``, int64, sorted.
    """
    labels = np.asarray(labels)
    fraction = validate_number(test_fraction, "test_fraction", greater_than=0, maximum=1)
    if fraction >= 1:
        raise ValueError(f"test_fraction must be a number in (0, 1), got {fraction}")
    train, test = [], []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)                               # this class, in file-name order
        count = len(members)
        held = min(max(math.ceil(fraction * count), 1), count - 1) if count >= 2 else 0
        train.append(members[: count - held])
        test.append(members[count - held:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def folder_clips(root: str | Path, sampling: ClipSampling, *, to_input: InputFunction, size: int = 112,
                 test_fraction: float = 0.2, seed: int = 0,
                 extensions: tuple[str, ...] = VIDEO_EXTENSIONS) -> tuple[VideoClips, VideoClips, list[str]]:
    """Train and test views of the videos under ``root``, one sub-folder per class.

    Args:
        root: the folder holding one sub-folder per class (e.g. UCF101's ``UCF-101/``).
        sampling: which frames make a view (train: one random view; test: ``sampling.num_views`` fixed views).
        to_input: clips ``(N, K, C, clip_len, H, W)`` -> model input (see ``course_utils.train.views``).
        size: frames are centre-cropped to a square and resized to ``size x size``.
        test_fraction: share of each class held out for testing (see :func:`split_by_class`).
        seed: seed of the train views.
        extensions: file suffixes counted as videos.

    Returns:
        ``(train, test, class_names)``: two :class:`VideoClips` datasets and the class names (sub-folder names,
        sorted; label ``i`` is ``class_names[i]``).
    """
    validate_instance(root, "root", (str, Path), what="a folder path (str or pathlib.Path)")
    validate_instance(sampling, "sampling", ClipSampling, what="a ClipSampling")
    validate_int(size, "size", minimum=1)
    videos = VideoFolder(root, extensions=extensions)
    labels = np.array([label for _, label in videos.samples])
    train_indices, test_indices = split_by_class(labels, test_fraction)
    train = VideoClips(videos, sampling, mode="train", to_input=to_input, size=size, indices=train_indices, seed=seed)
    test = VideoClips(videos, sampling, mode="test", to_input=to_input, size=size, indices=test_indices)
    return train, test, list(videos.classes)
