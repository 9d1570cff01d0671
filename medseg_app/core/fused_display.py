"""Image layers fused over the reference slice, in table look-ups: blend, checkerboard and difference.

Each overlay's slice (float, NaN outside the layer) is windowed to 255 levels, 0..254, and level 255 means "no
layer here": it is transparent in every mode. The first overlay meets the reference alone, so its pixel is a
function of (reference grey level, overlay level) only: one gather through a 256 × 256 table of packed ARGB,
``composed[ref8 * 256 + level]``, the same cost as the reference slice itself. Any further overlay is drawn over
what is below it, in drawing order: a 256-entry table scales every byte below by (1 − alpha) and the layer's
premultiplied colour is added to the packed pixels (no byte carries into the next, see :func:`over_tables`).

Modes (registration checks as ITK-SNAP and 3D Slicer offer them):
- ``blend``: the layer's colour at its opacity over what is below.
- ``checkerboard``: squares of ``CHECKER_MM`` alternate the reference and the layer (the layer opaque there).
- ``difference``: the layer's colour map of |reference level − layer level| (each through its own window), at
  the layer's opacity; where the two agree it is dark.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .display_axes import ViewAxes, slice_of
from .geometry import ImageGeometry
from .layer_resampling import resample_plane
from .window_level import WindowLevel, colour_table

TRANSPARENT = 255  # the overlay level of a pixel outside the layer
LEVELS = 255  # windowed levels 0..254
CHECKER_MM = 20.0


@dataclass(frozen=True)
class OverlayPlane:
    values: np.ndarray  # float32 (rows, columns) in screen orientation, NaN outside the layer
    window: WindowLevel
    colour_map: str
    opacity: float
    mode: str = "blend"
    checker_px: tuple[float, float] = (20.0, 20.0)  # a checkerboard square in screen pixels (x, y)


def _pack(rgb: np.ndarray) -> np.ndarray:
    rgb = np.round(np.clip(rgb, 0, 255)).astype(np.uint32)
    return (np.uint32(0xFF000000) | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]).astype(np.uint32)


def _layer_colour_and_alpha(colour_map: str, opacity: float, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(256 ref, 256 level, 3) colour and (256, 256) alpha of the layer, before it meets what is below."""
    layer = colour_table(colour_map).astype(np.float32)
    # level 0..254 spans the colour map's whole ramp
    ramp = np.round(np.arange(256) * 255.0 / (LEVELS - 1)).clip(0, 255).astype(np.intp)
    if mode == "difference":
        ref_levels = np.arange(256, dtype=np.float32)[:, None]
        diff = np.abs(ref_levels - ramp[None, :].astype(np.float32))
        colour = layer[np.clip(np.round(diff), 0, 255).astype(np.intp)]
    else:
        colour = np.broadcast_to(layer[ramp][None, :, :], (256, 256, 3))
    alpha = np.full((256, 256), 1.0 if mode == "checkerboard" else float(np.clip(opacity, 0, 1)), np.float32)
    alpha[:, TRANSPARENT] = 0.0
    return np.asarray(colour, np.float32), alpha


@lru_cache(maxsize=32)  # shared by the three views; an opacity drag makes one per step. Read-only.
def fusion_table(reference_colour_map: str, colour_map: str, opacity: float, mode: str) -> np.ndarray:
    """(65536,) packed RGB of the layer over the reference, indexed by ref8 * 256 + level."""
    colour, alpha = _layer_colour_and_alpha(colour_map, opacity, mode)
    reference = colour_table(reference_colour_map).astype(np.float32)[:, None, :]
    composed = reference * (1 - alpha[..., None]) + colour * alpha[..., None]
    table = np.ascontiguousarray(_pack(composed).reshape(-1))
    table.setflags(write=False)
    return table


