"""Real videos through the trainer: a class-per-folder tree of .mp4 files, written here with the course's own writer,
goes through ``folder_clips``, ``fit`` and ``evaluate``, the code path notebook 06 runs on UCF101 or HMDB51."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.consensus import AvgConsensus
from course_utils.train import ClipSampling, evaluate, fit, folder_clips
from course_utils.train.folder import split_by_class
from course_utils.tsn import build_tsn, rgb_frames
from course_utils.video_io import write_video


@pytest.fixture(scope="module")
def video_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    rng = np.random.default_rng(0)
    for label, name in enumerate(("brush_hair", "cartwheel")):
        (root / name).mkdir()
        for index in range(3):
            video = rng.integers(0, 60, size=(12, 30, 40, 3), dtype=np.uint8)    # (T, H, W, 3), 4:3 like UCF101
            video[:, 8:22, 12:28] = 200 if label else 120                          # a class-dependent patch
            write_video(root / name / f"v_{name}_g0{index + 1}_c01.mp4", video, fps=10)
    (root / "cartwheel" / "notes.txt").write_text("not a video")
    return root


def test_folder_clips_train_and_evaluate(video_root):
    sampling = ClipSampling(num_segments=2, clip_len=1, num_views=3)
    train, test, classes = folder_clips(video_root, sampling, to_input=rgb_frames, size=16, test_fraction=0.3)
    assert classes == ["brush_hair", "cartwheel"] and len(train) == 4 and len(test) == 2
    x, label = train[0]
    assert x.shape == (2, 3, 16, 16) and x.dtype == torch.float32 and label == 0
    views, label = test[1]
    assert views.shape == (3, 2, 3, 16, 16) and label == 1
    assert test.source.samples[test.indices[1]][0].name == "v_cartwheel_g03_c01.mp4", "the last file is held out"
    model = build_tsn(AvgConsensus(), num_classes=2, num_segments=2, width=4, feature_dim=8)
    history = fit(model, train, epochs=2, batch_size=2, device=torch.device("cpu"), bar=False)
    assert len(history.losses) == 4 and all(np.isfinite(history.losses))
    result = evaluate(model, test, device=torch.device("cpu"))
    assert result.scores.shape == (2, 2) and result.labels.tolist() == [0, 1]
    assert result.confusion.sum() == 2


def test_split_by_class():
    train, test = split_by_class(np.array([0, 0, 0, 0, 0, 1, 1, 2]), 0.2)
    assert train.tolist() == [0, 1, 2, 3, 5, 7] and test.tolist() == [4, 6]
    with pytest.raises(ValueError, match="test_fraction"):
        split_by_class(np.array([0, 1]), 1.0)


def test_folder_clips_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="root"):
        folder_clips(tmp_path / "absent", ClipSampling(), to_input=rgb_frames)
