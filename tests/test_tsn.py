"""course_utils.tsn: the TSN model, its builder, snippet gathering and the RGB / RGB-difference modalities."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.consensus import AttentionWeighting, LinearWeighting, avg_consensus, max_consensus
from course_utils.device import get_device
from course_utils.tsn import (
    TSN,
    SnippetCNN,
    build_tsn,
    gather_snippets,
    rgb_differences,
    rgb_frames,
    sample_snippet_indices,
)


class MeanBackbone(nn.Module):
    """Features = per-channel spatial means of each image (N, C, H, W) -> (N, C)."""

    feature_dim = 2

    def forward(self, frames):
        return frames.mean(dim=(2, 3))


def tsn_with_identity_classifier(consensus, num_segments=3):
    model = TSN(MeanBackbone(), 2, num_segments, consensus).double()
    with torch.no_grad():
        model.classifier.weight.copy_(torch.eye(2))
        model.classifier.bias.zero_()
    return model


def constant_snippets(values):
    """(B, K, 2, 4, 4) snippets whose channel c of video b, snippet k is the constant values[b][k][c]."""
    v = torch.tensor(values, dtype=torch.float64)  # (B, K, 2)
    return v[:, :, :, None, None].expand(*v.shape, 4, 4).clone()  # (B, K, 2) -> (B, K, 2, 4, 4)


def test_snippet_scores_keep_videos_and_snippets_apart():
    values = [[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]], [[4.0, 40.0], [5.0, 50.0], [6.0, 60.0]]]
    model = tsn_with_identity_classifier(avg_consensus)
    features, scores = model.snippet_outputs(constant_snippets(values))
    assert features.shape == (2, 3, 2) and scores.shape == (2, 3, 2)
    torch.testing.assert_close(scores, torch.tensor(values, dtype=torch.float64))
    torch.testing.assert_close(model(constant_snippets(values)), torch.tensor(values, dtype=torch.float64).mean(1))
    model.consensus = max_consensus
    torch.testing.assert_close(model(constant_snippets(values)), torch.tensor([[3.0, 30.0], [6.0, 60.0]],
                                                                            dtype=torch.float64))


def test_attention_consensus_receives_the_features():
    attention = AttentionWeighting(2).double()
    with torch.no_grad():
        attention.w_att.copy_(torch.tensor([1.0, 0.0], dtype=torch.float64))
    model = tsn_with_identity_classifier(attention)
    values = [[[0.0, 1.0], [np.log(3.0), 5.0], [0.0, 9.0]]]  # e = [0, log 3, 0] -> A = [1/5, 3/5, 1/5]
    out = model(constant_snippets(values))
    torch.testing.assert_close(out[0, 1], torch.tensor(1 / 5 + 3 + 9 / 5, dtype=torch.float64))


def test_build_tsn_shapes_and_every_consensus():
    torch.manual_seed(0)
    snippets = torch.rand(2, 4, 3, 32, 32)
    for consensus in (avg_consensus, LinearWeighting(4), AttentionWeighting(16)):
        model = build_tsn(consensus, in_channels=3, num_classes=8, num_segments=4, width=4, feature_dim=16)
        out = model(snippets)
        assert out.shape == (2, 8) and out.dtype == torch.float32
        out.sum().backward()
        assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_model_runs_on_the_course_device():
    device = get_device()
    model = build_tsn(avg_consensus, in_channels=6, num_segments=2, width=4, feature_dim=8).to(device)
    out = model(torch.rand(3, 2, 6, 16, 16, device=device))
    assert out.shape == (3, 8) and out.device.type == device.type


def test_tsn_argument_errors():
    with pytest.raises(ValueError, match="feature_dim"):
        TSN(nn.Flatten(), 8, 4, avg_consensus)
    model = TSN(nn.Flatten(), 8, 4, avg_consensus, feature_dim=48)
    assert model(torch.rand(2, 4, 3, 4, 4)).shape == (2, 8)
    with pytest.raises(ValueError, match="num_segments=4"):
        model(torch.rand(2, 3, 3, 4, 4))
    with pytest.raises(ValueError, match=r"\(B, K, C, H, W\)"):
        model(torch.rand(2, 3, 4, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model(np.zeros((2, 4, 3, 4, 4)))
    with pytest.raises(ValueError, match="backbone returned"):
        TSN(nn.Flatten(), 8, 4, avg_consensus, feature_dim=7)(torch.rand(2, 4, 3, 4, 4))
    with pytest.raises(TypeError, match="consensus"):
        TSN(SnippetCNN(3), 8, 4, "avg")
    with pytest.raises(ValueError, match="num_classes"):
        TSN(SnippetCNN(3), 0, 4, avg_consensus)
    with pytest.raises(TypeError, match="width"):
        SnippetCNN(3, width=2.5)


def test_gather_snippets_and_modalities():
    num_videos, channels, num_frames = 2, 3, 6
    # frame t of video n holds the constant 100 * n + t in every channel and pixel
    values = 100.0 * torch.arange(num_videos)[:, None] + torch.arange(num_frames)[None, :]  # (N, T)
    videos = values[:, None, :, None, None].expand(num_videos, channels, num_frames, 2, 2).clone()
    indices = np.array([[[0, 1], [3, 5]], [[2, 2], [4, 5]]])  # (N, K=2, clip_len=2)
    clips = gather_snippets(videos, indices)
    assert clips.shape == (2, 2, 3, 2, 2, 2)
    torch.testing.assert_close(clips[:, :, 0, :, 0, 0], torch.tensor([[[0.0, 1.0], [3.0, 5.0]],
                                                                      [[102.0, 102.0], [104.0, 105.0]]]))
    frames = rgb_frames(clips)
    assert frames.shape == (2, 2, 3, 2, 2)
    torch.testing.assert_close(frames[:, :, 1, 0, 0], torch.tensor([[0.0, 3.0], [102.0, 104.0]]))
    diffs = rgb_differences(clips)
    assert diffs.shape == (2, 2, 3, 2, 2)
    torch.testing.assert_close(diffs[:, :, 2, 1, 1], torch.tensor([[1.0, 2.0], [0.0, 1.0]]))


def test_rgb_differences_stack_channel_major():
    clips = torch.zeros(1, 1, 2, 3, 1, 1)  # (N, K, C=2, clip_len=3, H, W)
    clips[0, 0, 0, :, 0, 0] = torch.tensor([0.0, 1.0, 3.0])
    clips[0, 0, 1, :, 0, 0] = torch.tensor([10.0, 20.0, 40.0])
    diffs = rgb_differences(clips)
    assert diffs.shape == (1, 1, 4, 1, 1)
    torch.testing.assert_close(diffs.flatten(), torch.tensor([1.0, 2.0, 10.0, 20.0]))


def test_modality_and_gather_errors():
    with pytest.raises(ValueError, match="clip_len >= 2"):
        rgb_differences(torch.zeros(1, 2, 3, 1, 4, 4))
    with pytest.raises(ValueError, match=r"\(N, K, C, clip_len, H, W\)"):
        rgb_frames(torch.zeros(1, 2, 3, 4, 4))
    videos = torch.zeros(2, 3, 5, 2, 2)
    with pytest.raises(ValueError, match=r"frame_indices must be a 3-D array of ints in \[0, 5\)"):
        gather_snippets(videos, np.full((2, 1, 1), 5))
    with pytest.raises(ValueError, match="N=2"):
        gather_snippets(videos, np.zeros((3, 1, 1), dtype=int))
    with pytest.raises(ValueError, match=r"\(N, C, T, H, W\)"):
        gather_snippets(torch.zeros(3, 5, 2, 2), np.zeros((3, 1, 1), dtype=int))


def test_sample_snippet_indices():
    train = sample_snippet_indices(5, 16, 4, 2, mode="train", rng=0)
    assert train.shape == (5, 4, 2) and train.dtype == np.int64
    assert ((train >= 0) & (train < 16)).all()
    assert (np.diff(train, axis=2) == 1).all()  # consecutive frames inside a snippet
    starts = train[:, :, 0]
    window = (16 - 2 + 1) // 4
    assert ((starts >= np.arange(4) * window) & (starts < (np.arange(4) + 1) * window)).all()
    assert np.array_equal(train, sample_snippet_indices(5, 16, 4, 2, mode="train", rng=0))
    test = sample_snippet_indices(3, 16, 4, 1, mode="test")
    assert np.array_equal(test[:, :, 0], np.tile([2, 6, 10, 14], (3, 1)))
    with pytest.raises(ValueError, match="num_videos"):
        sample_snippet_indices(0, 16, 4)
