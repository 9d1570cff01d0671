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
