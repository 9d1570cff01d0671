"""RTSTRUCT, RTDOSE, SEG, SR and RTPLAN objects are recognised and listed, never mistaken for images."""

from __future__ import annotations

import shutil

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from conftest import SAMPLE, series_dir
from medseg_app.core.errors import EmptyInputError
from medseg_app.io import list_series, load_volume

CT = series_dir(SAMPLE, "CT")
RS = SAMPLE / "CT" / "dicom" / "mask" / "RS.dcm"


def _retyped_slice(dst, sop_class: str, modality: str):
    """A real CT slice re-labelled as another object: it keeps Rows, Columns and pixel data."""
    ds = pydicom.dcmread(next(iter(sorted(CT.glob("*.dcm")))))
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    ds.save_as(dst)
    return ds.SeriesInstanceUID


def _segmentation(dst):
    sources = [pydicom.dcmread(p) for p in sorted(CT.glob("*.dcm"))[:3]]
    mask = np.zeros((3, sources[0].Rows, sources[0].Columns), dtype=bool)
    mask[:, 50:80, 60:90] = True
    description = hd.seg.SegmentDescription(
        segment_number=1, segment_label="box",
        segmented_property_category=hd.sr.CodedConcept("91723000", "SCT", "Anatomical Structure"),
        segmented_property_type=hd.sr.CodedConcept("39607008", "SCT", "Lung"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    seg = hd.seg.Segmentation(
        source_images=sources, pixel_array=mask, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description], series_instance_uid=generate_uid(), series_number=99,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer="MedSeg tests",
        manufacturer_model_name="tests", software_versions="0", device_serial_number="0",
    )
    seg.save_as(dst)


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    shutil.copytree(CT, root / "ct")
    shutil.copy(RS, root / "rs.dcm")
    _retyped_slice(root / "dose.dcm", "1.2.840.10008.5.1.4.1.1.481.2", "RTDOSE")
    _retyped_slice(root / "sr.dcm", "1.2.840.10008.5.1.4.1.1.88.33", "SR")
    _retyped_slice(root / "plan.dcm", "1.2.840.10008.5.1.4.1.1.481.5", "RTPLAN")
    _segmentation(root / "seg.dcm")
    return root


def test_each_object_is_listed_by_kind(mixed_folder):
    listing = list_series(mixed_folder)
    assert [(s["modality"], s["slices"]) for s in listing["series"]] == [("CT", 59)]
    assert sorted(o["kind"] for o in listing["objects"]) == ["RTDOSE", "RTPLAN", "RTSTRUCT", "SEG", "SR"]


def test_the_image_loads_despite_the_objects(mixed_folder):
    volume = load_volume(mixed_folder)
    assert volume.size == (198, 202, 59) and volume.modality == "CT"
    assert volume.warnings == []


def test_a_folder_of_objects_only_says_so(tmp_path):
    shutil.copy(RS, tmp_path / "rs.dcm")
    _segmentation(tmp_path / "seg.dcm")
    with pytest.raises(EmptyInputError, match="no DICOM images.*RTSTRUCT, SEG"):
        load_volume(tmp_path)
