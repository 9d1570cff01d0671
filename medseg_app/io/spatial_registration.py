"""A layer's transform to the reference as a file: a DICOM Spatial Registration object (REG) or an ITK ``.tfm``.

REG (SOP Class 1.2.840.10008.5.1.4.1.1.66.1, PS3.3 A.39): the registered frame is the reference's Frame of
Reference. Its Registration Sequence has one item per series: the reference's (identity) and the layer's, whose
Matrix Registration Sequence → Matrix Sequence holds the Frame of Reference Transformation Matrix that takes the
layer's patient coordinates into the reference's (:attr:`LayerTransform.layer_to_reference`), typed RIGID or
AFFINE. Each item lists its series' images (Referenced Image Sequence), and the Common Instance Reference module
lists both series (Referenced Series Sequence for the reference's study, Studies Containing Other Referenced
Instances for a layer from another study). Patient and study are copied from the reference's first image, as the
RTSTRUCT export does.

Reading takes the two volumes it must join: every item must reference the reference's or the layer's series
(by image, else by Frame of Reference), or the file is refused in one sentence and nothing changes. The result is
``inverse(M_reference) · M_layer`` so a REG written the other way round (the layer as the registered frame) reads
the same.

``.tfm`` (ITK transform file, :func:`SimpleITK.WriteTransform`): the ITK sense, fixed = reference → moving = layer,
i.e. :attr:`LayerTransform.reference_to_layer` as an AffineTransform; reading accepts any matrix-offset or
translation transform.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.valuerep import format_number_as_ds
from pydicom.uid import generate_uid

from ..core.errors import LoadError, MedSegError
from ..core.layer_resampling import sitk_transform
from ..core.layer_transform import LayerTransform
from ..core.privacy import get_logger
from ..core.volume import Volume
from .dicom_files import read_dicom
from .dicom_writing import copy_patient_and_study, item, save_with_file_meta, source_header

SPATIAL_REGISTRATION_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.1"
REGISTRATION_SUFFIXES = (".dcm", ".tfm")
_log = get_logger("export")


class RegistrationFileError(LoadError):
    """A registration file that cannot be written or joined to these two series (one sentence)."""


def matrix_type(matrix: np.ndarray) -> str:
    linear = np.asarray(matrix, dtype=float)[:3, :3]
    rigid = np.allclose(linear.T @ linear, np.eye(3), atol=1e-6) and np.linalg.det(linear) > 0
    return "RIGID" if rigid else "AFFINE"


def _ds(value: float) -> str:
    """A matrix element as a DS string at full DS precision (16 characters: ~1e-13 for rotation terms)."""
    text = format_number_as_ds(float(value))
    return "0" if float(text) == 0 else text


def _check_series(volume: Volume, role: str) -> None:
    ident = volume.identity
    if not ident.sop_instance_uids or not ident.series_instance_uid or not ident.frame_of_reference_uid:
        raise RegistrationFileError(None, f"the {role} was not loaded from a DICOM series with a Frame of Reference, "
                                          "so a DICOM registration cannot reference it; save a .tfm instead.")


def _registration_item(volume: Volume, matrix: np.ndarray, comment: str) -> Dataset:
    ident = volume.identity
    images = [item(ReferencedSOPClassUID=ident.sop_class_uid, ReferencedSOPInstanceUID=uid)
              for uid in dict.fromkeys(ident.sop_instance_uids)]
    matrix_item = item(FrameOfReferenceTransformationMatrixType=matrix_type(matrix),
                        FrameOfReferenceTransformationMatrix=[_ds(v) for v in np.asarray(matrix).reshape(16)])
    # an empty Registration Type Code Sequence (Type 2): no code says "rigid / affine" beyond the matrix type
    registration = item(MatrixSequence=Sequence([matrix_item]), FrameOfReferenceTransformationComment=comment,
                         RegistrationTypeCodeSequence=Sequence([]))
    return item(ReferencedImageSequence=Sequence(images), FrameOfReferenceUID=ident.frame_of_reference_uid,
                 MatrixRegistrationSequence=Sequence([registration]))


def _series_reference(volume: Volume) -> Dataset:
    ident = volume.identity
    instances = [item(ReferencedSOPClassUID=ident.sop_class_uid, ReferencedSOPInstanceUID=uid)
                 for uid in dict.fromkeys(ident.sop_instance_uids)]
    return item(SeriesInstanceUID=ident.series_instance_uid, ReferencedInstanceSequence=Sequence(instances))


def write_spatial_registration(path: str | Path, reference: Volume, layer: Volume, transform: LayerTransform,
                               description: str = "MedSeg registration") -> Dataset:
    """Write the REG object placing ``layer`` on ``reference`` with ``transform``; returns the dataset written."""
    _check_series(reference, "reference")
    _check_series(layer, "layer")
    ref = reference.identity
    source = source_header(reference, lambda sentence: RegistrationFileError(reference.source_path, sentence),
                           "the registration")
    now = datetime.datetime.now()
    ds = Dataset()
    copy_patient_and_study(ds, source, ref.study_instance_uid)
    if not ds.StudyDescription:
        del ds.StudyDescription
    ds.SOPClassUID, ds.SOPInstanceUID = SPATIAL_REGISTRATION_SOP_CLASS, generate_uid()
    ds.Modality, ds.SeriesInstanceUID, ds.SeriesNumber = "REG", generate_uid(), 9002
    ds.SeriesDescription = description[:64]
    ds.Laterality = source.get("Laterality", "")  # Type 2C, wanted for paired body parts (an extremity)
    ds.FrameOfReferenceUID = ref.frame_of_reference_uid
    ds.PositionReferenceIndicator = source.get("PositionReferenceIndicator", "")
    ds.Manufacturer, ds.ManufacturerModelName, ds.SoftwareVersions = "MedSeg", "MedSeg", "1"
    ds.DeviceSerialNumber = "1"
    ds.SeriesDate = ds.ContentDate = ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.SeriesTime = ds.ContentTime = ds.InstanceCreationTime = now.strftime("%H%M%S")
    ds.InstanceNumber, ds.ContentLabel = 1, "REGISTRATION"
    ds.ContentDescription, ds.ContentCreatorName = description[:64], ""
    layer_to_reference = transform.layer_to_reference
    ds.RegistrationSequence = Sequence([
        _registration_item(reference, np.eye(4), "reference (registered frame)"),
        _registration_item(layer, layer_to_reference, f"{matrix_type(layer_to_reference).lower()} "
                                                      "layer to reference"),
    ])
    same_study = [reference] + ([layer] if layer.identity.study_instance_uid == ref.study_instance_uid else [])
    ds.ReferencedSeriesSequence = Sequence([_series_reference(v) for v in same_study])
    if len(same_study) == 1:
        ds.StudiesContainingOtherReferencedInstancesSequence = Sequence([item(
            StudyInstanceUID=layer.identity.study_instance_uid,
            ReferencedSeriesSequence=Sequence([_series_reference(layer)]))])
    path = save_with_file_meta(ds, path)
    _log.info("DICOM REG written: %s (%s)", path, matrix_type(layer_to_reference))
    return ds


def _item_matrix(path: Path, registered: Dataset) -> np.ndarray:
    matrix = np.eye(4)
    for registration in registered.get("MatrixRegistrationSequence", []):
        for entry in registration.get("MatrixSequence", []):
            values = [float(v) for v in entry.get("FrameOfReferenceTransformationMatrix", [])]
            if len(values) != 16:
                raise RegistrationFileError(path, "has a Frame of Reference Transformation Matrix that is not 16 "
                                                  "numbers.")
            # several matrices in one item are applied in sequence order (PS3.3 C.20.2.1.1)
            matrix = np.asarray(values).reshape(4, 4) @ matrix
    return matrix


def _owner(entry: Dataset, reference: Volume, layer: Volume) -> str | None:
    """Which of the two series a Registration Sequence item is about: "reference", "layer" or None."""
    images = {str(i.get("ReferencedSOPInstanceUID", "")) for i in entry.get("ReferencedImageSequence", [])}
    ref_uids, layer_uids = set(reference.identity.sop_instance_uids), set(layer.identity.sop_instance_uids)
    if images:
        if images <= ref_uids:
            return "reference"
        return "layer" if images <= layer_uids else None
    frame = str(entry.get("FrameOfReferenceUID", ""))
    ref_frame, layer_frame = reference.identity.frame_of_reference_uid, layer.identity.frame_of_reference_uid
    if frame and frame == ref_frame and frame != layer_frame:
        return "reference"
    if frame and frame == layer_frame and frame != ref_frame:
        return "layer"
    return None


def _referenced_series(ds: Dataset) -> set[str]:
    series = {str(s.get("SeriesInstanceUID", "")) for s in ds.get("ReferencedSeriesSequence", [])}
    for study in ds.get("StudiesContainingOtherReferencedInstancesSequence", []):
        series |= {str(s.get("SeriesInstanceUID", "")) for s in study.get("ReferencedSeriesSequence", [])}
    return series - {""}


def read_spatial_registration(path: str | Path, reference: Volume, layer: Volume) -> LayerTransform:
    """The layer's transform from a REG file that registers exactly these two series."""
    path = Path(path)
    try:
        ds = read_dicom(path)
    except (pydicom.errors.InvalidDicomError, OSError) as exc:
        raise RegistrationFileError(path, f"is not a readable DICOM file ({type(exc).__name__}).") from None
    if str(ds.get("SOPClassUID", "")) != SPATIAL_REGISTRATION_SOP_CLASS:
        raise RegistrationFileError(path, "is not a DICOM Spatial Registration object.")
    ours = {reference.identity.series_instance_uid, layer.identity.series_instance_uid}
    others = _referenced_series(ds) - ours
    items = list(ds.get("RegistrationSequence", []))
    owners = [_owner(entry, reference, layer) for entry in items]
    if others or None in owners:
        raise RegistrationFileError(path, "registers other series than the reference and this layer, so it was not "
                                          "applied.")
    if "layer" not in owners:
        raise RegistrationFileError(path, "holds no matrix for this layer's series, so it was not applied.")
    try:
        layer_to_frame = _item_matrix(path, items[owners.index("layer")])
        reference_to_frame = _item_matrix(path, items[owners.index("reference")]) if "reference" in owners \
            else np.eye(4)
        return LayerTransform.from_layer_to_reference(np.linalg.inv(reference_to_frame) @ layer_to_frame)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise RegistrationFileError(path, f"holds a matrix that is not an invertible affine map ({exc}).") from None


