"""Video files with PyAV: write a clip to .mp4, read its metadata, decode only the frames you ask for.

Frame indices map to presentation timestamps assuming a constant frame rate (what ``write_video`` produces and what
datasets such as UCF101 hold): frame ``i`` is the one whose timestamp is ``start + i / fps``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import numpy as np
import torch
from torch.utils.data import Dataset

from course_utils.data import Sampler, sampled_indices, video_to_tensor
from course_utils.validation import validate_instance, validate_int, validate_int_array

__all__ = ["VideoInfo", "write_video", "video_info", "read_video", "VideoFolder", "VIDEO_EXTENSIONS"]

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm")
# Keyframe every 12 frames: a sampled read then seeks close to each wanted frame instead of decoding from the start.
_GOP_SIZE = 12


class VideoInfo(NamedTuple):
    """Metadata of a video file: ``num_frames`` (int), ``fps`` (float), ``height`` and ``width`` (int, pixels)."""

    num_frames: int
    fps: float
    height: int
    width: int


def _pick_codec() -> str:
    """H.264 (libx264) when this PyAV build has it, else MPEG-4 Part 2, which every FFmpeg build has."""
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def _as_frames(video: np.ndarray | torch.Tensor) -> np.ndarray:
    """Validate a uint8 ``(T, H, W, 3)`` video, array or tensor, with ``T >= 1``; return it as an array."""
    if isinstance(video, torch.Tensor):
        video = video.detach().cpu().numpy()
    validate_instance(video, "video", np.ndarray, what="a uint8 numpy array or torch tensor (T, H, W, 3)")
    if video.dtype != np.uint8:
        raise TypeError(f"video must be a uint8 array or tensor (T, H, W, 3), got dtype {video.dtype}")
    if video.ndim != 4 or video.shape[-1] != 3 or video.shape[0] == 0:
        raise ValueError(f"video must have shape (T, H, W, 3) with T >= 1, got {video.shape}")
    return video


def write_video(path: str | Path, video: np.ndarray | torch.Tensor, *, fps: int = 25) -> VideoInfo:
    """Encode a video to a file (H.264 yuv420p in .mp4 when available, else MPEG-4), lossy.

    4:2:0 chroma needs even dimensions: an odd height or width is padded by repeating the last row or column, and
    the returned ``VideoInfo`` (like ``video_info`` later) reports the padded size.

    Args:
        path: output file; its suffix picks the container (use ``.mp4``).
        video: uint8 array or tensor (T, H, W, 3), RGB.
        fps: frames per second, a positive int.

    Returns:
        VideoInfo of the written file.
    """
    validate_instance(path, "path", (str, Path), what="a file path (str or pathlib.Path)")
    frames = _as_frames(video)
    fps = validate_int(fps, "fps", minimum=1)
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if pad_h or pad_w:
        frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")  # (T, H', W', 3) even
    num_frames, height, width, _ = frames.shape
    codec = _pick_codec()
    options = {"crf": "17", "g": str(_GOP_SIZE)} if codec == "libx264" else {"g": str(_GOP_SIZE)}
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "mpeg4":  # no constant-quality mode: a generous bit rate (2 bits per pixel) keeps it close
            stream.bit_rate = 2 * width * height * fps
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())  # flush the encoder
    return VideoInfo(num_frames, float(fps), height, width)


def _open_video(path: str | Path) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    validate_instance(path, "path", (str, Path), what="a file path (str or pathlib.Path)")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path {str(path)!r} does not exist")
    if not path.is_file():
        raise ValueError(f"path must be a video file, got {str(path)!r}, which is not a regular file")
    container = av.open(str(path))
    if not container.streams.video:
        container.close()
        raise ValueError(f"path {str(path)!r} holds no video stream")
    return container, container.streams.video[0]


def video_info(path: str | Path) -> VideoInfo:
    """Read a video file's frame count, frame rate and size from its container.

    The frame count comes from the container's header. Some containers (e.g. a bare .avi or .webm) do not store
    it; only then are the packets of the video stream counted, which reads the file but decodes nothing.

    Args:
        path: a video file.

    Returns:
        VideoInfo(num_frames, fps, height, width).
    """
    container, stream = _open_video(path)
    with container:
        rate = stream.average_rate or stream.guessed_rate
        num_frames = stream.frames
        if not num_frames:
            num_frames = sum(1 for packet in container.demux(stream) if packet.size > 0)
        return VideoInfo(int(num_frames), float(rate), stream.codec_context.height, stream.codec_context.width)


class _Timeline:
    """Maps presentation timestamps of one stream to frame indices (constant frame rate)."""

    def __init__(self, stream) -> None:
        rate = stream.average_rate or stream.guessed_rate
        self.ticks_per_frame = 1 / (Fraction(stream.time_base) * Fraction(rate))  # timestamp units per frame
        self.start = stream.start_time or 0

    def index(self, pts: int) -> int:
        return round((pts - self.start) / self.ticks_per_frame)

    def pts(self, index: int) -> int:
        return self.start + round(index * self.ticks_per_frame)


def read_video(path: str | Path, frame_indices: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """Decode a video file, or only the requested frames of it.

    With ``frame_indices``, the decoder seeks to the last keyframe before a wanted frame whenever a keyframe lies
    between the current position and that frame, and otherwise decodes forward; it never decodes more frames than
    a full decode would, and the frames it returns are exactly those of a full decode at the same indices.

    Args:
        path: a video file.
        frame_indices: None for every frame, or a 1-D sequence of ints in [0, num_frames), in any order, repeats
            allowed.

    Returns:
        np.uint8 array (len(frame_indices), H, W, 3), RGB, frames in the requested order ((num_frames, H, W, 3)
        for None).
    """
    indices = None if frame_indices is None else validate_int_array(frame_indices, "frame_indices", ndim=1, minimum=0)
    container, stream = _open_video(path)
    with container:
        if indices is None:
            return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(stream)])
        height, width = stream.codec_context.height, stream.codec_context.width
        if indices.size == 0:
            return np.zeros((0, height, width, 3), dtype=np.uint8)
        timeline = _Timeline(stream)
        keyframes = np.array(sorted(timeline.index(p.pts) for p in container.demux(stream)
                                    if p.is_keyframe and p.pts is not None))
        wanted = np.unique(indices)
        decoded: dict[int, np.ndarray] = {}
        frames = None  # iterator of the decoder's frames from the current position
        position = None  # index of the next frame `frames` will give
        for target in wanted:
            target = int(target)
            keyframe = int(keyframes[np.searchsorted(keyframes, target, side="right") - 1])
            if frames is None or position > target or keyframe > position:
                container.seek(timeline.pts(keyframe), stream=stream, backward=True, any_frame=False)
                frames, position = container.decode(stream), keyframe
            for frame in frames:
                position = timeline.index(frame.pts) + 1
                if position - 1 == target:
                    decoded[target] = frame.to_ndarray(format="rgb24")
                    break
                if position - 1 > target:
                    break
            if target not in decoded:
                raise ValueError(f"frame_indices holds {target}, but {path} has no frame with that index")
        return np.stack([decoded[int(i)] for i in indices])


class VideoFolder(Dataset):
    """A Dataset over a class-per-folder tree of video files (the UCF101 layout): ``root/<class_name>/<video>``.

    Class names are the sub-folder names, sorted; label ``i`` is ``classes[i]``. Item ``i`` decodes only the frames
    that ``sampler`` picks and returns (video (C, T, H, W) float32 in [0, 1], label int).

    Args:
        root: the folder holding one sub-folder per class.
        sampler: None to take every frame, or a callable num_frames -> int array of frame indices of any shape (for
            example ``(num_clips, clip_len)``); the frames are taken flattened, clip by clip, so T is its size.
        extensions: file suffixes counted as videos (case-insensitive).
    """

    def __init__(self, root: str | Path, *, sampler: Sampler | None = None,
                 extensions: tuple[str, ...] = VIDEO_EXTENSIONS) -> None:
        root = Path(validate_instance(root, "root", (str, Path), what="a folder path (str or pathlib.Path)"))
        if not root.is_dir():
            raise ValueError(f"root must be an existing folder, got {str(root)!r}")
        if sampler is not None:
            validate_instance(sampler, "sampler", Callable, what="None or a callable num_frames -> frame indices")
        wanted = "a non-empty tuple of suffixes such as ('.mp4',)"
        validate_instance(extensions, "extensions", (tuple, list), what=wanted)
        for index, suffix in enumerate(extensions):
            validate_instance(suffix, f"extensions[{index}]", str, what="a file suffix such as '.mp4'")
        if not extensions:
            raise ValueError(f"extensions must be {wanted}, got {extensions!r}")
        suffixes = {e.lower() for e in extensions}
        self.root, self.sampler = root, sampler
        self.classes: list[str] = sorted(d.name for d in root.iterdir() if d.is_dir())
        self.samples: list[tuple[Path, int]] = [
            (f, label)
            for label, name in enumerate(self.classes)
            for f in sorted((root / name).iterdir())
            if f.is_file() and f.suffix.lower() in suffixes
        ]
        if not self.samples:
            raise ValueError(f"root {str(root)!r} holds no video files {sorted(suffixes)} in class sub-folders")

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        if self.sampler is None:
            frames = read_video(path)                                           # (T, H, W, 3)
        else:
            indices = sampled_indices(self.sampler, video_info(path).num_frames)  # (num_clips * clip_len,)
            frames = read_video(path, indices)                                  # (T, H, W, 3)
        return video_to_tensor(frames), label
