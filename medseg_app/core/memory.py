"""Refuse an allocation that cannot fit before making it: sizes come from headers, which may lie or be huge."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import LoadError

# Fraction of the available memory one volume may take: loading needs working copies beside it.
_HEADROOM = 0.9


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable, else free pages), or 0 when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fp:
            for line in fp:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _gb(nbytes: float) -> str:
    return f"{nbytes / 1e9:.1f} GB"


def check_allocation(nbytes: int, path: str | Path | None) -> None:
    """Raise LoadError when ``nbytes`` (from a header) will not fit in the memory available now."""
    nbytes = int(nbytes)
    if nbytes < 0:
        raise LoadError(path, "declares a negative image size.")
    available = available_memory()
    if available and nbytes > available * _HEADROOM:
        raise LoadError(path, f"would need {_gb(nbytes)} of memory to load but only {_gb(available)} "
                              "of memory is available.")
