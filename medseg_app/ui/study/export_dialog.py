"""File ▸ Export segmentation…: choose the format and the segments, then where to write (never overwriting a
file without asking). Emits ``export_requested(path, format, segment_ids, anonymise)``; the window does the writing.

"Anonymise (for sharing outside the hospital)" applies to label maps and meshes (structure names lose the
patient's name, ID and birth date, UIDs are replaced; see core/privacy.py); it is off and disabled for RTSTRUCT and
SEG, which must reference the source study. An anonymised export refuses a file name that holds the patient's name
or ID."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLabel,
                               QListWidget, QListWidgetItem, QMessageBox, QVBoxLayout, QWidget)

from ...core.privacy import contains_identifiers

DICOM_FORMATS = ("rtstruct", "seg")
ANONYMISE_TIP = ("For files meant to leave the hospital: structure names lose the patient's name, ID and birth "
                 "date, UIDs are replaced by fresh ones, and no source path is written.")
NO_DICOM_ANONYMISE = "RTSTRUCT and SEG must reference the source study, so they cannot be anonymised."

# key, label, file filter, default suffix
FORMATS = [
    ("rtstruct", "DICOM RT Structure Set (RTSTRUCT)", "DICOM (*.dcm)", ".dcm"),
    ("seg", "DICOM Segmentation (SEG)", "DICOM (*.dcm)", ".dcm"),
    ("nifti", "NIfTI label map", "NIfTI (*.nii.gz *.nii)", ".nii.gz"),
    ("nrrd", "NRRD label map", "NRRD (*.nrrd)", ".nrrd"),
    ("stl", "STL meshes (one file per segment)", "STL (*.stl)", ".stl"),
    ("obj", "OBJ meshes (one file per segment)", "OBJ (*.obj)", ".obj"),
    ("ply", "PLY meshes (one file per segment)", "PLY (*.ply)", ".ply"),
]


class ExportDialog(QDialog):
    export_requested = Signal(str, str, list, bool)  # path, format key, segment ids, anonymise

    def __init__(self, segments: list[tuple[int, str, bool]], parent: QWidget | None = None):
        """``segments``: (id, name, empty) of every segment, in list order; empty ones cannot be chosen."""
        super().__init__(parent)
        self.setWindowTitle("Export segmentation")
        self.format_box = QComboBox()
        for key, label, _, _ in FORMATS:
            self.format_box.addItem(label, key)
        self.segment_list = QListWidget()
        for segment_id, name, empty in segments:
            item = QListWidgetItem(name + ("  (empty)" if empty else ""))
            item.setData(Qt.ItemDataRole.UserRole, segment_id)
            item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | (Qt.ItemFlag.NoItemFlags if empty
                                                              else Qt.ItemFlag.ItemIsEnabled))
            item.setCheckState(Qt.CheckState.Unchecked if empty else Qt.CheckState.Checked)
            self.segment_list.addItem(item)
        self.anonymise_box = QCheckBox("Anonymise (for sharing outside the hospital)")
        self.anonymise_box.setToolTip(ANONYMISE_TIP)
        self.format_box.currentIndexChanged.connect(lambda _: self._format_changed())
        self._format_changed()
        self.message = QLabel("")
        self.message.setStyleSheet("color: #c0392b;")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.choose_and_export)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Format:", self.format_box)
        form.addRow("Segments:", self.segment_list)
        form.addRow("", self.anonymise_box)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _format_changed(self) -> None:
        dicom = self.format_key() in DICOM_FORMATS
        if dicom:
            self.anonymise_box.setChecked(False)
        self.anonymise_box.setEnabled(not dicom)
        self.anonymise_box.setToolTip(NO_DICOM_ANONYMISE if dicom else ANONYMISE_TIP)

    def anonymise(self) -> bool:
        return self.anonymise_box.isEnabled() and self.anonymise_box.isChecked()

    def set_format(self, key: str) -> None:
        self.format_box.setCurrentIndex([f[0] for f in FORMATS].index(key))

    def format_key(self) -> str:
        return self.format_box.currentData()

    def chosen(self) -> list[int]:
        items = (self.segment_list.item(r) for r in range(self.segment_list.count()))
        return [item.data(Qt.ItemDataRole.UserRole) for item in items if item.checkState() == Qt.CheckState.Checked]

    def set_chosen(self, segment_ids: list[int]) -> None:
        for r in range(self.segment_list.count()):
            item = self.segment_list.item(r)
            if item.flags() & Qt.ItemFlag.ItemIsEnabled:
                wanted = item.data(Qt.ItemDataRole.UserRole) in segment_ids
                item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)

    def choose_and_export(self) -> None:
        ids = self.chosen()
        if not ids:
            self.message.setText("Choose at least one segment with voxels to export.")
            return
        key, _, file_filter, suffix = FORMATS[self.format_box.currentIndex()]
        path, _ = QFileDialog.getSaveFileName(self, "Export segmentation to", "", file_filter,
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if not path:
            return
        path = Path(path)
        if not any(path.name.lower().endswith(s) for s in file_filter[file_filter.index("(") + 1:-1]
                   .replace("*", "").split()):
            path = path.with_name(path.name + suffix)
        anonymise = self.anonymise()
        if anonymise and contains_identifiers(path.name):
            self.message.setText("The file name holds the patient's name or ID; choose another name for an "
                                 "anonymised export.")
            return
        names = [self.segment_list.item(r).text() for r in range(self.segment_list.count())
                 if self.segment_list.item(r).data(Qt.ItemDataRole.UserRole) in ids]
        from ...render.mesh_export import export_targets  # VTK: imported when an export is asked for

        existing = [p for p in export_targets(path, key, names, anonymise) if p.exists()]
        if existing:
            answer = QMessageBox.question(self, "Overwrite?", f"{existing[0]} already exists"
                                          + (f" (and {len(existing) - 1} more)" if len(existing) > 1 else "")
                                          + ". Overwrite it?")
            if answer != QMessageBox.StandardButton.Yes:
                self.message.setText("Nothing was written.")
                return
        self.message.setText("")
        self.export_requested.emit(str(path), key, ids, anonymise)
