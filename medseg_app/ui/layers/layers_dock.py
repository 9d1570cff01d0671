"""The Layers dock: the study's image layers in drawing order (the reference first, each later layer drawn over
those listed above it), one :class:`LayerRow` each; drag a row (or use its arrows) to reorder.

The rows follow the study: a layer added, removed or moved rebuilds them, a display change or a registration
refreshes that layer's row. A drag that would put an overlay above the reference (always drawn first) is undone.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ...core.viewer_state import ViewerState
from .layer_row import LayerRow

HINT = "Drawn top to bottom: each layer over those above it. Drag to reorder."


class LayersDock(QDockWidget):
    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__("Layers", parent)
        self.setObjectName("layers_dock")
        self.state = state
        self._study = None
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #888;")
        self.list = QListWidget()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.viewport().installEventFilter(self)
        self.list.model().rowsMoved.connect(self._rows_moved)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        self.setWidget(body)
        self.rows: list[LayerRow] = []
        state.subscribe(self._on_state)
        self._on_state("volume")

    def _on_state(self, what: str) -> None:
        if what == "volume" and self.state.study is not self._study:
            self._study = self.state.study
            if self._study is not None:
                study = self._study
                study.subscribe(lambda change, layer_id: self._on_study(study, change, layer_id))
            self.rebuild()
        elif what == "window":  # the reference's window and colour map are the viewer's
            for row in self.rows:
                if row.is_reference:
                    row.refresh()

    def _on_study(self, study, what: str, layer_id: int) -> None:
        if study is not self.state.study:
            return
        if what in ("added", "removed", "order"):
            self.rebuild()
        elif what in ("display", "transform"):
            for row in self.rows:
                if row.layer.id == layer_id:
                    row.refresh()

    def eventFilter(self, watched, event) -> bool:
        if watched is self.list.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_rows()
        return super().eventFilter(watched, event)

    def _fit_rows(self) -> None:
        """Rows as wide as the list (a list item is otherwise as wide as its widget's size hint)."""
        width = self.list.viewport().width()
        for n in range(self.list.count()):
            item = self.list.item(n)
            item.setSizeHint(QSize(width, item.sizeHint().height()))

    def row(self, layer_id: int) -> LayerRow:
        return next(row for row in self.rows if row.layer.id == layer_id)

    def rebuild(self) -> None:
        self.list.clear()
        self.rows = []
        study = self.state.study
        for layer in (study.layers if study is not None else []):
            row = LayerRow(self.state, layer)
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, layer.id)
            item.setSizeHint(QSize(self.list.viewport().width(), row.sizeHint().height()))
            if row.is_reference:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDragEnabled)
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
            self.rows.append(row)

    def listed_order(self) -> list[int]:
        return [self.list.item(n).data(Qt.ItemDataRole.UserRole) for n in range(self.list.count())]

    def _rows_moved(self, *_args) -> None:
        """A drag moved rows in the list: move the layer that changed place, or put the list back."""
        study = self.state.study
        listed = self.listed_order()
        current = [layer.id for layer in study.layers]
        if listed == current:
            return
        if listed[0] != study.reference.id:
            QTimer.singleShot(0, self.rebuild)  # not while the list is still handling the drop
            return
        moved = [i for i in current if listed.index(i) != current.index(i)
                 and _order_without(listed, i) == _order_without(current, i)]
        if not moved:
            QTimer.singleShot(0, self.rebuild)
            return
        # the rows are rebuilt after the drop (the moved row lost its widget)
        QTimer.singleShot(0, lambda: study.move_layer(moved[0], listed.index(moved[0])))


def _order_without(order: list[int], layer_id: int) -> list[int]:
    return [i for i in order if i != layer_id]
