"""Analytic receptive fields of convolution and pooling stacks, in time and in space.

The recurrence, per dimension, with ``j`` the jump (distance in input positions between neighbouring units) and
``r`` the field size of one unit::

    r_out = r_in + (k - 1) * d * j_in        j_out = j_in * s        start_out = start_in - p_left * j_in

``start`` is the input index of the first position in the field of output unit 0 (negative when the field reaches
into the padding). Sizes are those of an interior unit, not clipped at the input's borders, with one exception: a
layer with a single output unit along a dimension (global pooling) has no interior unit, so its size there is the
extent of the input that this one unit really sees, which makes global pooling "the whole input".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from course_utils.receptive_field.layers import LayerGeometry, layer_geometry
from course_utils.validation import validate_instance, validate_int_tuple

__all__ = ["LayerField", "ReceptiveField", "ReceptiveFieldError", "leaf_layers", "receptive_field",
           "validate_input_shape", "validate_position"]


class ReceptiveFieldError(ValueError):
    """Raised when a network contains a layer whose receptive field cannot be computed by the recurrence."""


@dataclass(frozen=True)
class LayerField:
    """The field after one layer: ``size``, ``jump``, ``start`` and ``out_shape`` have one int per dimension."""

    name: str
    kind: str
    size: tuple[int, ...]
    jump: tuple[int, ...]
    start: tuple[int, ...]
    out_shape: tuple[int, ...]


@dataclass(frozen=True)
class ReceptiveField:
    """Result of :func:`receptive_field`: the field after the last layer and a row per layer.

    ``size``, ``jump``, ``start`` and ``out_shape`` are tuples with one int per spatial or temporal dimension, in the
    input's order (``(t, h, w)`` for an input ``(C, T, H, W)``). ``geometries`` holds each layer's kernel, stride,
    dilation and padding, which :meth:`field_of` uses to find any unit's exact field.
    """

    input_shape: tuple[int, ...]
    size: tuple[int, ...]
    jump: tuple[int, ...]
    start: tuple[int, ...]
    out_shape: tuple[int, ...]
    layers: tuple[LayerField, ...]
    geometries: tuple[LayerGeometry, ...]

    def field_of(self, position: Sequence[int] | None = None) -> tuple[tuple[int, int] | None, ...]:
        """Return the exact input box seen by one output unit, clipped to the input (zero padding assumed).

        Args:
            position: the unit's index in the output grid, one int per dimension; the centre
                ``tuple(n // 2 for n in out_shape)`` by default.

        Returns:
            One ``(first, last)`` pair of input indices (inclusive) per dimension; all ``None`` when the unit
            sees only padding along some dimension (then it sees no input at all).
        """
        position = validate_position(position, self.out_shape)
        bounds = tuple(_exact_bounds(self.geometries, dim, pos) for dim, pos in enumerate(position))
        return (None,) * len(bounds) if None in bounds else bounds  # a field is a box: empty in one dim, empty

    def table(self) -> str:
        """Format the per-layer table as aligned text.

        Returns:
            One line per layer (after a header and the input): layer, type, output shape, size, jump, start.
        """
        header = ("layer", "type", "output", "size", "jump", "start")
        ones, zeros = (1,) * len(self.size), (0,) * len(self.size)
        rows = [("input", "", _fmt(self.input_shape[1:]), _fmt(ones), str(ones), str(zeros))]
        rows += [(layer.name, layer.kind, _fmt(layer.out_shape), _fmt(layer.size), str(layer.jump),
                  str(layer.start)) for layer in self.layers]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
                         for row in [header, *rows])


def receptive_field(module: nn.Module, input_shape: Sequence[int]) -> ReceptiveField:
    """Compute the receptive field of a stack of convolution and pooling layers, layer by layer.

    Args:
        module: an ``nn.Sequential`` (nested ones allowed) of ``Conv1d/2d/3d``, max/avg/LP pooling, adaptive pooling
            (global pooling included), constant/zero padding layers, and pointwise layers (activations, batch norm,
            dropout, identity), or one such layer on its own. The layers' dimensionality must match the input.
        input_shape: the shape of one input without the batch dimension: ``(C, L)``, ``(C, H, W)`` or
            ``(C, T, H, W)``.

    Returns:
        A :class:`ReceptiveField`; ``size``, ``jump`` and ``start`` have one int per dimension, in input order.

    Raises:
        TypeError: if ``module`` is not an ``nn.Module`` or ``input_shape`` is not a sequence of ints.
        ValueError: if ``input_shape`` has the wrong length or non-positive entries, or the input is too small for
            a layer.
        ReceptiveFieldError: naming the layer, for layers the recurrence cannot describe (residual blocks,
            attention, ``Linear``, ``Flatten``, normalisation over positions, unknown modules) or whose channels or
            dimensionality do not match.
    """
    validate_instance(module, "module", nn.Module, what="a torch.nn.Module")
    input_shape = validate_input_shape(input_shape)
    ndim = len(input_shape) - 1
    channels = input_shape[0]
    spatial = list(input_shape[1:])
    size, jump, start = [1] * ndim, [1] * ndim, [0] * ndim
    rows: list[LayerField] = []
    geometries: list[LayerGeometry] = []
    for name, layer in leaf_layers(module):
        geometry = layer_geometry(layer, name=name, in_shape=spatial, channels=channels, error=ReceptiveFieldError)
        geometries.append(geometry)
        if geometry.out_channels is not None:
            channels = geometry.out_channels
        for dim in range(ndim):
            start[dim] -= geometry.pad_left[dim] * jump[dim]
            size[dim] += (geometry.kernel[dim] - 1) * geometry.dilation[dim] * jump[dim]
            jump[dim] *= geometry.stride[dim]
            if geometry.out_shape[dim] == 1:  # a single unit (global pooling): no interior unit, use its real field
                bounds = _exact_bounds(geometries, dim, 0)
                if bounds is None:
                    raise ReceptiveFieldError(f"layer '{name}' ({type(layer).__name__}): its only output unit "
                                              f"along dimension {dim} sees nothing but padding")
                start[dim], size[dim] = bounds[0], bounds[1] - bounds[0] + 1
        spatial = list(geometry.out_shape)
        rows.append(LayerField(name, type(layer).__name__, tuple(size), tuple(jump), tuple(start), tuple(spatial)))
    return ReceptiveField(tuple(input_shape), tuple(size), tuple(jump), tuple(start), tuple(spatial), tuple(rows),
                          tuple(geometries))


def validate_input_shape(input_shape: Sequence[int]) -> tuple[int, ...]:
    """Validate ``input_shape`` (one input without the batch dimension) and return it as a tuple of ints.

    Args:
        input_shape: ``(C, L)``, ``(C, H, W)`` or ``(C, T, H, W)``, positive ints.

    Returns:
        The shape as a tuple of Python ints.

    Raises:
        TypeError: if it is not a sequence of ints.
        ValueError: if it does not have 2 to 4 entries, all >= 1.
    """
    return validate_int_tuple(input_shape, "input_shape", length=(2, 4), minimum=1,
                              layout="(one input without the batch dimension: (C, L), (C, H, W) or (C, T, H, W))")


def validate_position(position: Sequence[int] | None, out_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Validate the index of one output unit in the output grid ``out_shape``; None means the centre.

    Args:
        position: one int per dimension with ``0 <= p < n``, or None.
        out_shape: the output grid, one size per dimension.

    Returns:
        The position as a tuple of Python ints (``tuple(n // 2 for n in out_shape)`` for None).

    Raises:
        TypeError: if ``position`` is not a sequence of ints.
        ValueError: if it does not index the output grid.
    """
    if position is None:
        return tuple(n // 2 for n in out_shape)
    position = validate_int_tuple(position, "position", layout="(one int per dimension)")
    if len(position) != len(out_shape) or not all(0 <= p < n for p, n in zip(position, out_shape, strict=False)):
        raise ValueError(f"position must index the output grid {out_shape} (one int per dimension, "
                         f"0 <= p < n), got {position}")
    return position


def leaf_layers(module: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """Return ``(dotted name, layer)`` for every layer of ``module`` in forward order, unpacking ``nn.Sequential``.

    Args:
        module: a layer or an ``nn.Sequential`` (nested ones allowed).
        prefix: the dotted name of ``module`` itself ("" at the top).

    Returns:
        The leaves in forward order; a module that is not a Sequential is its own single leaf.

    Raises:
        ReceptiveFieldError: for a subclass of ``nn.Sequential`` that overrides ``forward``.
    """
    validate_instance(module, "module", nn.Module, what="a torch.nn.Module")
    if not isinstance(module, nn.Sequential):
        return [(prefix or type(module).__name__, module)]
    if type(module).forward is not nn.Sequential.forward:
        raise ReceptiveFieldError(
            f"layer '{prefix or type(module).__name__}' ({type(module).__name__}) is a Sequential with its own "
            f"forward, which the recurrence cannot follow")
    leaves: list[tuple[str, nn.Module]] = []
    for name, child in module.named_children():
        leaves += leaf_layers(child, f"{prefix}.{name}" if prefix else name)
    return leaves


def _exact_bounds(geometries: Sequence[LayerGeometry], dim: int, position: int) -> tuple[int, int] | None:
    """Propagate one output unit back through ``geometries`` along ``dim``; return its (first, last) input index."""
    seen = np.zeros(geometries[-1].out_shape[dim] if geometries else 1, dtype=bool)
    seen[position] = True
    for geometry in reversed(geometries):
        units = np.flatnonzero(seen)
        taps = np.arange(geometry.kernel[dim]) * geometry.dilation[dim]
        index = (units[:, None] * geometry.stride[dim] - geometry.pad_left[dim] + taps[None, :]).ravel()
        seen = np.zeros(geometry.in_shape[dim], dtype=bool)
        seen[index[(index >= 0) & (index < geometry.in_shape[dim])]] = True
    hits = np.flatnonzero(seen)
    return (int(hits[0]), int(hits[-1])) if hits.size else None


def _fmt(values: Sequence[int]) -> str:
    return "x".join(str(v) for v in values)
