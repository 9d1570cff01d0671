"""MedSeg's sliding window is MONAI's, bit for bit: same windows, batches, sums and counts, in numpy's layout.

``medseg_app.ai.sliding_window`` stitches without a zeroed buffer, skips the all-ones weights and fuses the
transposes; every one of those must leave the result identical to ``sliding_window_inference`` (compared as
raw bits, so even -0.0 against +0.0 would fail).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
monai_inferers = pytest.importorskip("monai.inferers")

from medseg_app.ai.sliding_window import reversed_axes_copy, sliding_window_logits  # noqa: E402


@pytest.fixture(scope="module")
def network():
    from monai.networks.nets import UNet

    torch.manual_seed(0)
    return UNet(3, 1, 3, (8, 16, 32), (2, 2), num_res_units=1).eval()


def _monai(image, roi, batch, overlap, mode, predictor):
    tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 1, 0)))[None, None]
    with torch.inference_mode():
        out = monai_inferers.sliding_window_inference(tensor, roi, batch, predictor, overlap, mode=mode,
                                                      sw_device="cpu", device="cpu")
    return np.ascontiguousarray(out[0].numpy().transpose(0, 3, 2, 1))


@pytest.mark.parametrize("shape, roi, batch, overlap, mode, channels", [
    ((40, 50, 37), (32, 24, 16), 2, 0.25, "constant", 3),
    ((40, 50, 37), (32, 24, 16), 1, 0.5, "gaussian", 3),
    ((40, 50, 37), (32, 24, 16), 3, 0.6, "constant", 2),  # a wrong channel hint: a separate result buffer
    ((40, 50, 37), (36, 24, 40), 4, 0.25, "gaussian", 3),  # the window spans the whole k axis
    ((40, 50, 37), (36, 48, 40), 2, 0.0, "constant", 3),
    ((16, 64, 64), (32, 32, 16), 2, 0.25, "constant", 3),
])
def test_same_bits_as_monai(network, shape, roi, batch, overlap, mode, channels):
    image = np.random.default_rng(1).normal(0, 1, shape).astype(np.float32)
    image[0, 0, :4] = -0.0
    with torch.inference_mode():
        ours = sliding_window_logits(image, roi, batch, overlap, mode, network, "cpu", "cpu", channels)
    expected = _monai(image, roi, batch, overlap, mode, network)
    assert ours.shape == expected.shape and ours.flags.c_contiguous
    assert np.array_equal(ours.view(np.uint32), expected.view(np.uint32))


def test_signed_zeros_stitch_like_monai():
    """0.0 + (-0.0) is +0.0: the first window's voxels must come out as MONAI's zeroed buffer makes them."""
    image = np.zeros((20, 24, 28), np.float32)

    def negative_zero(batch):
        return torch.full((batch.shape[0], 2, *batch.shape[2:]), -0.0)

    with torch.inference_mode():
        ours = sliding_window_logits(image, (16, 16, 16), 2, 0.25, "constant", negative_zero, "cpu", "cpu", 2)
    expected = _monai(image, (16, 16, 16), 2, 0.25, "constant", negative_zero)
    assert np.array_equal(ours.view(np.uint32), expected.view(np.uint32))


def test_cases_left_to_monai(network):
    small = np.zeros((8, 8, 8), np.float32)  # smaller than the window: MONAI pads
    assert sliding_window_logits(small, (16, 16, 16), 1, 0.25, "constant", network, "cpu", "cpu") is None
    assert sliding_window_logits(small.astype(np.float64), (4, 4, 4), 1, 0.25, "constant", network, "cpu",
                                 "cpu") is None

    def two_outputs(batch):
        return batch, batch

    assert sliding_window_logits(small, (4, 4, 4), 1, 0.25, "constant", two_outputs, "cpu", "cpu") is None


def test_reversed_axes_copy():
    src = torch.arange(2 * 5 * 19 * 7, dtype=torch.float32).reshape(2, 5, 19, 7)
    assert torch.equal(reversed_axes_copy(src), src.permute(0, 3, 2, 1).contiguous())
    assert torch.equal(reversed_axes_copy(src[0]), src[0].permute(2, 1, 0).contiguous())
