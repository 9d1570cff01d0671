"""The 'Open recent' list, newest first, kept in QSettings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

_KEY = "recent_files"
MAX_RECENT = 10


class RecentFiles:
    def __init__(self, settings: QSettings | None = None):
        self.settings = settings if settings is not None else QSettings("MedSeg", "MedSeg")

    def paths(self) -> list[str]:
        value = self.settings.value(_KEY, [])
        if isinstance(value, str):  # QSettings hands back a lone string for a one-item list
            value = [value]
        return [str(p) for p in (value or [])]

    def add(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        paths = [path, *(p for p in self.paths() if p != path)][:MAX_RECENT]
        self.settings.setValue(_KEY, paths)
        self.settings.sync()

    def clear(self) -> None:
        self.settings.setValue(_KEY, [])
        self.settings.sync()
