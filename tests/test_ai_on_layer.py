"""A shipped PET model on the PET layer of a study whose reference is the planning CT (bundled STS_001): the
probabilities are resampled linearly onto the CT grid before the arg-max, so the label map on the CT grid equals the
arg-max of independently resampled probabilities and is not the blocky nearest-neighbour copy of the PET result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from medseg_app.ai.bundle import find_bundle
from medseg_app.ai.inference import Predictor
from medseg_app.cli import main
from medseg_app.core.layer_transform import LayerTransform
from medseg_app.io import load_volume
from medseg_app.io.label_map import sidecar_path
from sitk_images import float_image as _sitk

SAMPLE = "resources/sample/STS_001"
CT_DIR, PET_DIR = f"{SAMPLE}/CT/dicom/image", f"{SAMPLE}/PET/dicom/image"
BOX = [[27.3, -36.1, -842.1], [118.2, 58.6, -744.0]]  # LPS mm around the GTV
BOX_TEXT = ",".join(f"{v:g}" for corner in BOX for v in corner)
MODEL = "pet_gtv_box_unet"


def dice(a, b) -> float:
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


def boundary_on_layer_edges(mask, reference, layer) -> float:
    """Fraction of the mask's boundary faces along i that lie on a boundary between two of the layer's voxels: 1 for a
    nearest-neighbour copy of the layer's labels, about ref spacing / layer spacing for a smooth surface."""
    k, j, i = np.nonzero(mask[:, :, 1:] != mask[:, :, :-1])
    faces = np.stack([i + 0.5, j, k], axis=1).astype(float)
    layer_i = layer.geometry.patient_to_index(reference.geometry.index_to_patient(faces))[:, 0]
    distance = np.abs(layer_i - (np.floor(layer_i) + 0.5))
    return float(np.mean(distance < 0.5 * reference.geometry.spacing[0] / layer.geometry.spacing[0] + 1e-3))


@pytest.fixture(scope="module")
def sample():
    return load_volume(CT_DIR), load_volume(PET_DIR)


@pytest.fixture(scope="module")
def on_ct(tmp_path_factory):
    """``medseg segment PET --on CT`` and ``medseg segment PET`` (PET grid), as written."""
    folder = tmp_path_factory.mktemp("on_ct")
    common = ["--model", MODEL, "--box", BOX_TEXT, "--device", "cpu"]
    assert main(["segment", PET_DIR, *common, "--on", CT_DIR, "--out", str(folder / "ct.nii.gz")]) == 0
    assert main(["segment", PET_DIR, *common, "--out", str(folder / "pet.nii.gz")]) == 0
    return sitk.ReadImage(str(folder / "ct.nii.gz")), sitk.ReadImage(str(folder / "pet.nii.gz")), folder


def test_segment_on_the_ct_writes_the_label_map_on_the_ct_grid(sample, on_ct, capsys):
    ct, pet = sample
    on_ct_image, on_pet_image, folder = on_ct
    assert on_ct_image.GetSize() == tuple(ct.size) and on_pet_image.GetSize() == tuple(pet.size)
    np.testing.assert_allclose(on_ct_image.GetOrigin(), ct.geometry.origin, atol=1e-3)
    np.testing.assert_allclose(on_ct_image.GetSpacing(), ct.geometry.spacing, atol=1e-5)
    labels = sitk.GetArrayFromImage(on_ct_image) > 0
    gtv = sitk.GetArrayFromImage(sitk.ReadImage(f"{SAMPLE}/CT/nifti/mask/mask.nii.gz")) > 0
    assert dice(labels, gtv) > 0.8
    # the same volume as on the PET grid (within 2 %)
    ml_ct = labels.sum() * np.prod(ct.geometry.spacing) / 1000
    ml_pet = (sitk.GetArrayFromImage(on_pet_image) > 0).sum() * np.prod(pet.geometry.spacing) / 1000
    assert ml_ct == pytest.approx(ml_pet, rel=0.02)
    assert "GTV" in sidecar_path(folder / "ct.nii.gz").read_text()


