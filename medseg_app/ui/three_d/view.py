"""The 3-D view: the three slice planes through the crosshair, drawn by VTK (medseg_app.render.slice_planes),
each segment's surface (medseg_app.render.segment_surfaces) and, on request, a volume rendering of the image or of
any other layer of the study (placed in the reference's patient space by its transform).

Surfaces are built off the GUI thread (ui/surface_builder.py): a mask edit marks only that segment dirty, edits
within COALESCE_MS (a brush stroke) cost one rebuild, and a result overtaken by a newer edit is dropped. Colour,
opacity and visibility only restyle the actor; a hidden segment's surface is built when it is shown.

On a real display VTK draws into a QVTKRenderWindowInteractor (rotate with the left button, zoom with the
wheel or right button, pan with the middle button). Under Qt's offscreen platform there is no native window
to draw into, so VTK renders off screen and this widget paints the resulting image itself.
"""

from __future__ import annotations

import os
import sys
from collections import Counter

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

import vtkmodules.qt

vtkmodules.qt.PyQtImpl = "PySide6"

from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor  # noqa: E402
from vtkmodules.util import numpy_support  # noqa: E402
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera  # noqa: E402
from vtkmodules.vtkRenderingCore import (  # noqa: E402
    vtkRenderWindow,
    vtkRenderWindowInteractor,
    vtkWindowToImageFilter,
)

from ...core.viewer_state import ViewerState  # noqa: E402
from ...render.segment_surfaces import SegmentSurfacesScene, surface_arrays, vertex_normals  # noqa: E402
from ...render.slice_planes import SlicePlanesScene  # noqa: E402
from ...render.volume_rendering import PRESETS, VolumeRendering  # noqa: E402
from .surface_builder import SurfaceBuilder  # noqa: E402

_NO_NATIVE_WINDOW = ("offscreen", "minimal")
COALESCE_MS = 80  # mask edits closer together than this (a brush stroke's dabs) cost one surface rebuild
SURFACE_OPACITY_GAIN = 2.0  # a segment's opacity is for its 2-D fill (0.4–0.5): its surface is drawn twice as opaque


def _build_surface(mask, geometry):
    """Worker-thread job: (points, triangles, normals), numpy only."""
    points, triangles = surface_arrays(mask, geometry)
    return points, triangles, vertex_normals(points, triangles)


