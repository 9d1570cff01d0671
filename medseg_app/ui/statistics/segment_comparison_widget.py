"""Compare a segment with another segment or with a reference mask from a file: Dice, Jaccard, HD, HD95, ASSD,
volume difference, computed on a worker thread.

A reference file is a label map on the image grid (each label becomes one reference) or a binary NIfTI / NRRD
mask; a file on another grid is refused with one sentence. The numbers follow edits of either mask (debounced).
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from ...core.sparse_mask import SparseMask
from ...core.viewer_state import ViewerState
from ..worker import LoadWorker
from .jobs import comparison_job, reference_job, spacing_kji
from .tables import COMPARISON_MEASURES, MeasuresTable

MASK_FILTER = "Masks and label maps (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd);;All files (*)"
DEBOUNCE_MS = 300


class SegmentComparisonWidget(QWidget):
    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.references: list[tuple[str, SparseMask]] = []
        self.worker = LoadWorker(self)  # the numbers: a newer pair supersedes the older
        self.reader = LoadWorker(self)  # reference files, so a recomputation never drops a file being read
        self._stale = False
        self.is_shown = self.isVisible  # whether anyone sees the numbers; the dock replaces it
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.compute)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        form = QFormLayout()
        self.first = QComboBox()
        self.second = QComboBox()
        for combo in (self.first, self.second):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        form.addRow("Segment", self.first)
        form.addRow("Reference", self.second)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.load_button = QPushButton("Load reference mask…")
        self.load_button.setToolTip("A label map or binary mask (NIfTI, NRRD, MetaImage) on the image grid")
        row.addWidget(self.load_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.table = MeasuresTable(COMPARISON_MEASURES)
        layout.addWidget(self.table, 1)
        self.load_button.clicked.connect(self.choose_reference)
        self.first.currentIndexChanged.connect(lambda _: self.schedule(now=True))
        self.second.currentIndexChanged.connect(lambda _: self.schedule(now=True))
        self.worker.failed.connect(self._failed)
        self.reader.failed.connect(self._failed)
        state.subscribe(self._on_state)
        state.subscribe_segments(self._on_segments)
        self.refresh_choices()

    # --- choices ------------------------------------------------------------------------------
    def _on_state(self, what: str) -> None:
        if what in ("volume", "segmentation"):
            if what == "volume":
                self.references = []  # another grid: the old references no longer apply
            self.refresh_choices()

    def _on_segments(self, what: str, segment_id: int, box) -> None:
        if what in ("added", "removed", "properties"):
            self.refresh_choices()
        if what == "mask" and segment_id in (self._choice(self.first), self._choice(self.second)):
            self.schedule()

    def _choice(self, combo: QComboBox):
        return combo.currentData()

    def refresh_choices(self) -> None:
        seg = self.state.segmentation
        segments = [(s.name, s.id) for s in seg.segments.values()] if seg is not None else []
        refs = [(f"File: {name}", f"ref:{n}") for n, (name, _) in enumerate(self.references)]
        for combo, choices in ((self.first, segments), (self.second, segments + refs)):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for text, data in choices:
                combo.addItem(text, data)
            index = combo.findData(current) if current is not None else -1
            if combo is self.second and (index < 0 or current == self.first.currentData()):
                # a pair of one segment with itself says nothing: take the first other choice (a new segment)
                others = [n for n, (_, data) in enumerate(choices) if data != self.first.currentData()]
                index = others[0] if others else index
            combo.setCurrentIndex(max(index, 0) if combo.count() else -1)
            combo.blockSignals(False)
        self.schedule(now=True)

    def select(self, first, second) -> None:
        """Pick the compared pair: segment ids, or ``"ref:N"`` for the N-th loaded reference."""
        self.first.setCurrentIndex(self.first.findData(first))
        self.second.setCurrentIndex(self.second.findData(second))

    def _mask_of(self, data) -> tuple[str, SparseMask] | None:
        seg = self.state.segmentation
        if isinstance(data, str) and data.startswith("ref:"):
            n = int(data[4:])
            return self.references[n] if n < len(self.references) else None
        if seg is None or data not in seg.segments:
            return None
        segment = seg.segments[data]
        return segment.name, segment.mask.copy()  # a snapshot: edits go on while the worker reads it

    # --- computing ----------------------------------------------------------------------------
    def schedule(self, now: bool = False) -> None:
        self._stale = True
        if self.is_shown():
            self._timer.start(0 if now else DEBOUNCE_MS)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.catch_up()

    def catch_up(self) -> None:
        """Compute now if something changed while nobody was looking."""
        if self._stale and self.is_shown():
            self._timer.start(0)

    def compute(self) -> None:
        self._stale = False
        self.is_shown = self.isVisible  # whether anyone sees the numbers; the dock replaces it
        first, second = self._choice(self.first), self._choice(self.second)
        a, b = self._mask_of(first), self._mask_of(second)
        if a is None or b is None or first == second:
            self.table.set_row(None)
            self.worker.cancel()
            self.message.setText("Pick two different segments, or a segment and a reference mask."
                                 if self.state.volume is not None else "")
            return
        spacing = spacing_kji(self.state.volume)
        self.message.setStyleSheet("")
        self.message.setText("Computing…")
        self.worker.submit(lambda progress, cancelled: comparison_job(a, b, spacing, progress, cancelled),
                           self._computed)

    def _computed(self, row: dict) -> None:
        self.message.setText("")
        self.table.set_row(row)

    def _failed(self, message: str) -> None:
        self.message.setText(message)
        self.message.setStyleSheet("color: #c0392b;")

    # --- reference files ----------------------------------------------------------------------
    def choose_reference(self) -> None:
        if self.state.volume is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Reference mask or label map", "", MASK_FILTER)
        if path:
            self.load_reference(path)

    def load_reference(self, path: str) -> None:
        geometry = self.state.volume.geometry
        self.message.setStyleSheet("")
        self.message.setText(f"Reading {path}…")
        self.reader.submit(lambda progress, cancelled: reference_job(path, geometry, progress, cancelled),
                           self._reference_loaded)

    def _reference_loaded(self, found: list[tuple[str, SparseMask]]) -> None:
        start = len(self.references)
        self.references.extend(found)
        self.message.setText("")
        self.refresh_choices()
        self.second.setCurrentIndex(self.second.findData(f"ref:{start}"))

    def rows(self) -> list[dict]:
        return self.table.rows()
