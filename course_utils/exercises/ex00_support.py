"""A single-frame baseline for the synthetic videos: a frame feature and the reference classifier.

Notebook 00 gives students ``object_colour`` and asks them to write ``single_frame_baseline``; the demos after the
exercise use ``reference_single_frame_baseline`` so they run even before the exercise is solved.
"""

from __future__ import annotations

import numpy as np

__all__ = ["object_colour", "reference_single_frame_baseline"]

# A pixel belongs to the object when one of its channels is this far from the frame's median (background) colour.
OBJECT_THRESHOLD = 40


def object_colour(frames: np.ndarray) -> np.ndarray:
    """Describe each frame by the mean colour of its object: the pixels far from the frame's median colour.

    The feature ignores where the object is, so it says what the object looks like and nothing about motion.

    Args:
        frames: uint8 array (n, H, W, 3).

    Returns:
        float64 array (n, 3), RGB in [0, 255]; a frame with no object pixel gives (0, 0, 0).
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must have shape (n, H, W, 3), got {frames.shape}")
    pixels = frames.astype(np.int16)                                            # (n, H, W, 3) signed
    # the object covers a small part of the frame, so the median of every other pixel is the background colour
    background = np.median(frames[:, ::2, ::2], axis=(1, 2), keepdims=True).astype(np.int16)  # (n, 1, 1, 3)
    far = np.abs(pixels - background).max(axis=-1) > OBJECT_THRESHOLD           # (n, H, W)
    total = np.einsum("nhwc,nhw->nc", pixels, far.astype(np.int16), dtype=np.float64)  # (n, 3)
    return total / np.maximum(far.sum(axis=(1, 2)), 1)[:, None]


def reference_single_frame_baseline(train_videos: np.ndarray, train_labels: np.ndarray, test_videos: np.ndarray,
                                    frame_indices: np.ndarray) -> np.ndarray:
    """Classify test video i from its frame ``frame_indices[i]`` alone, with a nearest class centroid.

    Every frame of every training video is one training example labelled with its video's class, so the classifier
    never learns when a frame was taken.

    Args:
        train_videos: uint8 (N, T, H, W, 3).
        train_labels: int (N,).
        test_videos: uint8 (M, T, H, W, 3).
        frame_indices: int (M,), one frame index in [0, T) per test video.

    Returns:
        int64 (M,) predicted class ids.
    """
    num_videos, num_frames = train_videos.shape[:2]
    features = object_colour(train_videos.reshape(num_videos * num_frames, *train_videos.shape[2:]))  # (N*T, 3)
    frame_labels = np.repeat(np.asarray(train_labels), num_frames)             # (N*T,) video label per frame
    classes = np.unique(frame_labels)
    centroids = np.stack([features[frame_labels == c].mean(axis=0) for c in classes])  # (K, 3)
    frames = test_videos[np.arange(len(test_videos)), frame_indices]           # (M, H, W, 3) one frame each
    test_features = object_colour(frames)                                       # (M, 3)
    distances = ((test_features[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=-1)  # (M, K)
    return classes[distances.argmin(axis=1)].astype(np.int64)
