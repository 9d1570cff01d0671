"""Drawing rulers and ellipse ROIs over a slice view: each on the views whose current slice holds all its points,
placed by patient → index (core.geometry) → screen (core.display_axes) → widget (the view's viewport)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from ...core.display_axes import index_to_screen
from ...core.measurements import EllipseRoi, Ruler, on_slice

if TYPE_CHECKING:
    from ..viewer.slice_view import SliceView

RULER_COLOUR = QColor(90, 220, 255)
ELLIPSE_COLOUR = QColor(255, 150, 60)
TICK_PX = 4.0


def widget_point(view: "SliceView", lps) -> QPointF:
    """Where the LPS point lies in ``view`` (its in-plane position; the slice is not checked)."""
    geometry = view.state.volume.geometry
    x, y, _ = index_to_screen(geometry, view.axes, geometry.patient_to_index(np.asarray(lps, float)))
    return view.viewport.to_widget(x, y)


def shown_on(view: "SliceView", measurement) -> bool:
    state = view.state
    return on_slice(state.volume.geometry, measurement.points, view.axes.slice_axis, state.slice_index(view.view))


def ruler_label(ruler: Ruler) -> str:
    return f"{ruler.length_mm:.1f} mm"


def _paint_ruler(painter: QPainter, view: "SliceView", ruler: Ruler) -> None:
    a, b = widget_point(view, ruler.start), widget_point(view, ruler.end)
    painter.setPen(QPen(RULER_COLOUR, 1.5))
    painter.drawLine(a, b)
    d = b - a
    norm = float(np.hypot(d.x(), d.y()))
    if norm > 0:
        across = QPointF(-d.y() / norm * TICK_PX, d.x() / norm * TICK_PX)
        for end in (a, b):
            painter.drawLine(end - across, end + across)
    painter.drawText(b + QPointF(6, -6), f"{ruler.name}: {ruler_label(ruler)}")


def _paint_ellipse(painter: QPainter, view: "SliceView", roi: EllipseRoi) -> None:
    a, b = widget_point(view, roi.corner_a), widget_point(view, roi.corner_b)
    painter.setPen(QPen(ELLIPSE_COLOUR, 1.5))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    rect = QRectF(a, b).normalized()
    painter.drawEllipse(rect)
    painter.drawText(rect.topRight() + QPointF(4, 0), roi.name)


def paint_measurements(painter: QPainter, view: "SliceView", measurements) -> None:
    """Every ruler and ellipse ROI of ``measurements`` that lies on the view's current slice."""
    if view.state.volume is None:
        return
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    for item in measurements.items.values():
        if not shown_on(view, item):
            continue
        if isinstance(item, Ruler):
            _paint_ruler(painter, view, item)
        else:
            _paint_ellipse(painter, view, item)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
