"""The MedSeg window: four views, the window / level bar, the cursor readout, opening studies, and segment
editing (the segment list, tool, statistics and AI segmentation docks, Edit ▸ Undo / Redo, tool previews in a
worker)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence, QPainter
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QWidget

from ..core.viewer_state import ViewerState
from ..io import scan
from ..io.image_files import is_image_file
from ..io.load import select_series
from .ai.panel import AiPanel
from .layers.layers_dock import LayersDock
from .registration.registration_menu import RegistrationMenu
from .measurements.measurement_interaction import MeasurementInteraction
from .measurements.measurements_dock import MeasurementsDock
from .viewer.cursor_readout import CursorReadout
from .viewer.overlay_resampler import OverlayResampler
from .study.load_progress import LoadProgress
from .worker import LoadWorker
from .session.recent_files import RecentFiles
from .segments.segment_list_panel import SegmentListPanel
from .segments.segment_transfer import SegmentTransfer
from .study.series_picker_dialog import SeriesPickerDialog
from .session.session_actions import SessionActions
from .shortcuts.window_shortcuts import WindowShortcuts
from .statistics.panel import StatisticsPanel
from .study.structure_exchange import StructureExchange
from .study.study_loading import LoadedStudy, load_entry, load_path
from .study.study_opening import StudyOpening
from .tools.tool_controller import ToolController
from .tools.tool_panel import ToolPanel
from .three_d.panel import ThreeDPanel
from .viewer.slice_interaction import SliceInteraction
from .viewer.view_grid import ViewGrid
from .viewer.window_level_bar import WindowLevelBar

IMAGE_FILTER = ("Images (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.dcm DICOMDIR);;"
                "NIfTI (*.nii *.nii.gz);;NRRD (*.nrrd *.nhdr);;MetaImage (*.mha *.mhd);;DICOM (*.dcm DICOMDIR);;"
                "All files (*)")


def _three_d_or_note(state: ViewerState) -> tuple[QWidget, QWidget | None]:
    """The 3-D view, imported only now so that a missing or slow VTK never holds up the slice views."""
    try:
        from .three_d.view import ThreeDView
        view = ThreeDView(state)
        return view, view
    except Exception as exc:  # any failure of the optional 3-D stack leaves the 2-D viewer working
        note = QLabel(f"The 3-D view is unavailable:\n{type(exc).__name__}: {exc}")
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        note.setWordWrap(True)
        note.setStyleSheet("background: black; color: #aaa;")
        return note, None


class MainWindow(QMainWindow):
    study_loaded = Signal()

    def __init__(self, settings: QSettings | None = None, with_three_d: bool = True,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("MedSeg[*]")  # [*]: where the unsaved-changes mark goes (see SessionActions)
        self.state = ViewerState()
        if with_three_d:
            three_d, self.three_d_view = _three_d_or_note(self.state)
        else:
            three_d, self.three_d_view = QLabel("3-D view off"), None
        self.grid = ViewGrid(self.state, ThreeDPanel(three_d))
        self.setCentralWidget(self.grid)
        self.window_level_bar = WindowLevelBar(self.state)
        self.addToolBar(self.window_level_bar)
        self.readout = CursorReadout(self.state)
        self.progress = LoadProgress()
        self.statusBar().addWidget(self.readout, 1)
        self.statusBar().addPermanentWidget(self.progress)
        for view in ("axial", "coronal", "sagittal"):
            self.grid.slice_view(view).hovered.connect(self.readout.show_voxel)
        self.loader = LoadWorker(self)
        self.loader.progressed.connect(self.progress.show_progress)
        self.loader.busy_changed.connect(self.progress.set_busy)
        self.loader.failed.connect(self._load_failed)
        self.loader.cancelled.connect(lambda: self.statusBar().showMessage("Loading cancelled.", 5000))
        self.progress.cancel_clicked.connect(self.loader.cancel)
        self._build_editing()
        self.recent = RecentFiles(settings)
        self.study: LoadedStudy | None = None
        self.ask_series = self._ask_series
        self.report_error = self._show_error
        self.exchange = StructureExchange(self)
        self.study_opening = StudyOpening(self)  # Open study…, Add image layer…, --layer
        self.sessions = SessionActions(self)
        self.state.measurements.subscribe(lambda *_: self._measurements_edited())
        self.registration = RegistrationMenu(self, self.state, self._ai_box_lps, self._show_error)
        self.registration.attach_views([self.grid.slice_view(v) for v in ("axial", "coronal", "sagittal")])
        self.registration.mouse.dragging.connect(self.overlay_resampler.hold)  # resample once the drag ends
        self._build_menus()
        self.setAcceptDrops(True)

    # --- segment editing --------------------------------------------------------------------
    def _build_editing(self) -> None:
        self.tool_worker = LoadWorker(self)
        self.tool_progress = LoadProgress()
        self.statusBar().addPermanentWidget(self.tool_progress)
        self.tool_worker.progressed.connect(self.tool_progress.show_progress)
        self.tool_worker.busy_changed.connect(self._tool_busy)
        self.tool_worker.cancelled.connect(lambda: self.statusBar().showMessage("Tool cancelled.", 5000))
        self.tool_progress.cancel_clicked.connect(self.tool_worker.cancel)
        self.tools = ToolController(self.state, self.tool_worker, parent=self)
        self.tools.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        interaction = SliceInteraction(self.tools.gestures)
        for view in ("axial", "coronal", "sagittal"):
            interaction.attach(self.grid.slice_view(view))
        self.tools.attach_views(interaction)
        self.measurement_interaction = MeasurementInteraction(self.state, self)  # rulers / ellipses before the tools
        for view in ("axial", "coronal", "sagittal"):
            self.measurement_interaction.attach(self.grid.slice_view(view))
        self.segment_list = SegmentListPanel(self.state, self)
        self.tool_panel = ToolPanel(self.tools, self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.segment_list)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.tool_panel)
        self.resizeDocks([self.segment_list, self.tool_panel], [300, 300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.segment_list, self.tool_panel], [200, 520], Qt.Orientation.Vertical)
        self.statistics = StatisticsPanel(self.state, self)  # a tab beside Tools; computes only while shown
        self.tabifyDockWidget(self.tool_panel, self.statistics)
        self.ai_panel = AiPanel(self.state, [self.grid.slice_view(v) for v in ("axial", "coronal", "sagittal")],
                                self.tools, self)  # a tab beside Statistics; its box sits in front of the tools
        self.tabifyDockWidget(self.statistics, self.ai_panel)
        self.layers_dock = LayersDock(self.state, self)  # a tab beside Segments; the fused image layers
        self.tabifyDockWidget(self.segment_list, self.layers_dock)
        self.overlay_resampler = OverlayResampler(self.state, self)  # each layer onto the reference grid
        self.measurements = MeasurementsDock(self.state, self.measurement_interaction, self.tools.context, self)
        self.tabifyDockWidget(self.ai_panel, self.measurements)  # a tab beside AI segmentation
        self.measurements.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.tools.tool_changed.connect(lambda tool: tool is not None and self.measurement_interaction.set_mode(None))
        self.measurement_interaction.mode_changed.connect(lambda mode: mode is not None and self.tools.activate(None))
        self.tools.source_changed.connect(lambda _id: self.measurements.refresh())
        self.tool_worker.busy_changed.connect(lambda busy: busy or self.measurements.refresh())  # a resample made
        self.state.subscribe(lambda what: what == "layers" and self.measurements.refresh())
        self.tool_panel.raise_()
        self.segment_list.raise_()
        self.state.subscribe_segments(lambda *_: self._undo_refresh_soon())
        self.state.subscribe(lambda what: what in ("volume", "segmentation") and self._undo_refresh_soon())

    def _measurements_edited(self) -> None:
        # Sessions and the autosave hold the measurements: a change is an unsaved edit.
        autosave = self.sessions.autosave
        autosave.edits += 1
        autosave.dirty = autosave.unsaved = True
        self.setWindowModified(True)

    def _tool_busy(self, busy: bool) -> None:
        self.tool_progress.set_busy(busy)
        if busy:
            self.tool_progress.bar.setFormat("Computing… %p%")

    def undo(self) -> None:
        self._step_history("undo", "Undid")

    def redo(self) -> None:
        self._step_history("redo", "Redid")

    def _step_history(self, direction: str, verb: str) -> None:
        seg = self.state.segmentation
        if seg is not None:
            self.tools.cancel()
            title = getattr(seg, direction)()
            if title:
                self.statusBar().showMessage(f"{verb} {title}.", 4000)
        self._refresh_undo()

    def _undo_refresh_soon(self) -> None:
        # A gesture's step is pushed after its last change is announced: look at the stack once it is.
        QTimer.singleShot(0, self._refresh_undo)

    def _refresh_undo(self) -> None:
        seg = self.state.segmentation
        stack = seg.undo_stack if seg is not None else None
        can_undo, can_redo = bool(stack and stack.can_undo()), bool(stack and stack.can_redo())
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)
        self.undo_action.setText(f"&Undo {stack.undo_title()}" if can_undo else "&Undo")
        self.redo_action.setText(f"&Redo {stack.redo_title()}" if can_redo else "&Redo")

    # --- menus ------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_file = QAction("&Open file…", self, shortcut=QKeySequence.StandardKey.Open)
        open_file.triggered.connect(self._choose_file)
        open_folder = QAction("Open DICOM &folder…", self, shortcut=QKeySequence("Ctrl+Shift+O"))
        open_folder.triggered.connect(self._choose_folder)
        file_menu.addAction(open_file)
        file_menu.addAction(open_folder)
        self.study_opening.add_actions(file_menu)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self.sessions.add_actions(file_menu)
        file_menu.addSeparator()
        self.exchange.add_actions(file_menu)
        self.registration.add_file_actions(file_menu)  # Export / Import registration…
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = QAction("&Undo", self, shortcut=QKeySequence("Ctrl+Z"))
        self.undo_action.triggered.connect(self.undo)
        self.redo_action = QAction("&Redo", self)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.triggered.connect(self.redo)
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            action.setEnabled(False)
            edit_menu.addAction(action)
        view_menu = self.menuBar().addMenu("&View")
        for name, label in (("axial", "Axial"), ("sagittal", "Sagittal"), ("coronal", "Coronal"), ("3d", "3-D")):
            action = QAction(f"Maximise {label}", self)
            action.triggered.connect(lambda _=False, n=name: self.grid.toggle_maximised(n))
            view_menu.addAction(action)
        restore = QAction("Show all four views", self)
        restore.triggered.connect(lambda: self.grid.set_maximised(None))
        view_menu.addAction(restore)
        view_menu.addSeparator()
        view_menu.addAction(self.segment_list.toggleViewAction())
        view_menu.addAction(self.tool_panel.toggleViewAction())
        view_menu.addAction(self.layers_dock.toggleViewAction())
        statistics = self.statistics.toggleViewAction()
        statistics.triggered.connect(lambda on: on and self.statistics.raise_())
        view_menu.addAction(statistics)
        self.ai_panel.add_actions(self.menuBar(), view_menu)  # makes the Segment menu, which the next line joins
        self.segment_transfer = SegmentTransfer(self.state, self)  # Segment ▸ Copy segments to another layer…
        self.segment_transfer.add_actions(self)
        view_menu.addAction(self.measurements.toggleViewAction())
        self.shortcuts = WindowShortcuts(self)  # the one shortcut table: installs the keys, lists them in Help
        self.registration.add_menu(self.menuBar())
        self.shortcuts.add_help_menu(self.menuBar())

    def _ai_box_lps(self):
        """The AI box drawn on the views as LPS corners (2, 3), or None: a region to register on."""
        box = self.ai_panel.drawing.box
        return None if box is None or self.state.volume is None else box.lps_corners(self.state.volume.geometry)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        for path in paths:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not paths:
            self.recent_menu.addAction("(none)").setEnabled(False)
            return
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear list").triggered.connect(self.recent.clear)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image file", "", IMAGE_FILTER)
        if path:
            self.open_path(path)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open DICOM folder")
        if path:
            self.open_path(path)

    # --- drag and drop ----------------------------------------------------------------------
    @staticmethod
    def _dropped_path(mime) -> str | None:
        for url in mime.urls() if mime.hasUrls() else []:
            if url.isLocalFile():
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event) -> None:
        if self._dropped_path(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = self._dropped_path(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.open_path(path)

    # --- loading ----------------------------------------------------------------------------
    def open_path(self, path: str | Path, series: str | None = None) -> None:
        """Load ``path`` off the GUI thread; a folder is scanned first and its series offered for choice."""
        path = Path(path)
        self.statusBar().showMessage(f"Opening {path}…")
        if series is not None or (path.is_file() and (is_image_file(path) or path.name != "DICOMDIR")):
            self.loader.submit(lambda progress, cancelled: load_path(path, series, progress, cancelled),
                               lambda study: self._loaded(study, path))
        else:
            self.loader.submit(lambda progress, cancelled: scan(path, progress=progress, cancelled=cancelled),
                               lambda result: self._scanned(result, path))

    def load_study(self, job, path: str | Path, reference: str | None = None) -> None:
        """Run ``job(progress, cancelled) -> LoadedStudy`` off the GUI thread and show its study, opened from
        ``path``; ``reference`` (a session's image copy): the image path sessions go on recording for it, and
        ``path`` is not added to Open recent."""
        self.statusBar().showMessage(f"Opening {path}…")
        self.loader.submit(job, lambda study: self._loaded(study, Path(path), reference))

    def _scanned(self, result, path: Path) -> None:
        images = result.images
        uid = None
        if len(images) > 1:
            uid = self.ask_series([e.summary() for e in images], str(path))
            if uid is None:
                self.statusBar().showMessage("Opening cancelled.", 5000)
                return
        entry = select_series(result, uid)
        objects = result.objects
        self.loader.submit(lambda progress, cancelled: load_entry(entry, progress, cancelled, objects),
                           lambda study: self._loaded(study, path))

    def _ask_series(self, series: list[dict], where: str) -> str | None:
        dialog = SeriesPickerDialog(series, where, self)
        return dialog.selected_uid() if dialog.exec() == SeriesPickerDialog.DialogCode.Accepted else None

    def _loaded(self, study: LoadedStudy, path: Path, reference: str | None = None) -> None:
        self.study = study
        # What the user opened (a folder for DICOM): sessions reference it.
        self.opened_path = str(path) if reference is None else reference
        self.state.set_volume(study.volume, labels=study.labels, label_names=study.label_names,
                              label_details=study.label_details)
        self.exchange.add_structures(study.structures, origins=study.structure_origins)
        with_layers = self.study_opening.attach_layers(study)  # before study_loaded: listeners see the whole study
        volume = study.volume
        name = volume.identity.series_description or Path(study.path).name
        self.study_title = f"MedSeg — {volume.modality or 'image'} {name}"
        self.setWindowTitle(f"{self.study_title}[*]")  # the session actions add the session's name
        if reference is None:
            self.recent.add(path)
        shown = f" with the label map {study.label_path}" if study.label_path else ""
        if study.structure_paths:
            shown = f" with the structures of {', '.join(study.structure_paths)}"
        message = f"Opened {path}{shown}{with_layers}."
        if volume.warnings:
            message += "  " + " ".join(volume.warnings)
        self.statusBar().showMessage(message, 15000)
        self.study_loaded.emit()

    def _load_failed(self, message: str) -> None:
        self.statusBar().showMessage("Could not open the image.", 5000)
        self.report_error(message)

    def _show_error(self, message: str) -> None:
        QMessageBox.warning(self, "MedSeg: could not open", message)

    def closeEvent(self, event) -> None:
        if not self.sessions.may_close():
            event.ignore()
            return
        self.sessions.shutdown()
        self.loader.cancel()
        self.loader.wait()
        self.tool_worker.cancel()
        self.tool_worker.wait()
        self.overlay_resampler.shutdown()
        self.exchange.shutdown()
        self.statistics.shutdown()
        self.segment_transfer.worker.cancel()
        self.segment_transfer.worker.wait()
        self.ai_panel.shutdown()
        finalize = getattr(self.three_d_view, "finalize", None)
        if finalize is not None:
            finalize()
        super().closeEvent(event)

    # --- screenshots ------------------------------------------------------------------------
    def grab_with_three_d(self) -> QImage:
        """The whole window; the 3-D view is painted from its own rendering (an OpenGL widget may grab black)."""
        image = self.grab().toImage()
        view = self.three_d_view
        if view is None or not view.isVisible():
            return image
        rgb = np.ascontiguousarray(view.grab_rgb(), dtype=np.uint8)
        h, w = rgb.shape[:2]
        rendered = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        ratio = image.devicePixelRatio()
        top_left = view.mapTo(self, QPoint(0, 0))
        target = QRect(round(top_left.x() * ratio), round(top_left.y() * ratio),
                       round(view.width() * ratio), round(view.height() * ratio))
        image.setDevicePixelRatio(1.0)
        painter = QPainter(image)
        painter.drawImage(target, rendered)
        painter.end()
        return image
