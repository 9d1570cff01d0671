"""One slice view (axial, coronal or sagittal) of a ViewerState, painted from a QImage over a numpy buffer.

Mouse and keys (ITK-SNAP / 3D Slicer habits): wheel scrolls slices, Ctrl+wheel zooms about the cursor,
left click / drag moves the crosshair, middle drag pans, right drag changes window / level, double-click
asks to maximise the view, arrows and Page Up / Down step slices, F fits the slice to the view.

The study's visible image layers (a PET or MR over the reference) are fused over the slice first, each with its own
window, colour map, opacity and fusion mode (core/fused_display.py); then segments are drawn from the state's
segmentation, each visible one as a translucent fill and an outline; a tool's
preview on top in its own colours, and an AI result's uncertainty (``set_heat``) over all. A segment edit
repaints a view only when the changed box reaches its slice.
While a segmentation tool is active, ``interactor`` (the tool controller) gets the left button first: its
``press(view, event)`` returns True to take the drag (then ``drag`` / ``release``), and ``paint(view, painter)``
draws its cursor (the brush outline, a lasso) over the slice.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...core.display_axes import index_to_screen, pixel_size_mm, screen_to_index
from ...core.fused_display import study_overlay_key, study_overlay_planes
from ...core.heat_overlay import heat_layer
from ...core.segment_display import PREVIEW_COLOURS, SegmentLayer, box_on_slice, box_plane, segment_layers
from ...core.viewer_state import ViewerState
from .slice_rendering import SliceRendering
from .slice_viewport import SliceViewport
from .view_colours import VIEW_COLOURS

# Slicer's slice offset grows towards superior (axial), anterior (coronal) and right (sagittal); in LPS
# terms that is +z, -y and -x, which is where "up" (wheel up, arrow up, page up) moves.
_UP_ALONG_PATIENT = {"axial": +1, "coronal": -1, "sagittal": -1}
_PAGE_STEP = 10
_ZOOM_PER_NOTCH = 1.15


class SliceView(QWidget):
    hovered = Signal(object)  # (i, j, k) voxel index under the mouse, or None off the image
    maximise_toggled = Signal()

    def __init__(self, state: ViewerState, view: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.view = view
        self.viewport = SliceViewport()
        self._rendering = SliceRendering()
        self._rendered_key = None
        self._overlay_version = 0
        self.interactor = None
        self.heat = None  # (box, uint8 levels): a heat map drawn over the slice (an AI result's uncertainty)
        self._tool_drag = False
        self.preview_opacity = 0.45
        self._drag_button = Qt.MouseButton.NoButton
        self._drag_last = QPointF()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._font = QFont(self.font())
        self._font.setPointSizeF(max(self._font.pointSizeF(), 9.0))
        self._font.setBold(True)
        state.subscribe(self._on_state)
        state.subscribe_segments(self._on_segments)
        if state.volume is not None:
            self._on_state("volume")

    # --- state ------------------------------------------------------------------------------
    @property
    def axes(self):
        return self.state.axes[self.view]

    def slice_step_up(self) -> int:
        """Voxel index step that moves the view one slice 'up' (superior / anterior / right)."""
        return -1 if self.axes.slice_flip == (_UP_ALONG_PATIENT[self.view] > 0) else 1

    def _on_state(self, what: str) -> None:
        if what == "volume":
            volume = self.state.volume
            axes = self.axes
            size = volume.size
            self.viewport.image_width = size[axes.x_axis]
            self.viewport.image_height = size[axes.y_axis]
            self.viewport.pixel_mm = pixel_size_mm(volume.geometry, axes)
            self.viewport.fit()
            self._rendered_key = None
            self.heat = None  # it belonged to the previous image
        if what in ("volume", "segmentation", "preview"):
            self._overlay_version += 1
        self.update()

    def _on_segments(self, what: str, segment_id: int, box) -> None:
        if what == "active" or self.state.volume is None:
            return
        if box is None or what in ("added", "removed", "properties") or \
                box_on_slice(box, self.axes, self.state.slice_index(self.view)):
            self._overlay_version += 1
            self.update()

    def set_heat(self, heat) -> None:
        """Draw ``heat`` = (box, uint8 levels covering it) as a heat map over the slices; None removes it."""
        self.heat = heat
        self._overlay_version += 1
        self.update()

    def _frame_key(self):
        s = self.state
        return (id(s.volume), self.state.slice_index(self.view), s.window, s.colour_map, self._overlay_version,
                study_overlay_key(s.study))

    def layers(self) -> list[SegmentLayer]:
        """What is drawn over the slice: the visible segments in list order, then the tool preview."""
        s = self.state
        index = s.slice_index(self.view)
        layers = segment_layers(s.segmentation.segments.values(), self.axes, index) if s.segmentation else []
        for box, region, mode in s.preview:
            cut = box_plane(box, region, self.axes, index, s.volume.array.shape)
            if cut is not None and cut[0].any():
                layers.append(SegmentLayer(cut[0], cut[1], PREVIEW_COLOURS.get(mode, PREVIEW_COLOURS["add"]),
                                           self.preview_opacity))
        return layers

    def _image(self):
        key = self._frame_key()
        if key != self._rendered_key:
            s = self.state
            heat = None if self.heat is None else heat_layer(*self.heat, self.axes, s.slice_index(self.view),
                                                             s.volume.array.shape)
            index = s.slice_index(self.view)
            overlays = (lambda: study_overlay_planes(s.study, self.axes, index)) if key[-1] else None
            self._rendering.render_segments(s.volume.array, self.axes, index, s.window, s.colour_map, self.layers(),
                                            heat, overlays, key[-1])
            self._rendered_key = key
        return self._rendering.image

    # --- painting ---------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        self.viewport.widget_width = max(1, self.width())
        self.viewport.widget_height = max(1, self.height())
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self.state.volume is None:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No image")
            return
        image = self._image()
        target = self.viewport.target_rect()
        painter.drawImage(target, image, QRectF(0, 0, image.width(), image.height()))
        self._paint_crosshair(painter, target)
        self._paint_text(painter)
        if self.interactor is not None:
            self.interactor.paint(self, painter)

    def _paint_crosshair(self, painter: QPainter, target: QRectF) -> None:
        axes = self.axes
        x, y, _ = index_to_screen(self.state.volume.geometry, axes, self.state.crosshair)
        centre = self.viewport.to_widget(x, y)
        colour_of = {self.state.axes[v].slice_axis: VIEW_COLOURS[v] for v in self.state.axes}
        gap = 6.0
        for vertical in (True, False):
            colour = colour_of[axes.x_axis if vertical else axes.y_axis]
            painter.setPen(QPen(colour, 1))
            if vertical:
                painter.drawLine(QPointF(centre.x(), target.top()), QPointF(centre.x(), centre.y() - gap))
                painter.drawLine(QPointF(centre.x(), centre.y() + gap), QPointF(centre.x(), target.bottom()))
            else:
                painter.drawLine(QPointF(target.left(), centre.y()), QPointF(centre.x() - gap, centre.y()))
                painter.drawLine(QPointF(centre.x() + gap, centre.y()), QPointF(target.right(), centre.y()))

    def _paint_text(self, painter: QPainter) -> None:
        painter.setFont(self._font)
        painter.setPen(QColor(255, 210, 80))
        r = self.rect().adjusted(4, 2, -4, -2)
        letters = self.axes.letters
        align = Qt.AlignmentFlag
        painter.drawText(r, align.AlignHCenter | align.AlignTop, letters["top"])
        painter.drawText(r, align.AlignHCenter | align.AlignBottom, letters["bottom"])
        painter.drawText(r, align.AlignLeft | align.AlignVCenter, letters["left"])
        painter.drawText(r, align.AlignRight | align.AlignVCenter, letters["right"])
        painter.setPen(QColor(220, 220, 220))
        index, count = self.state.slice_index(self.view), self.state.slice_count(self.view)
        painter.drawText(r, align.AlignLeft | align.AlignBottom, f"slice {index + 1} / {count}")

    # --- mouse ------------------------------------------------------------------------------
    def voxel_at(self, point: QPointF):
        """Integer voxel (i, j, k) under a widget point, or None off the image."""
        if self.state.volume is None:
            return None
        x, y = self.viewport.to_image(point)
        vp = self.viewport
        if not (-0.5 <= x < vp.image_width - 0.5 and -0.5 <= y < vp.image_height - 0.5):
            return None
        index = screen_to_index(self.state.volume.geometry, self.axes, self.state.slice_index(self.view), x, y)
        return tuple(int(v) for v in np.rint(index))

    def index_at(self, point: QPointF) -> np.ndarray:
        """Continuous voxel index (i, j, k) under a widget point (may lie off the image)."""
        x, y = self.viewport.to_image(point)
        return screen_to_index(self.state.volume.geometry, self.axes, self.state.slice_index(self.view), x, y)

    def _move_crosshair(self, point: QPointF) -> None:
        x, y = self.viewport.to_image(point)
        vp = self.viewport
        self.state.click(self.view, min(max(x, 0), vp.image_width - 1), min(max(y, 0), vp.image_height - 1))

    def mousePressEvent(self, event) -> None:
        self.setFocus()
        if self.state.volume is None:
            return
        self._drag_button = event.button()
        self._drag_last = event.position()
        if event.button() == Qt.MouseButton.LeftButton:
            self._tool_drag = self.interactor is not None and bool(self.interactor.press(self, event))
            if not self._tool_drag:
                self._move_crosshair(event.position())

    def mouseMoveEvent(self, event) -> None:
        point = event.position()
        self.hovered.emit(self.voxel_at(point))
        if self.interactor is not None:
            self.interactor.hover(self, event)
        if self.state.volume is None or self._drag_button == Qt.MouseButton.NoButton:
            return
        dx, dy = point.x() - self._drag_last.x(), point.y() - self._drag_last.y()
        self._drag_last = point
        if self._drag_button == Qt.MouseButton.LeftButton:
            if self._tool_drag:
                self.interactor.drag(self, event)
            else:
                self._move_crosshair(point)
        elif self._drag_button == Qt.MouseButton.MiddleButton:
            self.viewport.pan(dx, dy)
            self.update()
        elif self._drag_button == Qt.MouseButton.RightButton:
            self.state.drag_window(dx, dy)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == self._drag_button:
            self._drag_button = Qt.MouseButton.NoButton
            if self._tool_drag:
                self._tool_drag = False
                if self.interactor is not None:
                    self.interactor.release(self, event)

    def mouseDoubleClickEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.maximise_toggled.emit()

    def leaveEvent(self, event) -> None:
        self.hovered.emit(None)
        if self.interactor is not None:
            self.interactor.hover(self, None)
        super().leaveEvent(event)

    def wheelEvent(self, event) -> None:
        if self.state.volume is None:
            return
        notches = event.angleDelta().y() / 120.0
        if notches == 0:
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.viewport.zoom_about(_ZOOM_PER_NOTCH ** notches, event.position())
            self.update()
        else:
            steps = int(np.sign(notches) * max(1, round(abs(notches))))
            self.state.step_slice(self.view, steps * self.slice_step_up())
            self.hovered.emit(self.voxel_at(event.position()))
        event.accept()

    # --- keys -------------------------------------------------------------------------------
    def fit(self) -> None:
        self.viewport.fit()
        self.update()

    def keyPressEvent(self, event) -> None:
        key = event.key()
        steps = {Qt.Key.Key_Up: 1, Qt.Key.Key_Right: 1, Qt.Key.Key_Down: -1, Qt.Key.Key_Left: -1,
                 Qt.Key.Key_PageUp: _PAGE_STEP, Qt.Key.Key_PageDown: -_PAGE_STEP}
        if key in steps and self.state.volume is not None:
            self.state.step_slice(self.view, steps[key] * self.slice_step_up())
        elif key == Qt.Key.Key_F:
            self.fit()
        else:
            super().keyPressEvent(event)
