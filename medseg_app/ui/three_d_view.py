"""The 3-D view: the three slice planes through the crosshair, drawn by VTK (medseg_app.render.slice_planes).

On a real display VTK draws into a QVTKRenderWindowInteractor (rotate with the left button, zoom with the
wheel or right button, pan with the middle button). Under Qt's offscreen platform there is no native window
to draw into, so VTK renders off screen and this widget paints the resulting image itself.
"""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import Qt
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

from ..core.viewer_state import ViewerState  # noqa: E402
from ..render.slice_planes import SlicePlanesScene  # noqa: E402

_NO_NATIVE_WINDOW = ("offscreen", "minimal")


class ThreeDView(QWidget):
    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.scene = SlicePlanesScene()
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
        elif what == "crosshair":
            self.scene.set_crosshair(s.crosshair)
        elif what == "window":
            self.scene.set_window(s.window, s.colour_map)
        else:
            return
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
        if self._vtk_widget is not None:
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
        if self.scene.marker_widget is not None:
            self.scene.marker_widget.SetEnabled(0)
        if self._vtk_widget is not None:
            self._vtk_widget.Finalize()
        else:
            self.render_window.Finalize()