def write_tfm(path: str | Path, transform: LayerTransform) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteTransform(sitk_transform(transform), str(path))


def read_tfm(path: str | Path) -> LayerTransform:
    path = Path(path)
    try:
        transform = sitk.ReadTransform(str(path))
    except RuntimeError:
        raise RegistrationFileError(path, "is not a readable ITK transform file.") from None
    if transform.GetName() == "CompositeTransform":
        composite = sitk.CompositeTransform(transform)
        if composite.GetNumberOfTransforms() != 1:
            raise RegistrationFileError(path, "holds several transforms; MedSeg reads one affine transform.")
        transform = composite.GetNthTransform(0)
    transform = transform.Downcast()
    if transform.GetDimension() != 3:
        raise RegistrationFileError(path, "holds a transform that is not 3-D.")
    m = np.eye(4)
    if isinstance(transform, sitk.TranslationTransform):
        m[:3, 3] = transform.GetOffset()
    elif hasattr(transform, "GetMatrix") and hasattr(transform, "GetCenter"):
        from ..core.registration import affine_matrix

        m = affine_matrix(transform)
    else:
        raise RegistrationFileError(path, f"holds a {transform.GetName()}, not an affine transform.")
    return LayerTransform(m)


def write_registration(path: str | Path, reference: Volume, layer: Volume, transform: LayerTransform) -> None:
    """By extension: ``.tfm`` an ITK transform file, anything else a DICOM REG object."""
    if str(path).lower().endswith(".tfm"):
        write_tfm(path, transform)
    else:
        write_spatial_registration(path, reference, layer, transform)


def read_registration(path: str | Path, reference: Volume, layer: Volume) -> LayerTransform:
    if str(path).lower().endswith(".tfm"):
        return read_tfm(path)
    return read_spatial_registration(path, reference, layer)


__all__ = ["MedSegError", "RegistrationFileError", "SPATIAL_REGISTRATION_SOP_CLASS", "read_registration",
           "read_spatial_registration", "read_tfm", "write_registration", "write_spatial_registration",
           "write_tfm"]
