"""Tests for course_utils.video_io on small .mp4 files written into tmp_path."""

import numpy as np
import pytest
import torch

from course_utils.data import make_videos
from course_utils.video_io import VideoFolder, VideoInfo, read_video, video_info, write_video


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory):
    videos, _ = make_videos(1, num_frames=40, size=32, seed=0, classes=(3,))
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    info = write_video(path, videos[0], fps=10)
    return path, videos[0], info


def test_write_then_info(clip_file):
    path, video, info = clip_file
    assert info == VideoInfo(40, 10.0, 32, 32)
    assert video_info(path) == info
    assert path.stat().st_size < video.nbytes, "the encoded file is smaller than the raw frames"


def test_full_decode_is_close_to_the_written_frames(clip_file):
    path, video, _ = clip_file
    full = read_video(path)
    assert full.shape == video.shape and full.dtype == np.uint8
    error = np.abs(full.astype(int) - video.astype(int))
    assert error.mean() < 6, "lossy, but close"


@pytest.mark.parametrize(
    "indices",
    [[0], [39], [5, 17, 30], [30, 5, 17, 5], list(range(40)), list(range(39, -1, -1)), [12, 13, 24, 25, 36]],
)
def test_sampled_decode_equals_full_decode(clip_file, indices):
    path, _, _ = clip_file
    full = read_video(path)
    out = read_video(path, indices)
    assert out.shape == (len(indices), 32, 32, 3)
    assert np.array_equal(out, full[indices])


def test_sampled_decode_empty_and_bad(clip_file):
    path, _, _ = clip_file
    assert read_video(path, []).shape == (0, 32, 32, 3)
    with pytest.raises(ValueError, match="frame_indices"):
        read_video(path, [40])
    with pytest.raises(ValueError, match="frame_indices"):
        read_video(path, [-1])
    with pytest.raises(TypeError, match="frame_indices"):
        read_video(path, [1.5])
    with pytest.raises(ValueError, match="frame_indices must be a 1-D array"):
        read_video(path, [[1, 2]])
    with pytest.raises(FileNotFoundError, match="path"):
        read_video(path.with_name("missing.mp4"))


def test_odd_size_is_padded_to_even(tmp_path):
    video = np.random.default_rng(0).integers(0, 256, size=(3, 15, 21, 3), dtype=np.uint8)
    info = write_video(tmp_path / "odd.mp4", video, fps=5)
    assert (info.height, info.width) == (16, 22)
    back = read_video(tmp_path / "odd.mp4")
    assert back.shape == (3, 16, 22, 3)


def test_write_accepts_tensor_and_rejects_bad_input(tmp_path):
    videos, _ = make_videos(1, num_frames=4, size=16)
    write_video(tmp_path / "t.mp4", torch.from_numpy(videos[0]), fps=4)
    assert video_info(tmp_path / "t.mp4").num_frames == 4
    with pytest.raises(TypeError, match="uint8"):
        write_video(tmp_path / "x.mp4", videos[0].astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        write_video(tmp_path / "x.mp4", videos[0, 0])
    with pytest.raises(ValueError, match="fps"):
        write_video(tmp_path / "x.mp4", videos[0], fps=0)
    with pytest.raises(TypeError, match="fps"):
        write_video(tmp_path / "x.mp4", videos[0], fps=2.5)


def _make_tree(root):
    videos, labels = make_videos(6, num_frames=12, size=32, seed=1, classes=(0, 3))
    names = {0: "square", 3: "moves_right"}
    for i, (video, label) in enumerate(zip(videos, labels, strict=False)):
        (root / names[label]).mkdir(parents=True, exist_ok=True)
        write_video(root / names[label] / f"v{i}.mp4", video, fps=8)
    (root / "square" / "notes.txt").write_text("not a video")
    return videos, labels


def test_video_folder(tmp_path):
    videos, labels = _make_tree(tmp_path)
    ds = VideoFolder(tmp_path)
    assert ds.classes == ["moves_right", "square"]
    assert len(ds) == 6
    x, y = ds[0]
    assert x.shape == (3, 12, 32, 32) and x.dtype == torch.float32 and y == 0
    path, _ = ds.samples[0]
    assert torch.equal(x, torch.from_numpy(read_video(path)).permute(3, 0, 1, 2).float() / 255)

    picked = VideoFolder(tmp_path, sampler=lambda n: np.array([[0, 2], [n - 2, n - 1]]))
    xs, ys = picked[3]
    assert xs.shape == (3, 4, 32, 32) and ys == ds[3][1]
    full = ds[3][0]
    assert torch.equal(xs, full[:, [0, 2, 10, 11]])


def test_video_folder_bad_input(tmp_path):
    with pytest.raises(ValueError, match="root"):
        VideoFolder(tmp_path / "nope")
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(ValueError, match="root"):
        VideoFolder(tmp_path)
    _make_tree(tmp_path)
    with pytest.raises(TypeError, match="sampler"):
        VideoFolder(tmp_path, sampler=5)
    with pytest.raises(TypeError, match="extensions"):
        VideoFolder(tmp_path, extensions=".mp4")
    bad = VideoFolder(tmp_path, sampler=lambda n: np.array([n]))
    with pytest.raises(ValueError, match="sampler"):
        bad[0]


def test_info_counts_packets_when_the_container_has_no_frame_count(tmp_path):
    import av

    videos, _ = make_videos(1, num_frames=10, size=32)
    write_video(tmp_path / "a.mkv", videos[0], fps=5)
    with av.open(str(tmp_path / "a.mkv")) as container:
        assert container.streams.video[0].frames == 0, "Matroska stores no frame count"
    assert video_info(tmp_path / "a.mkv") == VideoInfo(10, 5.0, 32, 32)
    assert np.array_equal(read_video(tmp_path / "a.mkv", [7, 3]), read_video(tmp_path / "a.mkv")[[7, 3]])


def test_mpeg4_fallback_round_trip(tmp_path, monkeypatch):
    import course_utils.video_io as video_io

    monkeypatch.setattr(video_io, "_pick_codec", lambda: "mpeg4")
    videos, _ = make_videos(1, num_frames=30, size=32, seed=4)
    path = tmp_path / "fallback.mp4"
    assert write_video(path, videos[0], fps=12) == VideoInfo(30, 12.0, 32, 32)
    assert video_info(path) == VideoInfo(30, 12.0, 32, 32)
    full = read_video(path)
    assert np.abs(full.astype(int) - videos[0].astype(int)).mean() < 8
    indices = [29, 3, 14, 15, 3]
    assert np.array_equal(read_video(path, indices), full[indices])
