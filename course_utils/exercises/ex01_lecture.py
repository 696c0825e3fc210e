"""The lecture's training-index sampler, for exercise 01.find_the_bug (notebook 01 shows and runs it).

The method is the lecture's code as written, as a method of a small class so that ``self.num_clips`` exists (as in
MMAction2's ``SampleFrames``); only the typo ``num_frmes`` is corrected, since that NameError would stop every call
before any other line runs. Its other bugs are left in on purpose. This module defines no exercise: the notebook
imports it, and the checker (``ex01_find_the_bug``) runs it.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class LectureSampler:
    """The lecture's training-index sampler, its method as the lecture wrote it (typo ``num_frmes`` fixed)."""

    def __init__(self, num_clips):
        self.num_clips = num_clips

    def _get_train_frames(self, num_frames, num_clips):
        if num_frames == 1:
            frame_indices = np.zeros((num_clips,), dtype=np.int)

        avg_interval = num_frames // num_clips  # the lecture wrote num_frmes: a NameError on every call

        if avg_interval > 0:
            base_offsets = np.arange(self.num_clips) * avg_interval
            clip_offsets = np.random.randint(avg_interval, size=num_clips)
            frame_indices = base_offsets + clip_offsets
        elif avg_interval == 0:
            ratio = num_frames / num_clips
            frame_indices = np.around(np.arange(num_clips) * ratio)

        return frame_indices


def lecture(num_frames: int, num_clips: int, sampler_clips: int) -> Any:
    """The lecture's method on a fresh ``LectureSampler(sampler_clips)``."""
    return LectureSampler(sampler_clips)._get_train_frames(num_frames, num_clips)
