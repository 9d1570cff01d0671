"""Grow from seeds options: region growing's seed controls, the seeds per segment (each segment's seeds are placed
while it is the active one in the segment list) and, for GrowCut, whether the last preview re-grew only from the
added seeds (3D Slicer's incremental update) or ran in full."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from .region_growing_options_widget import RegionGrowingOptionsWidget


class GrowFromSeedsOptionsWidget(RegionGrowingOptionsWidget):
    def __init__(self, tool, controller, parent: QWidget | None = None):
        super().__init__(tool, controller, parent)
        self.per_segment = QLabel(self.summary())
        self.per_segment.setWordWrap(True)
        self.extra.addWidget(self.per_segment)
        controller.preview_changed.connect(lambda _shown: self._seeds_changed())

    def seed_counts(self) -> list[tuple[str, int]]:
        """(segment name, seed count) in the order the segments were first seeded."""
        controller = self.controller
        if controller.active is not self.tool or controller.state.segmentation is None:
            return []
        segments = controller.state.segmentation.segments
        counts: dict[int, int] = {}
        for segment_id in controller.seed_segments:
            counts[segment_id] = counts.get(segment_id, 0) + 1
        return [(segments[sid].name if sid in segments else f"segment {sid}", n) for sid, n in counts.items()]

    def summary(self) -> str:
        counts = self.seed_counts()
        if not counts:
            return "Pick a segment in the list and click its seeds; then the next segment's."
        text = "; ".join(f"{name}: {n}" for name, n in counts)
        preview = self.controller.preview if self.controller.active is self.tool else None
        if preview is not None and "incremental" in preview.info:
            text += " — grown from the added seeds only" if preview.info["incremental"] else " — grown in full"
        return text

    def _seeds_changed(self) -> None:
        super()._seeds_changed()
        if hasattr(self, "per_segment"):  # the base class reports the first count before this label exists
            self.per_segment.setText(self.summary())
