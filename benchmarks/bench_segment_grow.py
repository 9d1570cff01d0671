"""Threshold and region-growing benchmarks on a 512×512×300 CT-like volume, against SimpleITK.

The volume is LUNG1-001's chest CT (134 slices) tiled to 300 slices with every other copy mirrored, so the
anatomy stays continuous across the joins; without the shared data a synthetic body phantom is used and the
benchmark names say so in their skip-free output (``volume`` in the first line of each doc).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.registry import Case, benchmark

LUNG1 = "nsclc_lung1_001/LUNG1-001/image"
SHAPE = (300, 512, 512)
BODY_SEED = (256, 300, 150)  # (i, j, k): paraspinal muscle on the tiled CT
BODY_RANGE = (-900, 3000)  # body incl. lung parenchyma: a ~24 M-voxel region on the tiled CT
LESION_CENTRE = (150, 260, 180)  # (k, j, i)
LESION_SEMI_AXES = (24, 50, 50)  # voxels: ~250 k voxels (0.98 × 0.98 × 3 mm: 49 × 49 × 72 mm)

_cache: dict[str, object] = {}


def ct_like_volume(data: Path):
    """(Volume, what it is): the tiled real CT when the shared data is present, else a synthetic phantom."""
    if "volume" in _cache:
        return _cache["volume"]
    from medseg_app.core.geometry import ImageGeometry
    from medseg_app.core.volume import Volume

    if (data / LUNG1).is_dir():
        from medseg_app.io.load import load_volume

        real = load_volume(data / LUNG1)
        tiles = [real.array, real.array[::-1]] * (-(-SHAPE[0] // (2 * real.array.shape[0])))
        array = np.ascontiguousarray(np.concatenate(tiles, axis=0)[: SHAPE[0]])
        spacing, what = real.spacing, "LUNG1-001 tiled to 300 slices"
    else:
        array, spacing, what = _phantom(), (0.98, 0.98, 3.0), "synthetic phantom (shared data absent)"
    volume = Volume(array, ImageGeometry(array.shape[::-1], spacing, (0, 0, 0)), modality="CT", units="HU")
    _cache["volume"] = volume, what
    return _cache["volume"]


def _phantom() -> np.ndarray:
    rng = np.random.default_rng(0)
    k, j, i = np.ogrid[: SHAPE[0], : SHAPE[1], : SHAPE[2]]
    body = ((j - 256) / 200.0) ** 2 + ((i - 256) / 230.0) ** 2 <= 1
    lungs = (((j - 230) / 110.0) ** 2 + ((np.abs(i - 256) - 110) / 70.0) ** 2 <= 1) & (k >= 0)
    array = np.full(SHAPE, -1000, np.int16)
    array[np.broadcast_to(body, SHAPE)] = 40
    array[np.broadcast_to(lungs & body, SHAPE)] = -850
    array += rng.normal(0, 20, SHAPE).astype(np.int16)
    return array


def _with_lesion(volume):
    """A copy with a ~250 k-voxel soft-tissue lesion (40 ± 15 HU) inside a 3-voxel shell of air."""
    if "lesion" in _cache:
        return _cache["lesion"]
    from medseg_app.core.volume import Volume

    array = volume.array.copy()
    centre, axes = np.asarray(LESION_CENTRE), np.asarray(LESION_SEMI_AXES)
    lo, hi = centre - axes - 4, centre + axes + 5
    k, j, i = np.ogrid[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    r2 = lambda a: ((k - centre[0]) / a[0]) ** 2 + ((j - centre[1]) / a[1]) ** 2 + ((i - centre[2]) / a[2]) ** 2
    block = array[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    block[r2(axes + 3) <= 1] = -850
    inside = r2(axes) <= 1
    block[inside] = np.random.default_rng(1).normal(40, 15, int(inside.sum())).astype(np.int16)
    _cache["lesion"] = Volume(array, volume.geometry, modality="CT", units="HU")
    return _cache["lesion"]


def _context(volume):
    from medseg_app.core.segmentation import Segmentation
    from medseg_app.tools.base import EditContext

    seg = Segmentation(volume.geometry)
    return EditContext(volume, seg, seg.add_segment("S").id)


def _same_region(shape):
    def verify(preview, reference):
        box, region = preview.changes[0][1], preview.changes[0][2]
        ours = np.zeros(shape, bool)
        ours[box.slices] = region
        import SimpleITK as sitk

        theirs = sitk.GetArrayFromImage(reference).astype(bool) if isinstance(reference, sitk.Image) \
            else np.asarray(reference, bool)
        if not np.array_equal(ours, theirs):
            raise AssertionError(f"regions differ in {int((ours != theirs).sum())} voxels")
    return verify


@benchmark("grow_large")
def grow_large(data: Path):
    """~24 M-voxel body region from one seed, 6-connected: RegionGrowingTool vs SimpleITK ConnectedThreshold."""
    import SimpleITK as sitk

    from medseg_app.tools.region_growing import RegionGrowingTool

    volume, _ = ct_like_volume(data)
    tool = RegionGrowingTool(lower=BODY_RANGE[0], upper=BODY_RANGE[1], connectivity=6)
    tool.activate(_context(volume))
    image = sitk.GetImageFromArray(volume.array)
    peer = lambda: sitk.ConnectedThreshold(image, seedList=[BODY_SEED], lower=BODY_RANGE[0], upper=BODY_RANGE[1],
                                           replaceValue=1)
    yield Case(ours=lambda: tool.preview(seeds=[BODY_SEED]), peer=peer, peer_name="SimpleITK",
               verify=_same_region(volume.array.shape))


@benchmark("grow_lesion")
def grow_lesion(data: Path):
    """~250 k-voxel lesion from one seed, range from the seed's neighbourhood: cropped growing vs ConnectedThreshold."""
    import SimpleITK as sitk

    from medseg_app.tools.intensity_mask import image_bounds
    from medseg_app.tools.region_growing import RegionGrowingTool

    volume = _with_lesion(ct_like_volume(data)[0])
    seed = tuple(int(v) for v in LESION_CENTRE[::-1])
    tool = RegionGrowingTool(tolerance=3.0)
    tool.activate(_context(volume))
    info = tool.preview(seeds=[seed]).info
    lower, upper = image_bounds(volume.array.dtype, info["lower"], info["upper"])
    image = sitk.GetImageFromArray(volume.array)
    peer = lambda: sitk.ConnectedThreshold(image, seedList=[seed], lower=lower, upper=upper, replaceValue=1)
    yield Case(ours=lambda: tool.preview(seeds=[seed]), peer=peer, peer_name="SimpleITK",
               verify=_same_region(volume.array.shape))


