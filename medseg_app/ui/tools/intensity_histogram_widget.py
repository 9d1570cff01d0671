"""The histogram of a region's values with the thresholds between classes drawn over it (Otsu, k-means, FCM).

Bars are the bins' counts on a logarithmic scale (log(1 + count): the few voxels of a bright lesion stay visible
next to a large background peak), each bar in the colour of the class its centre falls in; a threshold is a
vertical line at its value, labelled with it. Empty until :meth:`set_histogram` gives it one.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

CLASS_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f")
MARGIN = 4
LABEL_HEIGHT = 14


class IntensityHistogramWidget(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("intensity_histogram")
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.counts = np.zeros(0)
        self.edges = np.zeros(0)
        self.thresholds: list[float] = []
        self.units = ""

    def set_histogram(self, counts, edges, thresholds=(), units: str = "") -> None:
        """Show ``counts`` over bin ``edges`` (len(counts) + 1) with lines at ``thresholds`` (ascending)."""
        counts, edges = np.asarray(counts, float), np.asarray(edges, float)
        if edges.shape != (counts.size + 1,):
            raise ValueError(f"{counts.size} bins need {counts.size + 1} edges, got {edges.size}")
        self.counts, self.edges = counts, edges
        self.thresholds = sorted(float(t) for t in thresholds)
        self.units = units
        self.update()

    def clear(self) -> None:
        self.counts, self.edges, self.thresholds = np.zeros(0), np.zeros(0), []
        self.update()

    def plot_rect(self) -> QRectF:
        return QRectF(MARGIN, MARGIN, max(1, self.width() - 2 * MARGIN),
                      max(1, self.height() - 2 * MARGIN - LABEL_HEIGHT))

    def x_of(self, value: float) -> float:
        """The widget x of an intensity ``value`` (the histogram spans the plot's width)."""
        rect = self.plot_rect()
        low, high = float(self.edges[0]), float(self.edges[-1])
        return rect.left() + (value - low) / max(high - low, 1e-12) * rect.width()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        if self.counts.size == 0:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Preview to see the histogram")
            painter.end()
            return
        rect = self.plot_rect()
        heights = np.log1p(self.counts)
        top = max(float(heights.max()), 1e-12)
        centres = (self.edges[:-1] + self.edges[1:]) / 2
        classes = np.searchsorted(np.asarray(self.thresholds), centres, side="left")
        painter.setPen(Qt.PenStyle.NoPen)
        for n, height in enumerate(heights):
            if height <= 0:
                continue
            x0, x1 = self.x_of(self.edges[n]), self.x_of(self.edges[n + 1])
            h = height / top * rect.height()
            painter.setBrush(QColor(CLASS_COLOURS[int(classes[n]) % len(CLASS_COLOURS)]))
            painter.drawRect(QRectF(x0, rect.bottom() - h, max(x1 - x0, 1.0), h))
        painter.setPen(QPen(QColor("#d62728"), 1.5))
        for value in self.thresholds:
            x = self.x_of(value)
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        painter.setPen(self.palette().text().color())
        for value in self.thresholds:
            text = f"{value:.0f}" if abs(value) >= 10 else f"{value:.2f}"
            painter.drawText(QRectF(self.x_of(value) - 30, rect.bottom(), 60, LABEL_HEIGHT),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)
        painter.end()
