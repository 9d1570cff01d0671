"""Studies of several series in the window: File ▸ Open study… (a folder's image series of one patient, chosen
by checkboxes, the reference picked by default), File ▸ Add image layer… (a series or an image file joins the open
study as an overlay), and the command line's ``--layer``.

Everything is read in the window's loader, in the background with one progress and Cancel; a new load supersedes
the one before it, and a layer whose study was replaced while it loaded is dropped. Layers join the study on the GUI
thread (:meth:`StudyOpening.attach_layers`, called by the window before it announces ``study_loaded``), where:
another patient's series is asked about in one sentence (Yes adds it, No leaves the study as it was; the command
line refuses it unless ``--allow-other-patient``), a layer that does not overlap the reference is refused in one
sentence, and a series in another Frame of Reference joins unregistered (the Layers dock says so).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ...core.study import LayerError, OtherPatientError
from ...io import scan
from ...io.image_files import is_image_file
from ...io.load import select_series
from ...io.session_layers import restore_layer
from .layer_loading import (ALLOW, ASK, REFUSE, LayerLoad, Part, default_reference, entry_layer, layer_weight,
                            one_patients_series, path_layer, study_with_layers)
from .study_loading import LoadedStudy, load_entry, load_path
from .study_series_dialog import StudySeriesDialog

LAYER_FILTER = ("Images (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.dcm);;NIfTI (*.nii *.nii.gz);;"
                "NRRD (*.nrrd *.nhdr);;MetaImage (*.mha *.mhd);;DICOM (one file stands for its series) (*.dcm);;"
                "All files (*)")


class StudyOpening(QObject):
    layers_added = Signal(int)  # how many layers joined the open study after it had loaded (Add image layer)

    def __init__(self, window):
        super().__init__(window)
        self.window, self.state = window, window.state
        # Replaceable for tests: run the Open study dialog (True: accepted); ask about another patient (True: add).
        self.run_study_dialog = lambda dialog: dialog.exec() == StudySeriesDialog.DialogCode.Accepted
        self.ask_other_patient = self._ask_other_patient

    def add_actions(self, menu) -> None:
        open_study = QAction("Open &study…", self.window)
        open_study.triggered.connect(self._choose_study)
        add_file = QAction("Add image &layer…", self.window)
        add_file.triggered.connect(self._choose_layer_file)
        add_folder = QAction("Add image layer from a fol&der…", self.window)
        add_folder.triggered.connect(self._choose_layer_folder)
        for action in (open_study, add_file, add_folder):
            menu.addAction(action)

    def _choose_study(self) -> None:
        path = QFileDialog.getExistingDirectory(self.window, "Open study: a folder of one patient's series")
        if path:
            self.open_study(path)

    def _choose_layer_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Add image layer", "", LAYER_FILTER)
        if path:
            self.add_layer(path)

    def _choose_layer_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self.window, "Add image layer: a DICOM series folder")
        if path:
            self.add_layer(path)

    def _say(self, text: str, ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, ms)

    # --- File ▸ Open study… -----------------------------------------------------------------
    def open_study(self, path: str | Path) -> None:
        """Scan the folder in the background, then offer its series of one patient (see StudySeriesDialog)."""
        path = Path(path)
        self._say(f"Scanning {path}…", 0)
        self.window.loader.submit(lambda progress, cancelled: scan(path, progress=progress, cancelled=cancelled),
                                  lambda result: self._study_scanned(result, path))

    def _study_scanned(self, result, path: Path) -> None:
        series, left_out = one_patients_series(result.images)
        if not series:
            select_series(result, None)  # raises the one sentence saying what the folder holds instead
        reference = default_reference(series)
        dialog = StudySeriesDialog([e.summary() for e in series], series.index(reference), str(path), left_out,
                                   self.window)
        accepted = self.run_study_dialog(dialog)
        chosen = dialog.selection() if accepted else None
        dialog.deleteLater()
        if chosen is None:
            self._say("Opening cancelled.", 5000)
            return
        key, layer_keys = chosen
        by_key = {e.key: e for e in series}
        entry, objects = by_key[key], result.objects
        self._load(path, (len(entry.files), lambda progress, cancelled: load_entry(entry, progress, cancelled,
                                                                                    objects)),
                   [entry_layer(by_key[k], str(path)) for k in layer_keys])

    def _load(self, path: Path, reference: Part, layers: list[Part]) -> None:
        self.window.load_study(lambda progress, cancelled: study_with_layers(reference, layers, progress, cancelled),
                               path)

    # --- the command line -------------------------------------------------------------------
    def open_with_layers(self, path: str | Path, series: str | None, layers: list[str],
                         allow_other_patient: bool = False) -> None:
        """``medseg PATH --layer PATH2 ...``: the reference as File ▸ Open would open it, then each layer; another
        patient's layer is refused in one sentence unless ``allow_other_patient``."""
        path = Path(path)
        parts = [path_layer(p, None, ALLOW if allow_other_patient else REFUSE) for p in layers]
        if series is not None or (path.is_file() and (is_image_file(path) or path.name != "DICOMDIR")):
            self._load(path, (layer_weight(path), lambda progress, cancelled: load_path(path, series, progress,
                                                                                        cancelled)), parts)
            return
        self._say(f"Opening {path}…", 0)
        self.window.loader.submit(lambda progress, cancelled: scan(path, progress=progress, cancelled=cancelled),
                                  lambda result: self._reference_scanned(result, path, parts))

    def _reference_scanned(self, result, path: Path, parts: list[Part]) -> None:
        uid = None
        if len(result.images) > 1:
            uid = self.window.ask_series([e.summary() for e in result.images], str(path))
            if uid is None:
                self._say("Opening cancelled.", 5000)
                return
        entry, objects = select_series(result, uid), result.objects
        self._load(path, (len(entry.files), lambda progress, cancelled: load_entry(entry, progress, cancelled,
                                                                                    objects)), parts)

    # --- File ▸ Add image layer… ------------------------------------------------------------
    def add_layer(self, path: str | Path, series: str | None = None) -> None:
        """Load a series (a folder, or one DICOM file for its series) or an image file and add it to the open
        study as an overlay; a folder of several series asks which."""
        if self.state.volume is None:
            self.window.report_error("Open a study first: an image layer joins the open study.")
            return
        if self.window.loader.busy:
            self._say("Wait until the study has loaded, then add the layer.", 5000)
            return
        path, study = Path(path), self.state.study
        self._say(f"Adding {path}…", 0)
        if path.is_dir() and series is None:
            self.window.loader.submit(lambda progress, cancelled: scan(path, progress=progress, cancelled=cancelled),
                                      lambda result: self._layer_scanned(result, path, study))
            return
        _weight, job = path_layer(path, series)
        self.window.loader.submit(job, lambda load: self._layer_loaded(load, study))

    def _layer_scanned(self, result, path: Path, study) -> None:
        uid = None
        if len(result.images) > 1:
            uid = self.window.ask_series([e.summary() for e in result.images], str(path))
            if uid is None:
                self._say("Adding the layer cancelled.", 5000)
                return
        _weight, job = entry_layer(select_series(result, uid), str(path))
        self.window.loader.submit(job, lambda load: self._layer_loaded(load, study))

    def _layer_loaded(self, load: LayerLoad, study) -> None:
        if study is not self.state.study:  # another study was opened meanwhile
            return
        layer = self._join(load)
        if layer is not None:
            self._say(f"Added the layer {layer.name}{self._unregistered_note(layer)}.", 10000)
            self.layers_added.emit(1)

    # --- joining the study ------------------------------------------------------------------
    def attach_layers(self, loaded: LoadedStudy) -> str:
        """Add the layers read with ``loaded`` to the study just shown; what to tell the user about them."""
        joined, problems = [], []
        for load in loaded.layers:
            if load.volume is None:
                problems.append(load.problem)
                continue
            layer = self._join(load)
            if layer is not None:
                joined.append(f"{layer.name}{self._unregistered_note(layer)}")
        if problems:
            self.window.report_error(" ".join(problems))
        return f"; layers over it: {', '.join(joined)}" if joined else ""

    @staticmethod
    def _unregistered_note(layer) -> str:
        return "" if layer.registered else " (another Frame of Reference, not registered)"

    def _join(self, load: LayerLoad, allow_other_patient: bool | None = None):
        """Add ``load`` to the open study; None when it was refused (said in one sentence) or declined."""
        study = self.state.study
        allow = load.other_patient == ALLOW if allow_other_patient is None else allow_other_patient
        try:
            if load.settings is not None:
                return restore_layer(study, load.volume, load.settings)
            return study.add_layer(load.volume, load.name, allow_other_patient=allow)
        except OtherPatientError:
            name = load.origin or load.volume.source_path or "the layer"
            if load.other_patient == ASK and self.ask_other_patient(
                    f"{name} belongs to another patient (its Patient ID differs from the open study's); "
                    f"add it to this study anyway?"):
                return self._join(load, allow_other_patient=True)
            if load.other_patient == REFUSE:
                self.window.report_error(f"{name} belongs to another patient (its Patient ID differs from the "
                                         f"reference's), so it was not opened; add --allow-other-patient to open "
                                         f"it anyway.")
            else:
                self._say(f"{name} was not added: it belongs to another patient.", 8000)
        except LayerError as exc:
            self.window.report_error(str(exc))
        return None

    def _ask_other_patient(self, question: str) -> bool:
        answer = QMessageBox.question(self.window, "MedSeg: another patient?", question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes
