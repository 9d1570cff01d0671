"""A heat map over a slice (an AI result's uncertainty): colour and opacity follow the value, per pixel.

The map covers one box of the volume (the region an AI model saw) and is stored as uint8 levels (0..255 for
0..1), so a repaint only cuts the box at the slice and blends that rectangle through two 256-entry tables: the
colour (dark red → red → orange → yellow → white, like the 'hot' map) and the opacity (proportional to the
value, so certain voxels stay clear). Nothing outside the box is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .box import Box
from .display_axes import ViewAxes
from .segment_display import Rect, box_plane

MAX_ALPHA = 0.75  # the opacity of a value of 1 (the most uncertain voxels)


def _heat_colours() -> np.ndarray:
    t = np.linspace(0.0, 1.0, 256)
    red = np.clip(0.35 + 1.3 * t, 0, 1)
    green = np.clip(2.0 * t - 0.55, 0, 1)
    blue = np.clip(3.0 * t - 2.0, 0, 1)
    return np.rint(np.stack([red, green, blue], axis=1) * 255).astype(np.float32)


HEAT_COLOURS = _heat_colours()  # (256, 3) RGB
LEVELS = np.linspace(0.0, 1.0, 256, dtype=np.float32)


@dataclass
class HeatLayer:
    plane: np.ndarray  # uint8 levels (rows, columns) in screen orientation
    rect: Rect
    max_alpha: float = MAX_ALPHA


def quantise(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (any float dtype) as uint8 levels 0..255."""
    out = np.empty(values.shape, np.uint8)
    np.rint(np.clip(values.astype(np.float32, copy=False), 0.0, 1.0) * 255.0, out=out, casting="unsafe")
    return out


def heat_layer(box: Box, levels: np.ndarray, axes: ViewAxes, index: int, shape,
               max_alpha: float = MAX_ALPHA) -> HeatLayer | None:
    """The cut of ``levels`` (uint8, covering ``box``) at slice ``index`` of a view, or None off the box."""
    cut = box_plane(box, levels, axes, index, tuple(shape))
    if cut is None or not cut[0].any():
        return None
    return HeatLayer(cut[0], cut[1], max_alpha)


def blend_heat(image: np.ndarray, layer: HeatLayer, channels: tuple[int, int, int] = (2, 1, 0)) -> None:
    """Blend ``layer`` into ``image`` (uint8, rows × columns × 4) in place; see blend_layers for ``channels``."""
    height, width = image.shape[:2]
    y0, y1, x0, x1 = layer.rect
    cy0, cy1, cx0, cx1 = max(y0, 0), min(y1, height), max(x0, 0), min(x1, width)
    if cy0 >= cy1 or cx0 >= cx1:
        return
    plane = layer.plane[cy0 - y0: cy1 - y0, cx0 - x0: cx1 - x0]
    alpha = np.take(LEVELS * np.float32(min(max(layer.max_alpha, 0.0), 1.0)), plane)
    colour = np.take(HEAT_COLOURS, plane, axis=0)
    target = image[cy0:cy1, cx0:cx1]
    for c, channel in enumerate(channels):
        view = target[..., channel]
        blended = view * (1 - alpha) + colour[..., c] * alpha
        np.rint(blended, out=blended)
        view[...] = blended.astype(np.uint8)
