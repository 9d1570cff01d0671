"""Segments drawn on a slice: each visible segment's box cut at the slice, oriented like the image, and blended.

A segment is stored as the contents of its bounding box (:class:`SparseMask`), so a slice of it is a small
plane covering only part of the screen image: :func:`segment_layer` returns that plane in screen orientation
(rows = screen y, columns = screen x, as :func:`display_axes.slice_of`) with the screen rectangle it covers.
:func:`blend_layers` then paints the layers, in order, into an 8-bit BGRA / RGBA image: a translucent fill
(the layer's opacity) and an opaque one-pixel outline on the region's inner boundary. The cost is proportional
to the boxes' areas on the slice, never to the whole image, and nothing is ever densified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .box import Box
from .display_axes import ViewAxes, slice_of
from .sparse_mask import SparseMask

# Screen rectangle of a layer: (row start, row stop, column start, column stop), half-open.
Rect = tuple[int, int, int, int]
PREVIEW_COLOURS = {"add": (255, 225, 40), "set": (255, 225, 40), "remove": (40, 220, 255)}


@dataclass
class SegmentLayer:
    plane: np.ndarray  # bool (rows, columns) in screen orientation
    rect: Rect
    colour: tuple[int, int, int]
    opacity: float
    outline: bool = True


def _numpy_axis(voxel_axis: int) -> int:
    return 2 - voxel_axis


def box_on_slice(box: Box, axes: ViewAxes, index: int) -> bool:
    """Whether ``box`` (numpy order) reaches slice ``index`` of a view: a change there needs a repaint."""
    axis = _numpy_axis(axes.slice_axis)
    return not box.empty and box.start[axis] <= index < box.stop[axis]


def screen_rect(box: Box, axes: ViewAxes, shape: tuple[int, int, int]) -> Rect:
    """The screen rectangle a box covers in a view of a volume of numpy ``shape``."""
    def span(voxel_axis: int, flip: bool) -> tuple[int, int]:
        n = _numpy_axis(voxel_axis)
        start, stop = box.start[n], box.stop[n]
        return (shape[n] - stop, shape[n] - start) if flip else (start, stop)

    y0, y1 = span(axes.y_axis, axes.y_flip)
    x0, x1 = span(axes.x_axis, axes.x_flip)
    return y0, y1, x0, x1


def box_plane(box: Box, data: np.ndarray, axes: ViewAxes, index: int,
              shape: tuple[int, int, int]) -> tuple[np.ndarray, Rect] | None:
    """The cut of ``data`` (covering ``box``) at slice ``index``, in screen orientation, and its rectangle."""
    if not box_on_slice(box, axes, index):
        return None
    local = index - box.start[_numpy_axis(axes.slice_axis)]
    return slice_of(data, axes, local), screen_rect(box, axes, shape)


def segment_layer(mask: SparseMask, axes: ViewAxes, index: int, colour, opacity: float) -> SegmentLayer | None:
    cut = box_plane(mask.box, mask.data, axes, index, mask.shape)
    if cut is None or not cut[0].any():
        return None
    return SegmentLayer(cut[0], cut[1], tuple(int(c) for c in colour), float(opacity))


def segment_layers(segments, axes: ViewAxes, index: int) -> list[SegmentLayer]:
    """Layers of every visible segment (objects with mask, colour, opacity, visible), first drawn first."""
    layers = []
    for segment in segments:
        if segment.visible:
            layer = segment_layer(segment.mask, axes, index, segment.colour, segment.opacity)
            if layer is not None:
                layers.append(layer)
    return layers


def inner_outline(plane: np.ndarray) -> np.ndarray:
    """Pixels of ``plane`` with a 4-neighbour outside it (the plane's border counts as outside)."""
    padded = np.pad(plane, 1)
    core = padded[1:-1, 1:-1]
    interior = core & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return plane & ~interior


def blend_layers(image: np.ndarray, layers: list[SegmentLayer], channels: tuple[int, int, int] = (2, 1, 0)) -> None:
    """Paint ``layers`` in order into ``image`` (uint8, rows × columns × 4) in place.

    ``channels`` are the byte positions of red, green and blue: (2, 1, 0) for Qt's RGB32 / ARGB32 on
    little-endian machines (bytes B, G, R, A), (0, 1, 2) for RGBA.
    """
    levels = np.arange(256, dtype=np.float32)
    height, width = image.shape[:2]
    for layer in layers:
        y0, y1, x0, x1 = layer.rect
        cy0, cy1, cx0, cx1 = max(y0, 0), min(y1, height), max(x0, 0), min(x1, width)
        if cy0 >= cy1 or cx0 >= cx1:
            continue
        plane = layer.plane[cy0 - y0: cy1 - y0, cx0 - x0: cx1 - x0]
        outline = inner_outline(plane) if layer.outline else None
        target = image[cy0:cy1, cx0:cx1]
        a = min(max(layer.opacity, 0.0), 1.0)
        for channel, value in zip(channels, layer.colour):
            view = target[..., channel]
            if a > 0:
                table = np.rint((1 - a) * levels + a * value).astype(np.uint8)
                np.copyto(view, np.take(table, view), where=plane)
            if outline is not None:
                np.copyto(view, np.uint8(value), where=outline)
