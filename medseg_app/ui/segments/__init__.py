"""The Segments dock: add, delete, rename, recolour, show / hide, lock, opacity, the active segment, its source."""