def overlay_levels(values: np.ndarray, window: WindowLevel, scratch: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Window ``values`` into ``out`` (uint8): levels 0..254, TRANSPARENT where the value is NaN."""
    np.subtract(values, np.float32(window.low), out=scratch)
    np.multiply(scratch, np.float32((LEVELS - 1) / window.window), out=scratch)
    np.clip(scratch, 0, LEVELS - 1, out=scratch)
    np.nan_to_num(scratch, copy=False, nan=TRANSPARENT)
    np.copyto(out, scratch, casting="unsafe")
    return out


def checker_mask(shape: tuple[int, int], square_px: tuple[float, float]) -> np.ndarray:
    """True on the squares that show the reference (the top-left square does)."""
    sx, sy = (max(float(s), 1.0) for s in square_px)
    columns = (np.arange(shape[1]) // sx).astype(np.int64)
    rows = (np.arange(shape[0]) // sy).astype(np.int64)
    return ((rows[:, None] + columns[None, :]) % 2) == 0


def checker_square_px(geometry: ImageGeometry, axes: ViewAxes, square_mm: float = CHECKER_MM) -> tuple[float, float]:
    """A ``square_mm`` checkerboard square in screen pixels of a view (x, y)."""
    return (square_mm / float(geometry.spacing[axes.x_axis]), square_mm / float(geometry.spacing[axes.y_axis]))


def plane_indices(geometry: ImageGeometry, axes: ViewAxes, index: int) -> np.ndarray:
    """Reference voxel indices (i, j, k) of every pixel of a view's slice image, (rows, columns, 3): where an
    overlay is sampled on the fly (core.layer_resampling.resample_plane)."""
    size = geometry.size
    width, height = int(size[axes.x_axis]), int(size[axes.y_axis])
    x = np.arange(width, dtype=np.float64)
    y = np.arange(height, dtype=np.float64)
    if axes.x_flip:
        x = width - 1 - x
    if axes.y_flip:
        y = height - 1 - y
    out = np.empty((height, width, 3), np.float64)
    out[..., axes.slice_axis] = index
    out[..., axes.x_axis] = x[None, :]
    out[..., axes.y_axis] = y[:, None]
    return out


def layer_alpha(plane: OverlayPlane) -> float:
    """The alpha of a layer's pixels where it is drawn (0 where it is absent or the reference's square shows)."""
    return 1.0 if plane.mode == "checkerboard" else float(np.clip(plane.opacity, 0, 1))


def over_tables(reference_colour_map: str, plane: OverlayPlane) -> tuple[np.ndarray, np.ndarray]:
    """For drawing a layer over other layers: ``premultiplied`` (65536,) packed round(colour × alpha) indexed as
    the fusion tables, and ``scale`` (256,) floor(byte × (1 − alpha)). Their sum never carries from one byte into
    the next: floor(b (1 − a)) + round(c a) ≤ b (1 − a) + c a + 0.5 ≤ 255.5, an integer, so ≤ 255; it is within
    1.5 levels of the exact blend."""
    colour, _ = _layer_colour_and_alpha(plane.colour_map, plane.opacity, plane.mode)
    alpha = layer_alpha(plane)
    rgb = np.round(colour * np.float32(alpha)).astype(np.uint32)
    premultiplied = ((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]).astype(np.uint32).reshape(-1)
    scale = np.floor(np.arange(256) * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(premultiplied), scale


class FusedComposer:
    """Keeps one view's tables and buffers; :meth:`compose` fills a packed RGB image from the reference's grey
    levels and the overlays' slices."""

    def __init__(self):
        self._scratch = np.zeros((1, 1), np.float32)
        self._levels = np.zeros((1, 1), np.uint8)
        self._index = np.zeros((1, 1), np.intp)
        self._layer = np.zeros((1, 1), np.uint32)
        self._scaled = np.zeros((1, 4), np.uint8)
        self._over: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._checkers: dict[tuple, np.ndarray] = {}

    @staticmethod
    def table(reference_colour_map: str, plane: OverlayPlane) -> np.ndarray:
        return fusion_table(reference_colour_map, plane.colour_map, round(float(plane.opacity), 4), plane.mode)

    def _buffers(self, shape: tuple[int, int]) -> None:
        if self._levels.shape != shape:
            self._scratch = np.empty(shape, np.float32)
            self._levels = np.empty(shape, np.uint8)
            self._index = np.empty(shape, np.intp)
            self._layer = np.empty(shape, np.uint32)
            self._scaled = np.empty((shape[0], shape[1] * 4), np.uint8)

    def _levels_of(self, plane: OverlayPlane) -> np.ndarray:
        levels = overlay_levels(plane.values, plane.window, self._scratch, self._levels)
        if plane.mode == "checkerboard":
            key = (levels.shape, plane.checker_px)
            mask = self._checkers.get(key)
            if mask is None:
                self._checkers.clear()
                mask = self._checkers[key] = checker_mask(levels.shape, plane.checker_px)
            levels[mask] = TRANSPARENT
        return levels

    def compose(self, grey8: np.ndarray, reference_colour_map: str, overlays: list[OverlayPlane],
                out: np.ndarray) -> np.ndarray:
        """``out`` (packed RGB uint32) = the reference (``grey8`` through its colour map) with ``overlays`` drawn
        over it in order. ``overlays`` must not be empty."""
        self._buffers(grey8.shape)
        first, rest = overlays[0], overlays[1:]
        np.left_shift(grey8, 8, out=self._index, dtype=np.intp)
        self._index += self._levels_of(first)
        np.take(self.table(reference_colour_map, first), self._index, out=out)
        for plane in rest:
            np.left_shift(grey8, 8, out=self._index, dtype=np.intp)
            levels = self._levels_of(plane)
            self._index += levels
            premultiplied, scale = self._over_tables(reference_colour_map, plane)
            np.take(premultiplied, self._index, out=self._layer)
            np.take(scale, out.view(np.uint8), out=self._scaled)  # what is below, times 1 − alpha, byte by byte
            mixed = self._scaled.view(np.uint32)
            mixed += self._layer
            np.copyto(mixed, out, where=levels == TRANSPARENT)
            np.bitwise_or(mixed, np.uint32(0xFF000000), out=out)
        return out

    def _over_tables(self, reference_colour_map: str, plane: OverlayPlane) -> tuple[np.ndarray, np.ndarray]:
        key = (reference_colour_map, plane.colour_map, round(float(plane.opacity), 4), plane.mode)
        tables = self._over.get(key)
        if tables is None:
            if len(self._over) > 16:
                self._over.clear()
            tables = self._over[key] = over_tables(reference_colour_map, plane)
        return tables


