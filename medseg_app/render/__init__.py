"""VTK rendering: slice planes, surfaces, volume rendering. No Qt widgets here."""
