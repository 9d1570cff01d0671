"""Structures in and out of the window: a study's own RTSTRUCT / SEG on opening, File ▸ Import segmentation…
and File ▸ Export segmentation… (both off the GUI thread, each in its own worker; errors are one sentence)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from ...core.errors import MedSegError
from ...core.privacy import get_logger
from ...core.segmentation import Segmentation
from .export_dialog import ExportDialog
from .export_report_dialog import ExportReportDialog
from ..worker import LoadWorker

IMPORT_FILTER = ("Segmentations (*.dcm *.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd);;RTSTRUCT / SEG (*.dcm);;"
                 "Label maps (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd);;All files (*)")


@dataclass
class ExportResult:
    fmt: str
    files: list[str]
    rows: list[dict] | None  # verification rows for RTSTRUCT / SEG


def export_job(segmentation: Segmentation, volume, path: Path, fmt: str, anonymise: bool = False) -> ExportResult:
    """Write every segment of ``segmentation`` (a snapshot) to ``path``; RTSTRUCT / SEG are read back and checked.
    ``anonymise`` (label maps and meshes only): see :mod:`medseg_app.core.privacy`."""
    rows = None
    if fmt in ("nifti", "nrrd"):
        from ...io.label_map import sidecar_path, save_label_map

        save_label_map(segmentation, path, anonymise=anonymise)
        files = [path, sidecar_path(path)]
    elif fmt in ("rtstruct", "seg"):
        if anonymise:
            raise MedSegError(f"{fmt.upper()} must reference the source study, so it cannot be anonymised.")
        from ...io.structure_files import verify_written

        if fmt == "seg":
            from ...io.seg_io import write_seg

            write_seg(segmentation, volume, path)
        else:
            from ...io.rtstruct_export import write_rtstruct

            write_rtstruct(segmentation, volume, path)
        files = [path]
        rows = verify_written(path, fmt, segmentation, volume)
    else:
        from ...render.mesh_export import write_mesh

        files = write_mesh(segmentation, volume, path, fmt=fmt, anonymise=anonymise)
    return ExportResult(fmt, [str(f) for f in files], rows)


class StructureExchange(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window, self.state = window, window.state
        self.worker = LoadWorker(self)
        self.worker.failed.connect(self._failed)
        self.worker.progressed.connect(lambda f, m: m and self._say(m))
        self.choose_import_path = self._choose_import_path
        self.export_dialog: ExportDialog | None = None
        self.report_dialog: ExportReportDialog | None = None
        self.last_import: list[int] = []

    def add_actions(self, menu) -> None:
        self.import_action = QAction("&Import segmentation…", self.window)
        self.import_action.triggered.connect(self.import_segmentation)
        self.export_action = QAction("&Export segmentation…", self.window)
        self.export_action.triggered.connect(self.open_export_dialog)
        menu.addAction(self.import_action)
        menu.addAction(self.export_action)

    def _say(self, text: str, ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, ms)

    def _failed(self, message: str) -> None:
        get_logger("ui").warning("structure import or export failed: %s", message)
        self._say("Failed.", 5000)
        self.window.report_error(message)

    # --- structures that came with the study ------------------------------------------------
    def add_structures(self, structures, title: str | None = None, origins=None) -> list[int]:
        """Add (name, colour, mask) structures as segments: one undo step when ``title`` is given. ``origins``:
        (source, source detail) of each, where it came from (see io.structure_files.structure_origin)."""
        from ...io.structure_files import dense

        origins = list(origins) if origins else [("manual", "")] * len(structures)

        segmentation = self.state.segmentation
        ids = []
        if title is None:
            for (name, colour, mask), (source, detail) in zip(structures, origins):
                segment = segmentation.add_segment(name, colour, source, dense(mask))
                segmentation.set_properties(segment.id, opacity=self.state.label_opacity, source_detail=detail)
                ids.append(segment.id)
            segmentation.undo_stack.clear()
        else:
            with segmentation.gesture(title):
                for (name, colour, mask), (source, detail) in zip(structures, origins):
                    segment = segmentation.add_segment(name, colour, source, dense(mask))
                    segmentation.set_properties(segment.id, source_detail=detail)
                    ids.append(segment.id)
        return ids

    # --- import -----------------------------------------------------------------------------
    def _choose_import_path(self) -> str:
        return QFileDialog.getOpenFileName(self.window, "Import segmentation", "", IMPORT_FILTER)[0]

    def import_segmentation(self, path: str | Path | None = None) -> None:
        volume = self.state.volume
        if volume is None:
            self.window.report_error("Open an image before importing a segmentation onto it.")
            return
        path = path or self.choose_import_path()
        if not path:
            return
        path = Path(path)
        from ...io.structure_files import read_structures, structure_origins

        self._say(f"Importing {path}…", 0)
        def job(progress, cancelled):
            structures = read_structures(path, volume)
            return structures, structure_origins(path, structures)

        self.worker.submit(job, lambda found: self._imported(*found, path, volume))

    def _imported(self, structures, origins, path: Path, volume) -> None:
        if volume is not self.state.volume:  # another image was opened meanwhile
            return
        self.last_import = self.add_structures(structures, f"Import {path.name}", origins)
        self._say(f"Imported {len(structures)} structure(s) from {path}.")

    # --- export -----------------------------------------------------------------------------
    def open_export_dialog(self) -> ExportDialog | None:
        segmentation = self.state.segmentation
        segments = list(segmentation.segments.values()) if segmentation is not None else []
        if self.state.volume is None or all(s.mask.empty for s in segments):
            self.window.report_error("There is nothing to export: the segmentation has no segment with voxels.")
            return None
        self.export_dialog = ExportDialog([(s.id, s.name, s.mask.empty) for s in segments], self.window)
        self.export_dialog.export_requested.connect(self.export)
        self.export_dialog.open()
        return self.export_dialog

    def export(self, path: str, fmt: str, segment_ids: list[int], anonymise: bool = False) -> None:
        volume, source = self.state.volume, self.state.segmentation
        chosen = [source.segments[i] for i in segment_ids if i in source.segments and not source.segments[i].mask.empty]
        if volume is None or not chosen:
            self.window.report_error("There is nothing to export: every chosen segment is empty.")
            return
        snapshot = Segmentation(volume.geometry, undo_budget_bytes=0)  # the worker writes this, not the live one
        for s in chosen:
            snapshot.add_segment(s.name, s.colour, s.source, s.mask.to_dense())
        if self.export_dialog is not None:
            self.export_dialog.accept()
        self._say(f"Exporting to {path}…", 0)
        self.worker.submit(lambda progress, cancelled: export_job(snapshot, volume, Path(path), fmt, anonymise),
                           self._exported)

    def _exported(self, result: ExportResult) -> None:
        self._say(f"Exported {', '.join(result.files)}.")
        self.report_dialog = ExportReportDialog(result.files, result.rows, self.window)
        self.report_dialog.open()

    def shutdown(self) -> None:
        self.worker.cancel()
        self.worker.wait()
