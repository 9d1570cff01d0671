"""Where a slice image lies in its widget: zoom and pan on top of a fit that keeps the pixels' true aspect."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF


@dataclass
class SliceViewport:
    """Image pixel (x, y) ↔ widget point. Pixel centres are at integer image coordinates."""

    image_width: int = 1
    image_height: int = 1
    pixel_mm: tuple[float, float] = (1.0, 1.0)  # physical size of one image pixel along screen x, y
    widget_width: float = 1.0
    widget_height: float = 1.0
    zoom: float = 1.0  # on top of the fit
    pan_x: float = 0.0  # widget pixels, from the centred position
    pan_y: float = 0.0

    def fit(self) -> None:
        self.zoom, self.pan_x, self.pan_y = 1.0, 0.0, 0.0

    @property
    def is_fitted(self) -> bool:
        return self.zoom == 1.0 and self.pan_x == 0.0 and self.pan_y == 0.0

    def _fit_scale(self) -> float:
        """Widget pixels per millimetre that fit the whole slice in the widget."""
        width_mm = self.image_width * self.pixel_mm[0]
        height_mm = self.image_height * self.pixel_mm[1]
        return min(self.widget_width / width_mm, self.widget_height / height_mm)

    def target_rect(self) -> QRectF:
        """Widget rectangle covered by the whole image (the image's outer pixel edges)."""
        scale = self._fit_scale() * self.zoom
        w = self.image_width * self.pixel_mm[0] * scale
        h = self.image_height * self.pixel_mm[1] * scale
        left = (self.widget_width - w) / 2 + self.pan_x
        top = (self.widget_height - h) / 2 + self.pan_y
        return QRectF(left, top, w, h)

    def to_widget(self, x: float, y: float) -> QPointF:
        r = self.target_rect()
        return QPointF(r.left() + (x + 0.5) * r.width() / self.image_width,
                       r.top() + (y + 0.5) * r.height() / self.image_height)

    def to_image(self, point: QPointF) -> tuple[float, float]:
        r = self.target_rect()
        return ((point.x() - r.left()) * self.image_width / r.width() - 0.5,
                (point.y() - r.top()) * self.image_height / r.height() - 0.5)

    def zoom_about(self, factor: float, point: QPointF) -> None:
        """Zoom by ``factor`` keeping the image point under the widget ``point`` where it is."""
        x, y = self.to_image(point)
        self.zoom = min(max(self.zoom * factor, 0.2), 50.0)
        moved = self.to_widget(x, y)
        self.pan_x += point.x() - moved.x()
        self.pan_y += point.y() - moved.y()

    def pan(self, dx: float, dy: float) -> None:
        self.pan_x += dx
        self.pan_y += dy
