"""apply_rescale: reusing the raw buffer (inplace=True) gives the same values and dtype as copying."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_app.io.dicom_pixels import apply_rescale

CASES = [
    # raw dtype, raw values, slope, intercept, expected dtype
    (np.uint16, [0, 1000, 4095], 1, -1024, np.int16),       # typical CT stored unsigned
    (np.uint16, [32768, 40000, 65535], 1, -32768, np.int16),  # bits that are negative when seen as int16
    (np.uint16, [0, 65535], 1, -1024, np.int32),            # does not fit int16: widen
    (np.int16, [-2000, 0, 3000], 1, -1024, np.int16),
    (np.int16, [-32768, 32767], 1, 0, np.int16),            # nothing to do
    (np.uint8, [0, 255], 1, -10, np.int16),                 # narrower than the result: a copy
    (np.uint32, [0, 70000], 1, 5, np.int32),
    (np.int16, [-5, 0, 7], 2.5, -3, np.float32),
    (np.uint16, [0, 10, 65535], 0.5, 0, np.float32),
]


@pytest.mark.parametrize("dtype,values,slope,intercept,expected_dtype", CASES)
def test_inplace_equals_copy(dtype, values, slope, intercept, expected_dtype):
    raw = np.array(values, dtype=dtype).reshape(len(values), 1, 1)
    slopes, intercepts = np.full(len(values), float(slope)), np.full(len(values), float(intercept))
    kept = raw.copy()
    copied = apply_rescale(raw, slopes, intercepts)
    np.testing.assert_array_equal(raw, kept)  # without inplace the input is left alone
    reused = apply_rescale(raw.copy(), slopes, intercepts, inplace=True)
    exact = np.array(values, dtype=np.float64) * slope + intercept
    for out in (copied, reused):
        assert out.dtype == expected_dtype
        np.testing.assert_array_equal(out.ravel(), exact.astype(expected_dtype))


def test_per_frame_slopes_become_float32():
    raw = np.array([[[10]], [[10]]], dtype=np.int16)
    out = apply_rescale(raw, np.array([1.0, 2.0]), np.array([0.0, -1.5]), inplace=True)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.ravel(), [10.0, 18.5])
