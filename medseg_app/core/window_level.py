"""Window / level, colour maps and presets, and a slice (+ label overlay) to RGBA in two table look-ups.

A frame is rendered as ``rgba = table[label, grey8]``: the greyscale slice is first mapped to 256 levels through
the window, then a (labels × 256) table of packed RGBA gives the blended colour. Measured here: ~1 ms for a
512×512 axial slice, against ~10 ms for arithmetic blending (shared/PERFORMANCE_NOTES.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .volume import UNITS_HU, UNITS_SUV


@dataclass(frozen=True)
class WindowLevel:
    window: float
    level: float

    @property
    def low(self) -> float:
        return self.level - self.window / 2

    @property
    def high(self) -> float:
        return self.level + self.window / 2

    @classmethod
    def from_range(cls, low: float, high: float) -> "WindowLevel":
        return cls(window=max(float(high - low), 1e-6), level=float(high + low) / 2)


CT_PRESETS = {
    "Soft tissue": WindowLevel(400, 40),
    "Lung": WindowLevel(1500, -600),
    "Bone": WindowLevel(1800, 400),
    "Brain": WindowLevel(80, 40),
    "Liver": WindowLevel(150, 60),
    "Mediastinum": WindowLevel(350, 50),
}
PET_PRESETS = {
    "SUV 0–5": WindowLevel.from_range(0, 5),
    "SUV 0–10": WindowLevel.from_range(0, 10),
}
COLOUR_MAPS = ("grey", "inverted", "hot", "rainbow")


def presets_for(modality: str, units: str) -> dict[str, WindowLevel]:
    if modality == "CT" or units == UNITS_HU:
        return dict(CT_PRESETS)
    if modality == "PT" or units == UNITS_SUV:
        return dict(PET_PRESETS)
    return {}


def auto_window(array: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0, sample: int = 2_000_000) -> WindowLevel:
    """Percentile window (MR's default and everyone's fallback), on a strided sample for speed."""
    flat = array.reshape(-1)
    step = max(1, flat.size // sample)
    low, high = np.percentile(flat[::step], [low_pct, high_pct])
    if high <= low:
        high = low + 1
    return WindowLevel.from_range(float(low), float(high))


def default_window(modality: str, units: str, array: np.ndarray) -> WindowLevel:
    if modality == "CT" or units == UNITS_HU:
        return CT_PRESETS["Soft tissue"]
    if modality == "PT" or units == UNITS_SUV:
        return PET_PRESETS["SUV 0–5"]
    return auto_window(array)


def volume_auto_window(volume) -> WindowLevel:
    """:func:`auto_window` of a Volume, computed once per volume (see :meth:`Volume.derived`)."""
    return volume.derived("auto_window", lambda: auto_window(volume.array))


def volume_default_window(volume) -> WindowLevel:
    """:func:`default_window` of a Volume; the percentile window is computed once per volume."""
    if presets_for(volume.modality, volume.units):
        return default_window(volume.modality, volume.units, volume.array)
    return volume_auto_window(volume)


def prepare_display(volume) -> None:
    """Compute what showing ``volume`` reads from all of its voxels (value range; the percentile window when the
    modality has no presets) now, in the calling (loader) thread, so that the GUI thread never scans them."""
    volume.value_range()
    if not presets_for(volume.modality, volume.units):
        volume_auto_window(volume)


def colour_table(name: str) -> np.ndarray:
    """(256, 3) uint8 RGB for grey level 0..255."""
    ramp = np.arange(256, dtype=np.float64) / 255
    if name == "grey":
        rgb = np.stack([ramp] * 3, axis=1)
    elif name == "inverted":
        rgb = np.stack([1 - ramp] * 3, axis=1)
    elif name == "hot":
        rgb = np.stack([np.clip(3 * ramp, 0, 1), np.clip(3 * ramp - 1, 0, 1), np.clip(3 * ramp - 2, 0, 1)], axis=1)
    elif name == "rainbow":  # MATLAB's jet: dark blue → blue → cyan → yellow → red → dark red
        rgb = np.stack([np.clip(1.5 - np.abs(4 * ramp - c), 0, 1) for c in (3, 2, 1)], axis=1)
    else:
        raise ValueError(f"unknown colour map {name!r}; choose one of {', '.join(COLOUR_MAPS)}")
    return np.round(rgb * 255).astype(np.uint8)


def to_grey8(plane: np.ndarray, wl: WindowLevel, out: np.ndarray | None = None) -> np.ndarray:
    """Map values through the window to 0..255 (uint8)."""
    scale = 255.0 / wl.window
    if plane.dtype.kind in "iu" and plane.dtype.itemsize <= 2:
        # Integer images: one gather through a table covering the whole dtype (65536 entries at most).
        info = np.iinfo(plane.dtype)
        values = np.arange(info.min, info.max + 1, dtype=np.float64)
        table = np.clip((values - wl.low) * scale, 0, 255).astype(np.uint8)
        return np.take(table, plane.astype(np.int32) - info.min if info.min else plane, out=out)
    result = np.clip((plane.astype(np.float32) - np.float32(wl.low)) * np.float32(scale), 0, 255)
    if out is None:
        return result.astype(np.uint8)
    np.copyto(out, result, casting="unsafe")
    return out


def blend_table(colour_map: str, label_colours: np.ndarray | None = None, opacity: float = 0.4) -> np.ndarray:
    """(labels, 256) uint32 table of packed ARGB (Qt's Format_ARGB32 / RGB32 byte order on little-endian)."""
    grey = colour_table(colour_map).astype(np.float32)  # (256, 3)
    colours = np.zeros((1, 3), np.float32) if label_colours is None else np.asarray(label_colours, np.float32)
    n = max(1, len(colours))
    rgb = np.empty((n, 256, 3), np.float32)
    rgb[0] = grey
    if n > 1:
        rgb[1:] = (1 - opacity) * grey[None] + opacity * colours[1:, None, :]
    rgb = np.round(rgb).astype(np.uint32)
    return (0xFF000000 | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]).astype(np.uint32)


def render_rgba(grey8: np.ndarray, table: np.ndarray, labels: np.ndarray | None = None,
                out: np.ndarray | None = None) -> np.ndarray:
    """Packed ARGB uint32 image of a windowed slice, with labels blended in when given."""
    if labels is None:
        return np.take(table[0], grey8, out=out)
    flat = labels.astype(np.intp) * 256 + grey8
    return np.take(table.reshape(-1), flat, out=out)
