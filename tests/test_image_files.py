"""NIfTI (3-D and 4-D, qform / sform), NRRD and MetaImage all land in the same LPS convention as SimpleITK."""

from __future__ import annotations

import gzip

import nibabel as nib
import nrrd
import numpy as np
import pytest
import SimpleITK as sitk

from conftest import SPINAL, STS_002
from medseg_app.core.errors import CorruptFileError, LoadError
from medseg_app.core.sitk_bridge import to_sitk
from medseg_app.io import load_volume

OBLIQUE = SPINAL / "t2s" / "t2s.nii.gz"


@pytest.fixture(scope="module")
def oblique():
    return load_volume(OBLIQUE)


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz", ".nrrd", ".mha", ".mhd"])
def test_round_trip_through_each_format(tmp_path, oblique, suffix):
    path = tmp_path / f"copy{suffix}"
    sitk.WriteImage(to_sitk(oblique), str(path))
    again = load_volume(path)
    assert again.geometry.same_grid(oblique.geometry, tol_mm=1e-4)
    np.testing.assert_array_equal(again.array, oblique.array)


def test_nrrd_in_ras_space_from_another_writer_lands_in_lps(tmp_path, oblique):
    """pynrrd, not ITK, writes the file: a right-anterior-superior NRRD must still give our LPS points."""
    ras = oblique.geometry.ras_affine()
    header = {
        "space": "right-anterior-superior",
        "space directions": ras[:3, :3].T,  # one row per axis
        "space origin": ras[:3, 3],
    }
    path = tmp_path / "ras.nrrd"
    nrrd.write(str(path), np.ascontiguousarray(oblique.array.transpose(2, 1, 0)), header)  # pynrrd is (i, j, k)
    again = load_volume(path)
    assert again.geometry.same_grid(oblique.geometry, tol_mm=1e-4)
    np.testing.assert_array_equal(again.array, oblique.array)


@pytest.mark.parametrize("form", ["qform", "sform"])
def test_nifti_with_only_qform_or_only_sform(tmp_path, oblique, form):
    affine = oblique.geometry.ras_affine()
    image = nib.Nifti1Image(oblique.array.transpose(2, 1, 0), affine)  # also sets pixdim, as writers do
    if form == "qform":
        image.set_qform(affine, code=1)
        image.set_sform(None, code=0)
    else:
        image.set_sform(affine, code=2)
        image.set_qform(None, code=0)
    path = tmp_path / f"{form}.nii.gz"
    nib.save(image, str(path))
    again = load_volume(path)
    assert again.geometry.same_grid(oblique.geometry, tol_mm=1e-3)
    np.testing.assert_array_equal(again.array, oblique.array)


def test_4d_nifti_picks_the_requested_volume(tmp_path):
    pet = nib.load(str(STS_002 / "PET" / "nifti" / "image" / "image.nii.gz"))
    frames = np.stack([pet.get_fdata(dtype=np.float32) * (t + 1) for t in range(3)], axis=-1)
    path = tmp_path / "dynamic.nii.gz"
    nib.save(nib.Nifti1Image(frames, pet.affine, pet.header), str(path))
    reference = load_volume(STS_002 / "PET" / "nifti" / "image" / "image.nii.gz")
    second = load_volume(path, volume_index=1)
    assert second.geometry.same_grid(reference.geometry, tol_mm=1e-4)
    np.testing.assert_allclose(second.array, reference.array * 2, rtol=1e-6)
    assert any("volume 2 of 3" in w for w in second.warnings)
    np.testing.assert_allclose(load_volume(path).array, reference.array, rtol=1e-6)
    with pytest.raises(LoadError, match="3 volumes"):
        load_volume(path, volume_index=3)


def test_truncated_nifti_is_named_in_a_clear_error(tmp_path):
    data = gzip.decompress(OBLIQUE.read_bytes())
    path = tmp_path / "cut.nii.gz"
    path.write_bytes(gzip.compress(data[: len(data) // 2]))
    with pytest.raises(CorruptFileError) as info:
        load_volume(path)
    message = str(info.value)
    assert str(path) in message and "truncated" in message
    assert message.count("\n") == 0


def test_label_map_keeps_integer_labels():
    labels = load_volume(SPINAL / "t2" / "t2_seg-manual_labeled.nii.gz")
    assert np.issubdtype(labels.array.dtype, np.integer) or np.all(labels.array == np.round(labels.array))
    assert set(np.unique(labels.array).astype(int)) == {0, 2, 3, 4, 5}


def _sitk_read(path):
    image = sitk.ReadImage(str(path))
    return sitk.GetArrayFromImage(image), image


@pytest.mark.parametrize("dtype", ["<i2", ">i2", "u1", "<u2", "<f4", ">f8", "<i4"])
@pytest.mark.parametrize("detached", [False, True])
def test_raw_nrrd_read_straight_into_the_array_matches_simpleitk(tmp_path, dtype, detached):
    """Raw NRRD voxels are read by MedSeg itself (io.image_files): voxels, geometry and value range must be
    exactly SimpleITK's, in either byte order, attached or detached, in RAS space."""
    rng = np.random.default_rng(3)
    data = (rng.normal(0, 300, (7, 5, 3)) if dtype[-2] == "f" else rng.integers(0, 200, (7, 5, 3))).astype(dtype)
    if dtype[-2] == "f":
        data[2, 1, 0] = np.inf
    header = {"encoding": "raw", "space": "right-anterior-superior",
              "space directions": np.array([[0.0, 1.5, 0.0], [-0.7, 0.0, 0.0], [0.0, 0.0, 2.5]]),
              "space origin": np.array([10.0, -20.5, 33.25])}
    path = tmp_path / ("image.nhdr" if detached else "image.nrrd")
    nrrd.write(str(path), data, header, detached_header=detached)  # pynrrd is (i, j, k)
    volume = load_volume(path)
    theirs, image = _sitk_read(path)
    assert volume.array.dtype == theirs.dtype
    np.testing.assert_array_equal(volume.array, theirs)
    assert tuple(volume.origin) == image.GetOrigin()
    assert tuple(volume.spacing) == image.GetSpacing()
    assert volume.geometry.direction_row_major() == list(image.GetDirection())
    assert volume.value_range() == (float(theirs.min()), float(theirs.max()))


def test_raw_nrrd_with_a_byte_skip_and_a_nan_matches_simpleitk(tmp_path):
    data = np.arange(4 * 6 * 5, dtype="<f4").reshape(4, 6, 5)
    data[1, 2, 3] = np.nan
    raw = tmp_path / "voxels.raw"
    raw.write_bytes(b"\x00" * 13 + data.tobytes())
    path = tmp_path / "image.nhdr"
    path.write_text("NRRD0004\ntype: float\ndimension: 3\nspace: left-posterior-superior\nsizes: 5 6 4\n"
                    "space directions: (1,0,0) (0,1,0) (0,0,1)\nkinds: domain domain domain\nendian: little\n"
                    "encoding: raw\nbyte skip: 13\nspace origin: (0,0,0)\ndata file: voxels.raw\n")
    volume = load_volume(path)
    theirs, _image = _sitk_read(path)
    np.testing.assert_array_equal(volume.array, theirs)
    low, high = volume.value_range()
    assert np.isnan(low) and np.isnan(high)  # as array.min() / max() say
