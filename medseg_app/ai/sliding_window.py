"""MONAI's sliding-window inference, bit for bit, with MedSeg's (k, j, i) arrays and fewer passes over the volume.

``sliding_window_logits`` gives exactly what ``monai.inferers.sliding_window_inference`` gives on the (i, j, k)
tensor, transposed to numpy's (C, k, j, i): the same windows in the same order, the same batches handed to the
predictor, the same weighted sums in the same order and the same division by the same count map. What it
saves is work around the network:

* the full-volume transposes in and out are done a few (i, k) planes at a time (cache-sized; a whole-volume
  ``ascontiguousarray`` of a reversed view is 2–4× slower), and the one out is fused with the final division;
* with ``mode="constant"`` the window weights are all 1: multiplying by them is skipped (x · 1 = x exactly) and
  the count map is the product of the per-axis window counts (small integers, so exact in float32), instead of
  a zeroed volume and one addition per window voxel;
* no zeroed stitching buffer: each window's voxels that no earlier window covered are written as
  ``window + 0.0`` (bit for bit MONAI's ``0.0 + window``), the rest added (``_window_pieces``);
* the logits reuse the memory of the transposed image, which is dead after the last window.

Cases it does not cover (an image smaller than the window, which MONAI pads; networks whose output is not one
tensor of the window's size) return None before or after the first batch, and the caller runs MONAI itself.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


# (a, c) planes per copy: big enough that a 512-plane volume takes few parallel ops (each one a fork/join of
# the intra-op threads, which a busy 2-core machine makes expensive), small enough to stay in cache.
_PLANES = 8
_SMALL = 1 << 20  # values: below this, one copy (fewer ops) is quicker than cache-sized pieces


def reversed_axes_copy(src, out=None):
    """A contiguous copy of a CPU tensor (..., a, b, c) laid out as (..., c, b, a), a few (a, c) planes at a time
    (cache-sized pieces: 2–4× faster than one strided copy of the whole volume); into ``out`` if given."""
    import torch

    *lead, a, b, c = src.shape
    if out is None:
        out = torch.empty((*lead, c, b, a), dtype=src.dtype)
    step = b if src.numel() <= _SMALL else _PLANES  # a small volume (a box model's grid): one copy
    for y in range(0, b, step):
        out[..., y:y + step, :].copy_(src[..., y:y + step, :].transpose(-1, -3))
    return out


def _axis_counts(size: int, roi: int, starts) -> np.ndarray:
    counts = np.zeros(size, dtype=np.float32)
    for s in starts:
        counts[s:s + roi] += 1.0
    return counts


def _window_pieces(slices, roi):
    """Per window: the box (window-relative) of voxels no earlier window covers, then the boxes of the rest.

    MONAI adds every window into a zeroed buffer. The windows come in lexicographic order of their starts
    (a product of strictly increasing starts per axis), so a voxel's first window is the one whose start is
    the last at or before it on every axis: that part of a window is a box beyond the previous start's window
    on each axis. Writing ``window + 0.0`` there is bit for bit ``0.0 + window`` (IEEE addition commutes, -0
    included) and needs no zeroed buffer; the rest of the window, up to three slabs, is added as MONAI does.
    Returns None where the windows are not such a product (then: a zeroed buffer and additions only).
    """
    starts = [sorted({s[d].start for s in slices}) for d in range(3)]
    if [tuple(s[d].start for d in range(3)) for s in slices] != [(x, y, z) for x in starts[0] for y in starts[1]
                                                                for z in starts[2]]:
        return None
    previous = [{b: a for a, b in zip(axis, axis[1:])} for axis in starts]
    pieces = []
    for s in slices:
        fresh = [0 if s[d].start not in previous[d] else max(previous[d][s[d].start] + roi[d] - s[d].start, 0)
                 for d in range(3)]
        full = [slice(0, r) for r in roi]
        new = [slice(f, r) for f, r in zip(fresh, roi)]
        seen = [(slice(0, fresh[0]), full[1], full[2]), (new[0], slice(0, fresh[1]), full[2]),
                (new[0], new[1], slice(0, fresh[2]))]
        pieces.append((tuple(new), [box for box in seen if all(b.stop > b.start for b in box)]))
    return pieces


def sliding_window_logits(image: np.ndarray, roi, sw_batch_size: int, overlap: float, mode: str,
                          predictor: Callable, sw_device, device, channels: int = 1):
    """Logits (C, k, j, i) float32 of ``predictor`` slid over ``image`` (k, j, i), or None (then use MONAI).

    ``roi`` is in MONAI's (i, j, k) order; ``sw_device`` / ``device`` as in ``sliding_window_inference``.
    ``channels``: the expected C. The result's memory first holds the transposed image (dead once the last
    window has run), which spares the first touch of one volume's worth of fresh pages.
    """
    import torch
    from monai.data.utils import compute_importance_map, dense_patch_slices
    from monai.inferers.utils import _get_scan_interval
    from monai.utils import BlendMode, look_up_option

    if image.ndim != 3 or image.dtype != np.float32:
        return None
    image_size = tuple(int(v) for v in image.shape[::-1])  # (i, j, k)
    roi = tuple(int(s) if r is None or int(r) <= 0 else int(r) for r, s in zip(roi, image_size))
    if any(r > s for r, s in zip(roi, image_size)):
        return None  # MONAI pads the image to the window first
    constant = look_up_option(mode, BlendMode) == BlendMode.CONSTANT
    sw_device = torch.device(sw_device)
    device = torch.device(device)

    voxels = image.size
    storage = torch.empty(max(int(channels), 1) * voxels, dtype=torch.float32)
    inputs = reversed_axes_copy(torch.from_numpy(image), storage[:voxels].view(image_size))[None, None]
    scan_interval = _get_scan_interval(image_size, roi, 3, (float(overlap),) * 3)
    slices = dense_patch_slices(image_size, roi, scan_interval)
    importance = compute_importance_map(roi, mode=mode, sigma_scale=0.125, device=sw_device,
                                        dtype=torch.float32)[None, None]

    output = count = None
    for first in range(0, len(slices), sw_batch_size):
        window_slices = slices[first:first + sw_batch_size]
        if sw_batch_size > 1:
            batch = torch.cat([inputs[(slice(0, 1), slice(None), *s)] for s in window_slices]).to(sw_device)
        else:
            batch = inputs[(slice(0, 1), slice(None), *window_slices[0])].to(sw_device)
        out = predictor(batch)
        if output is None:
            if (not isinstance(out, torch.Tensor) or out.dtype != torch.float32 or out.ndim != 5
                    or out.shape[0] != len(window_slices) or tuple(out.shape[2:]) != roi):
                return None
            shape = (1, out.shape[1], *image_size)
            pieces = _window_pieces(slices, roi)
            output = (torch.zeros if pieces is None else torch.empty)(shape, dtype=torch.float32, device=device)
            if constant:
                starts = [sorted({s[d].start for s in slices}) for d in range(3)]
                count = [_axis_counts(image_size[d], roi[d], starts[d]) for d in range(3)]
            else:
                count = torch.zeros((1, 1, *image_size), dtype=torch.float32, device=device)
                weights = importance.to(device)
                for s in slices:
                    count[(slice(None), slice(None), *s)] += weights
        if not constant:
            out *= importance
        out = out.to(device)
        for n, (s, window) in enumerate(zip(window_slices, out)):
            target = output[0, :, s[0], s[1], s[2]]
            if pieces is None:
                target += window
                continue
            new, seen = pieces[first + n]
            torch.add(window[(slice(None), *new)], 0.0, out=target[(slice(None), *new)])
            for box in seen:
                target[(slice(None), *box)] += window[(slice(None), *box)]

    channels = output.shape[1]
    if constant:
        cx, cy, cz = (torch.from_numpy(c).to(device) for c in count)
        plane = cx[:, None, None] * cz[None, None, :]  # times cy[j]: every voxel's count, an exact small integer
        count = None
    if device.type != "cpu":
        full = (plane * cy[None, :, None])[None, None] if count is None else count
        return (output / full)[0].permute(0, 3, 2, 1).contiguous().cpu().numpy()
    del inputs, batch  # the image is not needed any more: its memory takes the logits
    logits_shape = (channels, image_size[2], image_size[1], image_size[0])
    logits = (storage.view(logits_shape) if storage.numel() == channels * voxels else
              torch.empty(logits_shape, dtype=torch.float32))
    for y in range(0, image_size[1], _PLANES):
        j = slice(y, y + _PLANES)
        divisor = plane * cy[None, j, None] if count is None else count[0, 0, :, j, :]
        torch.div(output[0, :, :, j, :], divisor, out=logits[:, :, j, :].permute(0, 3, 2, 1))
    return logits.numpy()
