"""A 512×512×N int16 CT for the "large study" test and benchmark, written straight to an uncompressed NRRD.

The bundled sample's CT (198×202×59, HU) is placed in a 512×512 field of air (-1000 HU) and its slices repeated
back and forth along k (0..58, 58..0, ...) so that neighbouring slices stay alike, as in a real CT. The file is
written slice by slice: writing 1000 slices (524 MB) never holds more than the 59-slice source in memory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CT = REPO / "resources" / "sample" / "STS_001" / "CT" / "dicom" / "image"
SIZE_IJ = 512
SPACING = (0.9765625, 0.9765625, 1.0)
ORIGIN = (-250.0, -250.0, -1200.0)


def _source_slices() -> np.ndarray:
    from medseg_app.io.load import load_volume

    sample = load_volume(SAMPLE_CT).array  # [k, j, i] int16 HU
    k, j, i = sample.shape
    field = np.full((k, SIZE_IJ, SIZE_IJ), -1000, np.int16)
    j0, i0 = (SIZE_IJ - j) // 2, (SIZE_IJ - i) // 2
    field[:, j0:j0 + j, i0:i0 + i] = sample
    return field


def slice_order(count: int, period: int) -> np.ndarray:
    """Source slice for each k: 0, 1, ..., period-1, period-1, ..., 0, 0, 1, ... (a mirrored repeat)."""
    phase = np.arange(count) % (2 * period)
    return np.where(phase < period, phase, 2 * period - 1 - phase)


def write_large_ct(path: str | Path, slices: int = 1000) -> Path:
    """Write the CT to ``path`` (.nrrd, raw int16, LPS); returns the path."""
    path = Path(path)
    source = _source_slices()
    header = (
        "NRRD0004\n"
        "# MedSeg synthetic CT: the bundled sample's slices repeated (see benchmarks/large_ct.py)\n"
        "type: int16\n"
        "dimension: 3\n"
        "space: left-posterior-superior\n"
        f"sizes: {SIZE_IJ} {SIZE_IJ} {slices}\n"
        f"space directions: ({SPACING[0]},0,0) (0,{SPACING[1]},0) (0,0,{SPACING[2]})\n"
        "kinds: domain domain domain\n"
        "endian: little\n"
        "encoding: raw\n"
        f"space origin: ({ORIGIN[0]},{ORIGIN[1]},{ORIGIN[2]})\n"
        "\n"
    )
    with open(path, "wb") as stream:
        stream.write(header.encode("ascii"))
        for k in slice_order(slices, len(source)):
            stream.write(source[k].astype("<i2", copy=False).tobytes())
    return path


def expected_slice(k: int, slices: int = 1000) -> np.ndarray:
    """The [j, i] voxels slice ``k`` of :func:`write_large_ct`'s file holds."""
    source = _source_slices()
    return source[slice_order(slices, len(source))[k]]