class ThreeDView(QWidget):
    surfaces_ready = Signal()  # every visible segment's surface is up to date

    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.scene = SlicePlanesScene()
        self.surfaces = SegmentSurfacesScene(self.scene.renderer)
        self._volume_rendering: VolumeRendering | None = None  # made when first asked for: it is off by default
        self.volume_rendering_layer: int | None = None  # the study layer rendered; None: the reference
        self.surface_builds: Counter[int] = Counter()  # surfaces submitted per segment id (tests, diagnostics)
        self._tickets: dict[int, int] = {}  # segment id -> ticket of the newest surface asked for
        self._last_ticket = 0
        self._dirty: set[int] = set()  # edited, not yet submitted
        self._in_flight: set[int] = set()  # submitted, newest result not yet shown
        self._hidden_stale: set[int] = set()  # hidden segments whose surface is out of date
        self._finalized = False
        self.builder = SurfaceBuilder(self)
        self.builder.built.connect(self._surface_built)
        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(COALESCE_MS)
        self._coalesce.timeout.connect(self._submit_dirty)
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if QGuiApplication.platformName() in _NO_NATIVE_WINDOW:
            self._vtk_widget = None
            if not os.environ.get("DISPLAY"):
                os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")  # skip the X attempt
            self.render_window = vtkRenderWindow()
            self.render_window.SetOffScreenRendering(1)
            self.render_window.SetSize(max(1, self.width()), max(1, self.height()))
            interactor = vtkRenderWindowInteractor()
            interactor.SetRenderWindow(self.render_window)
            self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        else:
            self._vtk_widget = QVTKRenderWindowInteractor(self)
            layout.addWidget(self._vtk_widget)
            self.render_window = self._vtk_widget.GetRenderWindow()
            interactor = self.render_window.GetInteractor()
        self.render_window.AddRenderer(self.scene.renderer)
        interactor.SetInteractorStyle(vtkInteractorStyleTrackballCamera())
        interactor.Initialize()
        self.scene.install_orientation_marker(interactor)
        self._interactor = interactor
        state.subscribe(self._on_state)
        state.subscribe_segments(self._on_segment)
        if state.volume is not None:
            self._on_state("volume")

    # --- state ------------------------------------------------------------------------------
    def _on_state(self, what: str) -> None:
        s = self.state
        if s.volume is None:
            return
        if what == "volume":
            self.scene.set_window(s.window, s.colour_map)
            self.scene.set_volume(s.volume, s.crosshair)
            self.volume_rendering_layer = None
            if self._volume_rendering is not None:
                self._volume_rendering.set_volume(s.volume)
            self._reset_surfaces()
        elif what == "layers":
            if self._volume_rendering is None or not self._place_volume_rendering():
                return
        elif what == "segmentation":
            self._reset_surfaces()
        elif what == "crosshair":
            self.scene.set_crosshair(s.crosshair)
        elif what == "window":
            self.scene.set_window(s.window, s.colour_map)
        else:
            return
        self._request_render()

    # --- segment surfaces -------------------------------------------------------------------
    def _reset_surfaces(self) -> None:
        """A new segmentation: drop every actor and pending result, then build each segment's surface."""
        self.surfaces.clear()
        self.builder.discard()
        self._tickets.clear()
        self._dirty.clear()
        self._in_flight.clear()
        self._hidden_stale.clear()
        segmentation = self.state.segmentation
        for segment_id in (segmentation.segments if segmentation is not None else ()):
            self._restyle(segment_id)
            self._mark_dirty(segment_id)

    def _on_segment(self, what: str, segment_id: int, box) -> None:
        if what == "added":
            self._restyle(segment_id)
            self._mark_dirty(segment_id)
        elif what == "mask":
            self._mark_dirty(segment_id)
        elif what == "properties":
            self._restyle(segment_id)
            segment = self.state.segmentation.segments.get(segment_id)
            if segment is not None and segment.visible and segment_id in self._hidden_stale:
                self._hidden_stale.discard(segment_id)
                self._mark_dirty(segment_id)
            self._request_render()
        elif what == "removed":
            self.surfaces.remove(segment_id)
            self.builder.discard(segment_id)
            for pending in (self._dirty, self._in_flight, self._hidden_stale):
                pending.discard(segment_id)
            self._tickets.pop(segment_id, None)
            self._request_render()
            self._check_ready()

    def _restyle(self, segment_id: int) -> None:
        segment = self.state.segmentation.segments.get(segment_id)
        if segment is not None:
            self.surfaces.set_style(segment_id, segment.colour, min(1.0, SURFACE_OPACITY_GAIN * segment.opacity),
                                    segment.visible)

    def _mark_dirty(self, segment_id: int) -> None:
        self._last_ticket += 1
        self._tickets[segment_id] = self._last_ticket  # whatever is in flight for it is now stale
        self._dirty.add(segment_id)
        self._coalesce.start()  # restarts: a stroke's dabs coalesce

    def _submit_dirty(self) -> None:
        segmentation = self.state.segmentation
        for segment_id in sorted(self._dirty):
            segment = segmentation.segments.get(segment_id) if segmentation is not None else None
            if segment is None:
                continue
            if not segment.visible:
                self._hidden_stale.add(segment_id)
                continue
            mask = segment.mask.copy()  # a snapshot: the GUI thread goes on editing the live mask
            self.builder.submit(segment_id, self._tickets[segment_id],
                                lambda m=mask, g=segmentation.geometry: _build_surface(m, g))
            self._in_flight.add(segment_id)
            self.surface_builds[segment_id] += 1
        self._dirty.clear()
        self._check_ready()

    def _surface_built(self, segment_id: int, ticket: int, result) -> None:
        if self._finalized or self._tickets.get(segment_id) != ticket:
            return  # overtaken by a newer edit, or the segment / segmentation is gone
        self._in_flight.discard(segment_id)
        if isinstance(result, BaseException):
            print(f"medseg: the surface of segment {segment_id} could not be built: {result}", file=sys.stderr)
        else:
            self.surfaces.set_surface(segment_id, *result)
            self._request_render()
        self._check_ready()

    def pending_surfaces(self) -> int:
        """Visible segments whose surface is not yet up to date (0: what is drawn matches the masks)."""
        return len(self._dirty | self._in_flight)

    def _check_ready(self) -> None:
        if not self.pending_surfaces():
            self.surfaces_ready.emit()

    # --- volume rendering -------------------------------------------------------------------
    @property
    def volume_rendering(self) -> VolumeRendering:
        """The image's volume rendering, made on first use (its mappers cost start-up time)."""
        if self._volume_rendering is None:
            self._volume_rendering = VolumeRendering(self.scene.renderer)
            if self.state.volume is not None:
                self._volume_rendering.set_volume(self.state.volume)
        return self._volume_rendering

    def _rendered_layer(self):
        study = self.state.study
        if study is None:
            return None
        return next((layer for layer in study.layers if layer.id == self.volume_rendering_layer), study.reference)

    def _place_volume_rendering(self) -> bool:
        """Hand the chosen layer (the reference if it was removed) and its transform to the volume rendering;
        True when that changed what is drawn."""
        layer = self._rendered_layer()
        if layer is None:
            return False
        rendering = self.volume_rendering
        to_reference = None if layer is self.state.study.reference else layer.transform.layer_to_reference
        if rendering.volume is layer.volume and np.array_equal(
                rendering.to_reference, np.eye(4) if to_reference is None else to_reference):
            return False
        rendering.set_volume(layer.volume, to_reference)
        return True

    def volume_rendering_layers(self) -> list[tuple[int, str]]:
        """(layer id, title) of every image layer that can be volume rendered, the reference first."""
        study = self.state.study
        return [] if study is None else [(layer.id, layer.name) for layer in study.layers]

    def set_volume_rendering_layer(self, layer_id: int | None) -> None:
        """Volume-render the study's layer ``layer_id`` (None: the reference) with the chosen preset."""
        self.volume_rendering_layer = layer_id
        self._place_volume_rendering()
        self._request_render()

    def volume_rendering_presets(self) -> dict[str, str]:
        return {name: preset.title for name, preset in PRESETS.items()}

    def set_volume_rendering(self, preset: str | None) -> None:
        """Show the image as a volume rendering with one of PRESETS, or None for none (the default)."""
        self.volume_rendering.set_preset(preset)
        self._request_render()

    def reset_camera(self) -> None:
        self.scene.reset_camera()
        self._request_render()

    def _request_render(self) -> None:
        # Coalesced by Qt: many state changes before the next paint cost one VTK render.
        (self._vtk_widget or self).update()

    # --- painting ---------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        if self._vtk_widget is None:
            self.render_window.SetSize(max(1, self.width()), max(1, self.height()))
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:
        if self._vtk_widget is not None or self._finalized:
            return
        rgb = self.grab_rgb()
        image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888)
        painter = QPainter(self)
        painter.drawImage(self.rect(), image)

    def grab_rgb(self) -> np.ndarray:
        """The current rendering as an (H, W, 3) uint8 array, top row first."""
        self.render_window.Render()
        grabber = vtkWindowToImageFilter()
        grabber.SetInput(self.render_window)
        grabber.SetInputBufferTypeToRGB()
        grabber.ReadFrontBufferOff()
        grabber.ShouldRerenderOff()  # rendered just now: a second render would double the time of every grab
        grabber.Update()
        image = grabber.GetOutput()
        width, height, _ = image.GetDimensions()
        pixels = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars()).reshape(height, width, 3)
        return np.ascontiguousarray(pixels[::-1])

    def closeEvent(self, event) -> None:
        self.finalize()
        super().closeEvent(event)

    def finalize(self) -> None:
        """Release the OpenGL context before the widget goes (VTK otherwise warns or crashes at exit)."""
        self._finalized = True
        self._coalesce.stop()
        self.builder.close()
        if self._volume_rendering is not None:
            self._volume_rendering.release(self.render_window)
        if self._vtk_widget is not None:
            self._vtk_widget.hide()  # a paint still queued would re-create the window VTK is about to destroy
        if self.scene.marker_widget is not None:
            self.scene.marker_widget.SetEnabled(0)
        if self._vtk_widget is not None:
            self._vtk_widget.Finalize()
        else:
            self.render_window.Finalize()
