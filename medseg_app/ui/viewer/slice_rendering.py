"""One view's slice (+ label fill and outline, or image layers and segment layers) as a QImage, re-using buffers.

Image layers (a PET or MR fused over the planning CT) are composed over the windowed reference slice by
:class:`core.fused_display.FusedComposer` before the segments; they are part of the cached base.

Segments: :meth:`SliceRendering.render_segments` keeps the windowed slice (the base) until the slice, window or
colour map changes, and composes the segment layers (:mod:`core.segment_display`) over a copy of it, so an edit
repaints in the time of one copy plus the layers' boxes. An AI result's uncertainty (:mod:`core.heat_overlay`)
goes on top, blended only inside the rectangle of the model's region.

The image is ``table[(label + n_labels * on_outline) * 256 + grey8]``: rows 0..n-1 of the table blend the label
colours into the grey ramp, rows n..2n-1 are the opaque label colours that draw each region's outline.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from ...core.display_axes import ViewAxes, slice_of
from ...core.fused_display import FusedComposer, OverlayPlane
from ...core.heat_overlay import HeatLayer, blend_heat
from ...core.segment_display import SegmentLayer, blend_layers
from ...core.window_level import WindowLevel, blend_table, to_grey8


def _outline_rows(label_colours: np.ndarray) -> np.ndarray:
    rgb = np.asarray(label_colours, np.uint32)
    packed = 0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    return np.repeat(packed[:, None], 256, axis=1).astype(np.uint32)


def grey_table(dtype: np.dtype, window: WindowLevel) -> np.ndarray | None:
    """Window look-up table for 8/16-bit integer voxels, indexed by the voxel's unsigned bit pattern."""
    if dtype.kind not in "iu" or dtype.itemsize > 2:
        return None
    info = np.iinfo(dtype)
    values = np.arange(info.min, info.max + 1, dtype=np.float64)
    table = np.clip((values - window.low) * (255.0 / window.window), 0, 255).astype(np.uint8)
    # A signed value v has the bit pattern v mod 2**bits: rotate the table so that pattern indexes it.
    return np.roll(table, -info.min) if info.min else table


