"""VTK rendering: slice planes, surfaces, volume rendering. No Qt widgets here."""

from .slice_planes import SlicePlanesScene, box_corners, plane_corners, patient_bounds

__all__ = ["SlicePlanesScene", "box_corners", "plane_corners", "patient_bounds"]
