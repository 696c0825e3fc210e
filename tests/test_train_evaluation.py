"""course_utils.train: the multi-view evaluation, views of videos (ClipSampling, VideoClips) and the plot helpers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from course_utils.data import ALL_CLASS_GROUPS, CLASS_GROUPS, SyntheticVideos
from course_utils.train import (
    ClipSampling,
    History,
    VideoClips,
    clip_input,
    confusion_matrix,
    evaluate,
    frame_input,
    plot_confusion,
    plot_group_accuracy,
    plot_learning_curves,
    resize_frames,
    video_scores,
)
from course_utils.tsn import rgb_differences, rgb_frames

CPU = torch.device("cpu")


class MeanScores(nn.Module):
    """Scores of class c = mean of the input times (c + 1): any input shape, deterministic, easy to predict."""

    def __init__(self, num_classes: int = 4):
        super().__init__()
        self.scale = nn.Parameter(torch.arange(1.0, num_classes + 1), requires_grad=False)

    def forward(self, x):
        return x.flatten(1).mean(dim=1, keepdim=True) * self.scale                # (N, ...) -> (N, C)


def test_video_scores_average_views_per_video():
    generator = torch.Generator().manual_seed(0)
    views = torch.randn(3, 5, 2, 4, generator=generator, dtype=torch.float64)     # (B, V, *input)
    model = nn.Sequential(nn.Flatten(), nn.Linear(8, 6)).double()
    expected = torch.stack([model(views[b]).mean(dim=0) for b in range(3)])       # view by view
    assert torch.allclose(video_scores(model, views), expected, atol=1e-12)
    probabilities = torch.stack([model(views[b]).softmax(-1).mean(dim=0) for b in range(3)])
    assert torch.allclose(video_scores(model, views, average="probabilities"), probabilities, atol=1e-12)
    with pytest.raises(ValueError, match="average"):
        video_scores(model, views, average="max")
    with pytest.raises(ValueError, match="views"):
        video_scores(model, views[0, 0, 0])


def test_evaluate_with_and_without_views():
    generator = torch.Generator().manual_seed(1)
    views = torch.randn(10, 3, 4, generator=generator)                            # (N, V, D)
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    model = nn.Linear(4, 4)
    model.train()
    result = evaluate(model, (views, labels), views=True, groups={"first": (0, 1), "last": (2, 3)}, device=CPU,
                      batch_size=4)
    with torch.no_grad():
        scores = model(views).mean(dim=1)                                          # (N, V, C) -> (N, C)
    assert np.allclose(result.scores, scores.numpy(), atol=1e-6)
    predictions = scores.argmax(1).numpy()
    assert np.array_equal(result.predictions, predictions)
    assert result.accuracy == pytest.approx(np.mean(predictions == labels.numpy()))
    first = np.isin(labels.numpy(), (0, 1))
    assert result.group_accuracy["first"] == pytest.approx(np.mean(predictions[first] == labels.numpy()[first]))
    assert result.confusion.shape == (4, 4) and result.confusion.sum() == 10
    assert np.array_equal(result.confusion.sum(axis=1), np.bincount(labels.numpy(), minlength=4))
    assert model.training, "evaluate restores the model's mode"
    single = evaluate(model, (views[:, 0], labels), device=CPU)
    with torch.no_grad():
        assert np.array_equal(single.predictions, model(views[:, 0]).argmax(1).numpy())
    assert single.group_accuracy == {}
    with pytest.raises(ValueError, match="label"):
        evaluate(model, (views[:, 0], labels + 4), device=CPU)


def test_confusion_matrix_rows_are_true_classes():
    confusion = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0]), 3)
    assert confusion.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]] and confusion.dtype == np.int64


def test_clip_sampling_views():
    sampling = ClipSampling(num_segments=4, clip_len=1, num_views=2)
    views = sampling.test_indices(16)
    assert views.shape == (2, 4, 1)
    assert views[:, :, 0].tolist() == [[1, 5, 9, 13], [3, 7, 11, 15]], "view v takes sub-segment v of each segment"
    train = sampling.train_indices(16, np.random.default_rng(0))
    assert train.shape == (4, 1) and all(4 * k <= train[k, 0] < 4 * k + 4 for k in range(4))
    clips = ClipSampling(clip_len=8, frame_interval=2, num_views=2).test_indices(16)
    assert clips.shape == (2, 1, 8) and clips[0, 0].tolist() == list(range(0, 16, 2))
    assert clips[1, 0].tolist() == list(range(1, 16, 2))
    with pytest.raises(ValueError, match="num_views"):
        ClipSampling(num_views=0)
    with pytest.raises(TypeError, match="clip_len"):
        ClipSampling(clip_len=2.0)


def test_video_clips_train_and_test_items():
    source = SyntheticVideos(6, num_frames=8, size=16, seed=0)
    sampling = ClipSampling(num_segments=2, clip_len=3, num_views=3)
    train = VideoClips(source, sampling, mode="train", to_input=rgb_differences, seed=4)
    x, label = train[1]
    assert x.shape == (2, 6, 16, 16) and label == int(source.labels[1]) and source.sampler is None
    assert torch.equal(train[1][0], x), "the same epoch draws the same view"
    changed = False
    for epoch in range(1, 6):
        train.set_epoch(epoch)
        changed |= not torch.equal(train[1][0], x)
    assert changed, "a new epoch draws new views"
    test = VideoClips(source, sampling, mode="test", to_input=rgb_frames, indices=[5, 2])
    views, label = test[0]
    assert len(test) == 2 and label == int(source.labels[5]) and views.shape == (3, 2, 3, 16, 16)
    indices = sampling.test_indices(8)                                            # (V, K, L)
    expected = torch.from_numpy(source.videos[5][indices[1, :, 0]]).permute(0, 3, 1, 2).float() / 255
    assert torch.equal(views[1], expected), "view 1 holds the first frame of each of its snippets"
    assert test.views and test.num_views == 3 and not train.views
    frames = VideoClips(source, ClipSampling(num_views=4), mode="test", to_input=frame_input)[0][0]
    clip = VideoClips(source, ClipSampling(clip_len=4, num_views=2), mode="test", to_input=clip_input)[0][0]
    assert frames.shape == (4, 3, 16, 16) and clip.shape == (2, 3, 4, 16, 16)
    with pytest.raises(ValueError, match="indices"):
        VideoClips(source, sampling, to_input=rgb_frames, indices=[6])
    with pytest.raises(TypeError, match="sampler"):
        VideoClips(torch.utils.data.TensorDataset(torch.zeros(2)), sampling, to_input=rgb_frames)
    with pytest.raises(ValueError, match="mode"):
        VideoClips(source, sampling, mode="val", to_input=rgb_frames)
    with pytest.raises(ValueError, match="clip_input"):
        clip_input(torch.zeros(1, 2, 3, 4, 5, 5))


def test_resize_frames_crops_the_centre():
    frames = torch.arange(2 * 4 * 6, dtype=torch.float32).reshape(2, 4, 6)      # (T, H, W)
    assert torch.equal(resize_frames(frames, 4), frames[:, :, 1:5])
    assert resize_frames(torch.rand(3, 2, 24, 32), 8).shape == (3, 2, 8, 8)
    with pytest.raises(TypeError, match="frames"):
        resize_frames(torch.zeros(4, 4, dtype=torch.uint8), 2)


def test_evaluate_reads_views_from_video_clips():
    source = SyntheticVideos(8, num_frames=8, size=16, seed=1, classes=(8, 9))
    test = VideoClips(source, ClipSampling(num_views=2), mode="test", to_input=frame_input)
    result = evaluate(MeanScores(10), test, groups=ALL_CLASS_GROUPS, device=CPU)
    assert result.scores.shape == (8, 10) and set(result.group_accuracy) == set(ALL_CLASS_GROUPS)
    assert np.isnan(result.group_accuracy["appearance"])
    assert result.group_accuracy["relation"] == 0.5, "every video is predicted as class 9"


def test_plot_helpers_return_their_figures():
    history = History(losses=[2.0, 1.5, 1.0, 0.8], val_accuracy=[0.5, 0.75], epochs=2, steps_per_epoch=2)
    fig = plot_learning_curves({"a": history}, smooth=2)
    assert fig.axes[0].lines[0].get_xdata().tolist() == [1, 2, 3]
    fig, ax = plt.subplots()
    assert plot_learning_curves(history, metric="val_accuracy", ax=ax) is fig
    results = {"a": dict.fromkeys(CLASS_GROUPS, 0.5), "b": dict.fromkeys(CLASS_GROUPS, 1.0)}
    assert len(plot_group_accuracy(results).axes[0].patches) == 8
    assert plot_confusion(np.eye(3, dtype=int), ["x", "y", "z"]).axes[0].images
    with pytest.raises(ValueError, match="metric"):
        plot_learning_curves(history, metric="accuracy")
    with pytest.raises(ValueError, match="groups"):
        plot_group_accuracy({"a": {"x": 1.0}, "b": {"y": 1.0}})
    with pytest.raises(ValueError, match="confusion"):
        plot_confusion(np.eye(3), ["x", "y"])
    plt.close("all")
