"""Refuse an allocation that cannot fit before making it: sizes come from headers, which may lie or be huge."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

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


@contextlib.contextmanager
def ordinary_pages():
    """Large numpy arrays made inside are allocated in ordinary pages.

    numpy asks the kernel for transparent huge pages on every large array; for a fresh array of hundreds of MB
    that means compacting memory first whenever another library has just freed some (cc3d's labels of a body
    CT: 0.2 s after itself, 0.5–1 s right after SimpleITK; a 512 MB CT read: 0.3 s or 1 s by chance). numpy's
    switch is process-wide; it is only a hint, restored on the way out."""
    switch = getattr(np._core.multiarray, "_set_madvise_hugepage", None) if hasattr(np, "_core") else None
    if switch is None:
        yield
        return
    previous = switch(False)
    try:
        yield
    finally:
        switch(previous)