def test_the_ct_grid_result_is_the_arg_max_of_resampled_probabilities_not_a_nearest_neighbour_copy(sample, on_ct):
    ct, pet = sample
    on_ct_image, on_pet_image, _ = on_ct
    ours = sitk.GetArrayFromImage(on_ct_image) > 0
    # independently: the model's probabilities on the PET grid, resampled by SimpleITK (linear) onto the CT grid
    result = Predictor(find_bundle(MODEL), device="cpu").segment(pet.array, pet.geometry, BOX)
    channels = []
    for c, probabilities in enumerate(result.probabilities.astype(np.float32)):
        full = np.full(pet.array.shape, 1.0 if c == 0 else 0.0, np.float32)  # background outside the box
        full[result.region.slices] = probabilities
        channels.append(sitk.GetArrayFromImage(sitk.Resample(_sitk(pet, full), _sitk(ct), sitk.Transform(),
                                                             sitk.sitkLinear, 1.0 if c == 0 else 0.0)))
    independent = np.argmax(np.stack(channels), axis=0) > 0
    nearest = sitk.GetArrayFromImage(sitk.Resample(on_pet_image, _sitk(ct), sitk.Transform(),
                                                   sitk.sitkNearestNeighbor, 0)) > 0
    assert dice(ours, independent) > 0.99
    assert np.count_nonzero(ours != nearest) > 4 * np.count_nonzero(ours != independent)
    # the nearest-neighbour copy changes label only where the PET's voxels meet; ours anywhere (smooth)
    assert boundary_on_layer_edges(nearest, ct, pet) > 0.99
    assert boundary_on_layer_edges(ours, ct, pet) < 0.4
    assert boundary_on_layer_edges(independent, ct, pet) < 0.4


def test_a_moved_layer_moves_the_box_and_the_result_with_it(sample):
    """A PET displaced by a known translation (its transform says so) gives the same CT-grid result."""
    ct, pet = sample
    shift = np.array([12.0, -8.0, 6.54])
    moved = type(pet)(pet.array, type(pet.geometry)(pet.geometry.size, pet.geometry.spacing,
                                                   np.asarray(pet.geometry.origin) + shift, pet.geometry.direction),
                      modality=pet.modality, units=pet.units)
    predictor = Predictor(find_bundle(MODEL), device="cpu")
    same = predictor.segment(pet.array, pet.geometry, BOX, reference=ct.geometry)
    shifted = predictor.segment(moved.array, moved.geometry, BOX, reference=ct.geometry,
                                transform=LayerTransform.rigid(translation_mm=shift))
    a, b = same.label_map(ct.array.shape) > 0, shifted.label_map(ct.array.shape) > 0
    assert dice(a, b) > 0.97 and same.region == shifted.region


def test_segment_on_a_reference_of_another_patient_or_frame_of_reference_is_refused(tmp_path, capsys):
    import pydicom

    out = tmp_path / "x.nii.gz"
    common = ["--model", MODEL, "--box", BOX_TEXT, "--device", "cpu", "--out", str(out)]
    assert main(["segment", PET_DIR, *common, "--on", "tests/data/sts_mirp/STS_002/CT/dicom/image"]) == 2
    assert "another patient" in capsys.readouterr().err and not out.exists()
    other_frame = tmp_path / "pet_other_frame"
    other_frame.mkdir()
    for path in sorted(Path(PET_DIR).iterdir()):
        dataset = pydicom.dcmread(path)
        dataset.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.1"
        dataset.save_as(other_frame / path.name)
    assert main(["segment", str(other_frame), *common, "--on", CT_DIR]) == 2
    assert "different Frames of Reference" in capsys.readouterr().err and not out.exists()
    # an image file names no Frame of Reference: its scanner coordinates are taken as the reference's
    assert main(["segment", f"{SAMPLE}/PET/nifti/image/image.nii.gz", *common, "--on", CT_DIR]) == 0
    assert sitk.ReadImage(str(out)).GetSize() == sitk.ReadImage(f"{SAMPLE}/CT/nifti/mask/mask.nii.gz").GetSize()


def test_a_registration_file_places_a_pet_of_another_frame_of_reference_on_the_ct(tmp_path, on_ct):
    """The PET copied into another Frame of Reference and moved by 12, -8, 6.54 mm; its .tfm says so: the label map
    on the CT grid is the one of the unmoved PET."""
    import pydicom

    from medseg_app.io.spatial_registration import write_tfm

    shift = np.array([12.0, -8.0, 6.54])
    moved = tmp_path / "pet_moved"
    moved.mkdir()
    for path in sorted(Path(PET_DIR).iterdir()):
        dataset = pydicom.dcmread(path)
        dataset.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.2"
        dataset.ImagePositionPatient = [float(v) + d for v, d in zip(dataset.ImagePositionPatient, shift)]
        dataset.save_as(moved / path.name)
    write_tfm(tmp_path / "pet_to_ct.tfm", LayerTransform.rigid(translation_mm=shift))
    out = tmp_path / "moved_on_ct.nii.gz"
    assert main(["segment", str(moved), "--model", MODEL, "--box", BOX_TEXT, "--device", "cpu", "--on", CT_DIR,
                 "--transform", str(tmp_path / "pet_to_ct.tfm"), "--out", str(out)]) == 0
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(out))) > 0
    unmoved = sitk.GetArrayFromImage(on_ct[0]) > 0
    assert dice(labels, unmoved) > 0.97