def study_overlay_key(study) -> tuple:
    """What a view's overlay planes depend on: each visible overlay's display settings, transform and whether its
    whole-volume resample (``Study.cached_on_reference``) is ready; changes when any of them does."""
    if study is None:
        return ()
    return tuple((layer.id, layer.window, layer.colour_map, round(float(layer.opacity), 4), layer.fusion_mode,
                  id(layer.transform), study.cached_on_reference(layer.id) is not None)
                 for layer in study.overlays if layer.visible)


def study_overlay_planes(study, axes: ViewAxes, index: int) -> list[OverlayPlane]:
    """The visible overlays' planes at slice ``index`` of a view, in drawing order: a slice of the layer's
    resample onto the reference grid when it is ready, else the displayed slice resampled on the fly."""
    planes = []
    geometry = study.geometry
    for layer in study.overlays:
        if not layer.visible:
            continue
        cached = study.cached_on_reference(layer.id)
        if cached is not None:
            values = slice_of(cached.array, axes, index)
        else:
            values = resample_plane(layer.volume, layer.transform, geometry, plane_indices(geometry, axes, index))
        planes.append(OverlayPlane(values, layer.window, layer.colour_map, layer.opacity, layer.fusion_mode,
                                   checker_square_px(geometry, axes)))
    return planes