def _threshold_tool(data: Path):
    from medseg_app.tools.threshold import ThresholdTool

    volume, _ = ct_like_volume(data)
    tool = ThresholdTool(preset="ct_bone")
    tool.activate(_context(volume))
    return volume, tool


@benchmark("threshold_preview_slice")
def threshold_preview_slice(data: Path):
    """One 512×512 axial slice of the bone preset: ThresholdTool.preview_slice vs numpy comparisons."""
    volume, tool = _threshold_tool(data)
    plane = volume.array[150]

    def verify(ours, peer):
        if not np.array_equal(ours, peer):
            raise AssertionError("slice masks differ")

    yield Case(ours=lambda: tool.preview_slice(0, 150), peer=lambda: (plane >= 226) & (plane <= 32767),
               peer_name="numpy", verify=verify)


@benchmark("threshold_apply_volume")
def threshold_apply_volume(data: Path):
    """Whole 512×512×300 volume, bone preset, mask cropped to its box: ThresholdTool.preview vs SimpleITK."""
    import SimpleITK as sitk

    volume, tool = _threshold_tool(data)
    # Both sides start from and end in numpy: SimpleITK pays the copy in and out.
    peer = lambda: sitk.GetArrayFromImage(
        sitk.BinaryThreshold(sitk.GetImageFromArray(volume.array), 226, 32767, 1, 0))
    yield Case(ours=lambda: tool.preview(), peer=peer, peer_name="SimpleITK",
               verify=_same_region(volume.array.shape))


@benchmark("threshold_commit_volume")
def threshold_commit_volume(data: Path):
    """The bone preset on 512×512×300 written into a fresh segment through Segmentation.modify (one undo step)."""
    volume, _ = ct_like_volume(data)
    from medseg_app.tools.threshold import ThresholdTool

    def commit():
        tool = ThresholdTool(preset="ct_bone")
        tool.activate(_context(volume))
        tool.preview()
        return tool.apply()

    yield Case(ours=commit)
