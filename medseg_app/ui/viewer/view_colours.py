"""Slicer's view colours: the axial view and the lines that show its plane are red, sagittal yellow, coronal green."""

from PySide6.QtGui import QColor

VIEW_COLOURS = {
    "axial": QColor(225, 80, 70),
    "sagittal": QColor(235, 205, 70),
    "coronal": QColor(100, 190, 90),
    "3d": QColor(120, 150, 220),
}
VIEW_TITLES = {"axial": "Axial", "sagittal": "Sagittal", "coronal": "Coronal", "3d": "3-D"}
