"""The statistics panel (a dock): per-segment numbers, comparison of two masks, the correction audit, export.

Tabs: "Segments" (voxels, volume, mesh volume, surface, intensity statistics in the image's units, centroid,
bounding box, maximum diameter, and SUVmax / SUVpeak for PET; then one column group per overlay of the study: SUVmax,
SUVpeak, SUVmean, MTV and TLG from a PET layer, HU or intensity statistics from the others, core/layer_statistics.py),
"Compare" (:class:`SegmentComparisonWidget`) and
"Audit" (for each segment that began as a region-growing or AI proposal and was edited since: mL added and
removed, Dice and HD95 against the proposal). Copy as table / Export CSV… / Export JSON… act on the shown tab;
"Anonymise (for sharing outside the hospital)" makes the exports take patient identifiers out of the names and
reference file names (io/statistics_export.py).

Numbers are computed on a worker thread, never on the GUI thread: edits are debounced, and only the segments
whose masks changed since their numbers were computed are sent (a snapshot of their masks), so painting on one
segment does not recompute the others. Nothing is computed while the dock is hidden; showing it catches up.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QApplication, QCheckBox, QDockWidget, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from ...core.privacy import contains_identifiers
from ...core.viewer_state import ViewerState
from ...io.statistics_export import rows_as_tsv, write_csv, write_json
from ..worker import LoadWorker
from .segment_comparison_widget import SegmentComparisonWidget
from .jobs import StatisticsResult, layer_snapshots, snapshot, statistics_job
from .tables import AUDIT_COLUMNS, STATISTICS_COLUMNS, MeasuresTable, ResultsTable

DEBOUNCE_MS = 400
NO_AUDIT = "No segment has been edited since its region-growing or AI proposal."


class StatisticsPanel(QDockWidget):
    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__("Statistics", parent)
        self.setObjectName("statistics_dock")
        self.state = state
        self.worker = LoadWorker(self)
        self._rows: dict[int, dict] = {}  # segment id -> its statistics row
        self._audits: dict[int, dict | None] = {}
        self._versions: dict[int, int] = {}  # segment id -> edits seen
        self._computed_versions: dict[int, int] = {}  # segment id -> edits its numbers include
        self._segmentation = None
        self._on_screen = False  # a dock tabbed behind another stays isVisible(); visibilityChanged tells
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.compute)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tabs = QTabWidget()
        self.table = ResultsTable(STATISTICS_COLUMNS)
        self.details = MeasuresTable(STATISTICS_COLUMNS)  # the selected segment's numbers, one per line
        segments_page = QSplitter(Qt.Orientation.Vertical)
        segments_page.addWidget(self.table)
        segments_page.addWidget(self.details)
        segments_page.setSizes([140, 360])
        self.comparison = SegmentComparisonWidget(state)
        audit_page = QWidget()
        audit_layout = QVBoxLayout(audit_page)
        audit_layout.setContentsMargins(4, 4, 4, 4)
        self.audit_note = QLabel(NO_AUDIT)
        self.audit_note.setWordWrap(True)
        self.audit_table = ResultsTable(AUDIT_COLUMNS)
        audit_layout.addWidget(self.audit_note)
        audit_layout.addWidget(self.audit_table, 1)
        self.tabs.addTab(segments_page, "Segments")
        self.tabs.addTab(self.comparison, "Compare")
        self.tabs.addTab(audit_page, "Audit")
        layout.addWidget(self.tabs, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton("Copy as table")
        self.copy_button.setToolTip("Copy the shown table to the clipboard as tab-separated text (for a spreadsheet)")
        self.csv_button = QPushButton("Export CSV…")
        self.json_button = QPushButton("Export JSON…")
        self.anonymise_box = QCheckBox("Anonymise (for sharing outside the hospital)")
        self.anonymise_box.setToolTip("Exported names lose the patient's name, ID and birth date, and reference "
                                      "file names are replaced")
        for button in (self.copy_button, self.csv_button, self.json_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.anonymise_box)  # its own line: the dock keeps its width
        self.setWidget(body)
        self.copy_button.clicked.connect(self.copy_table)
        self.csv_button.clicked.connect(lambda: self.export("csv"))
        self.json_button.clicked.connect(lambda: self.export("json"))
        self.table.currentCellChanged.connect(lambda *_: self._show_details())
        self.worker.failed.connect(lambda message: self.status.setText(message))
        self.worker.busy_changed.connect(self._busy)
        self.comparison.is_shown = lambda: self._on_screen and self.comparison.isVisible()
        self.visibilityChanged.connect(self._visibility)
        state.subscribe(self._on_state)
        state.subscribe_segments(self._on_segments)
        self.reset()

    # --- what changed -------------------------------------------------------------------------
    def _on_state(self, what: str) -> None:
        if what in ("volume", "segmentation"):
            self.reset()
        elif what == "layers" and self._layer_key() != self._layers_seen:
            self.reset()  # an overlay added, removed or re-registered: every segment's layer columns change

    def _layer_key(self) -> tuple:
        study = self.state.study
        if study is None:
            return ()
        return tuple((layer.id, layer.transform.reference_to_layer.tobytes()) for layer in study.overlays)

    def reset(self) -> None:
        """A new study or segmentation: forget every number and compute them all again."""
        self.worker.cancel()
        seg = self._segmentation = self.state.segmentation
        self._layers_seen = self._layer_key()
        self._rows, self._audits, self._computed_versions = {}, {}, {}
        self._versions = {segment_id: 1 for segment_id in (seg.segments if seg is not None else {})}
        self.status.setText("")
        self.render()
        self.schedule(now=True)

    def _on_segments(self, what: str, segment_id: int, box) -> None:
        if what in ("mask", "added"):
            self._versions[segment_id] = self._versions.get(segment_id, 0) + 1
            self.schedule()
        elif what == "removed":
            for table in (self._rows, self._audits, self._versions, self._computed_versions):
                table.pop(segment_id, None)
            self.render()
        elif what == "properties":
            segment = self.state.segmentation.segments.get(segment_id)
            for row, key in ((self._rows.get(segment_id), "name"), (self._audits.get(segment_id), "segment")):
                if segment is not None and row is not None and row.get(key) != segment.name:
                    row[key] = segment.name  # a rename: no need to compute again
                    self._render_soon()

    def _visibility(self, visible: bool) -> None:
        self._on_screen = visible
        if visible:
            self.schedule(now=True)
            self.comparison.catch_up()

    def _render_soon(self) -> None:
        QTimer.singleShot(0, self.render)

    def dirty_ids(self) -> list[int]:
        seg = self.state.segmentation
        if seg is None:
            return []
        return [i for i in seg.segments if self._computed_versions.get(i) != self._versions.setdefault(i, 1)]

    # --- computing ----------------------------------------------------------------------------
    def schedule(self, now: bool = False) -> None:
        """Compute the changed segments soon (after edits stop for a moment); not while the dock is hidden."""
        if self._on_screen and self.isVisible() and self.state.volume is not None:
            self._timer.start(0 if now else DEBOUNCE_MS)

    def compute(self) -> None:
        ids = self.dirty_ids()
        if not ids or self.state.volume is None:
            return
        if self.worker.busy:  # let the running job finish; its end asks for the rest
            return
        seg, volume = self.state.segmentation, self.state.volume
        copy = snapshot(seg, ids)
        layers = layer_snapshots(self.state.study)
        versions = {i: self._versions[i] for i in ids}
        self.status.setText(f"Computing statistics of {len(ids)} segment{'s' if len(ids) != 1 else ''}…")
        self.worker.submit(lambda progress, cancelled: statistics_job(copy, volume, versions, progress, cancelled,
                                                                      layers),
                           lambda result, key=self._layers_seen: self._computed(result, seg, key))

    def _computed(self, result: StatisticsResult, segmentation, layer_key: tuple = ()) -> None:
        if segmentation is not self.state.segmentation or layer_key != self._layers_seen:
            return
        for segment_id, row in result.rows.items():
            if segment_id in segmentation.segments:
                self._rows[segment_id] = row
                self._audits[segment_id] = result.audits.get(segment_id)
                self._computed_versions[segment_id] = result.versions[segment_id]
        self.status.setText("")
        self.render()
        if self.dirty_ids():
            self.schedule()

    def _busy(self, busy: bool) -> None:
        if not busy and self.dirty_ids():
            self.schedule()

    @property
    def up_to_date(self) -> bool:
        return not self.worker.busy and not self.dirty_ids()

    # --- showing ------------------------------------------------------------------------------
    def render(self) -> None:
        seg = self.state.segmentation
        ids = [i for i in seg.segments if i in self._rows] if seg is not None else []
        units = self.state.volume.units if self.state.volume is not None else ""
        # label: the value the segment gets in an exported label map (its position in the list)
        position = {segment_id: n for n, segment_id in enumerate(seg.segments, start=1)} if seg is not None else {}
        self.table.set_rows([{**self._rows[i], "label": position[i]} for i in ids], units)
        self._show_details()
        audits = [self._audits[i] for i in ids if self._audits.get(i) is not None]
        self.audit_table.set_rows(audits)
        self.audit_note.setVisible(not audits)

    def _show_details(self) -> None:
        rows = self.table.rows()
        row = self.table.currentRow() if 0 <= self.table.currentRow() < len(rows) else 0
        units = self.state.volume.units if self.state.volume is not None else ""
        self.details.set_row(rows[row] if rows else None, units)

    def rows(self) -> list[dict]:
        """The rows of the shown tab (what Copy and Export write)."""
        page = self.tabs.currentIndex()
        if page == 1:
            return self.comparison.rows()
        if page == 2:
            return self.audit_table.rows()
        return self.table.rows()

    def _section(self) -> str:
        return ("segment_statistics", "comparison", "correction_audit")[self.tabs.currentIndex()]

    def shutdown(self) -> None:
        """Stop and wait for every worker thread (the window is closing)."""
        for worker in (self.worker, self.comparison.worker, self.comparison.reader):
            worker.cancel()
            worker.wait()

    # --- copy and export ----------------------------------------------------------------------
    def copy_table(self) -> None:
        rows = self.rows()
        if not rows:
            self.status.setText("Nothing to copy yet.")
            return
        QApplication.clipboard().setText(rows_as_tsv(rows))
        self.status.setText(f"Copied {len(rows)} row{'s' if len(rows) != 1 else ''} as a table.")

    def export(self, kind: str) -> None:
        rows = self.rows()
        if not rows:
            self.status.setText("Nothing to export yet.")
            return
        title = {"csv": "Export statistics as CSV", "json": "Export statistics as JSON"}[kind]
        filters = {"csv": "CSV (*.csv)", "json": "JSON (*.json)"}[kind]
        path, _ = QFileDialog.getSaveFileName(self, title, f"{self._section()}.{kind}", filters)
        if not path:
            return
        path = Path(path)
        if path.suffix.lower() != f".{kind}":
            path = path.with_name(path.name + f".{kind}")
        anonymise = self.anonymise_box.isChecked()
        if anonymise and contains_identifiers(path.name):
            self.status.setText("The file name holds the patient's name or ID; choose another name for an "
                                "anonymised export.")
            return
        try:
            (write_csv if kind == "csv" else write_json)(rows, path, anonymise=anonymise)
        except OSError as exc:
            self.status.setText(f"Could not write {path}: {exc.strerror or exc}.")
            return
        self.status.setText(f"Wrote {path}.")