def outline_mask(labels: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Labelled pixels with a 4-neighbour of another label: the inner boundary of every region."""
    out[...] = False
    horizontal = labels[:, 1:] != labels[:, :-1]
    out[:, 1:] |= horizontal
    out[:, :-1] |= horizontal
    vertical = labels[1:, :] != labels[:-1, :]
    out[1:, :] |= vertical
    out[:-1, :] |= vertical
    out &= labels != 0
    return out


class SliceRendering:
    """Buffers and tables for one view; :meth:`render` returns a QImage that shares ``self.rgba``'s memory."""

    def __init__(self):
        self.rgba = np.zeros((1, 1), np.uint32)
        self.image = QImage()
        self._grey8 = np.zeros((1, 1), np.uint8)
        self._outline = np.zeros((1, 1), bool)
        self._grey_table: np.ndarray | None = None
        self._grey_key = None
        self._blend: np.ndarray | None = None
        self._blend_key = None
        self._planes: dict[str, np.ndarray] = {}
        self._base = np.zeros((1, 1), np.uint32)
        self._base_key = None
        self._composer = FusedComposer()

    def _contiguous(self, name: str, plane: np.ndarray) -> np.ndarray:
        """Sagittal and coronal planes are strided views: gather them once, into a kept buffer, before use."""
        if plane.flags.c_contiguous:
            return plane
        buffer = self._planes.get(name)
        if buffer is None or buffer.shape != plane.shape or buffer.dtype != plane.dtype:
            buffer = self._planes[name] = np.empty(plane.shape, plane.dtype)
        np.copyto(buffer, plane)
        return buffer

    def _buffers(self, shape: tuple[int, int]) -> None:
        if self.rgba.shape == shape:
            return
        self.rgba = np.zeros(shape, np.uint32)
        self._grey8 = np.zeros(shape, np.uint8)
        self._outline = np.zeros(shape, bool)
        h, w = shape
        self.image = QImage(self.rgba.data, w, h, w * 4, QImage.Format.Format_RGB32)

    def _tables(self, dtype, window: WindowLevel, colour_map: str, label_colours, opacity: float) -> None:
        grey_key = (dtype, window)
        if grey_key != self._grey_key:
            self._grey_table, self._grey_key = grey_table(dtype, window), grey_key
        blend_key = (colour_map, None if label_colours is None else label_colours.tobytes(), opacity)
        if blend_key != self._blend_key:
            table = blend_table(colour_map, label_colours, opacity)
            if label_colours is not None:
                table = np.ascontiguousarray(np.vstack([table, _outline_rows(label_colours)]))
            self._blend, self._blend_key = table, blend_key

    def _window(self, array: np.ndarray, axes: ViewAxes, index: int, window: WindowLevel) -> np.ndarray:
        """The slice's grey levels, in ``self._grey8``."""
        plane = self._contiguous("image", slice_of(array, axes, index))
        self._buffers(plane.shape)
        grey8 = self._grey8
        if self._grey_table is not None:
            unsigned = plane.view(np.uint8 if plane.dtype.itemsize == 1 else np.uint16)
            np.take(self._grey_table, unsigned, out=grey8)
        else:
            to_grey8(plane, window, out=grey8)
        return grey8

    def render(self, array: np.ndarray, axes: ViewAxes, index: int, window: WindowLevel, colour_map: str,
               labels: np.ndarray | None = None, label_colours: np.ndarray | None = None,
               opacity: float = 0.4, overlays: list[OverlayPlane] | None = None) -> QImage:
        """The windowed slice, then ``overlays`` (image layers, drawing order) over it, then ``labels``."""
        self._tables(array.dtype, window, colour_map, label_colours if labels is not None else None, opacity)
        grey8 = self._window(array, axes, index, window)
        if overlays:
            self._composer.compose(grey8, colour_map, overlays, self.rgba)
            if labels is not None:
                raise ValueError("image layers are drawn with segment layers (render_segments), not a label map")
            return self.image
        if labels is None:
            np.take(self._blend[0], grey8, out=self.rgba)
            return self.image
        label_plane = self._contiguous("labels", slice_of(labels, axes, index))
        n = len(label_colours)
        index_image = outline_mask(label_plane, self._outline).astype(np.intp)
        index_image *= n
        index_image += label_plane
        index_image <<= 8
        index_image += grey8
        np.take(self._blend.reshape(-1), index_image, out=self.rgba)
        return self.image

    def render_segments(self, array: np.ndarray, axes: ViewAxes, index: int, window: WindowLevel, colour_map: str,
                        layers: list[SegmentLayer], heat: HeatLayer | None = None,
                        overlays=None, overlay_key=()) -> QImage:
        """The windowed slice with image layers over it, then ``layers`` blended over it (in order), then ``heat``
        (an AI uncertainty map's cut, only its rectangle is touched). The slice and its image layers (the base) are
        cached: ``overlays()`` returns the image layers' planes and is called only when the base is redrawn, which
        is when the slice, window, colour map or ``overlay_key`` (what the planes depend on) changes."""
        key = (id(array), array.shape, axes, index, window, colour_map, overlay_key)
        if key != self._base_key:
            self.render(array, axes, index, window, colour_map, overlays=overlays() if overlays else None)
            if self._base.shape != self.rgba.shape:
                self._base = np.empty_like(self.rgba)
            np.copyto(self._base, self.rgba)
            self._base_key = key
        else:
            np.copyto(self.rgba, self._base)
        if layers:
            h, w = self.rgba.shape
            blend_layers(self.rgba.view(np.uint8).reshape(h, w, 4), layers)
        if heat is not None:
            h, w = self.rgba.shape
            blend_heat(self.rgba.view(np.uint8).reshape(h, w, 4), heat)
        return self.image
