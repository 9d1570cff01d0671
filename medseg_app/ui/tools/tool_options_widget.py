"""A tool's options as a form generated from its Parameter metadata (label, kind, range, choices, unit).

float → spin box with the unit as suffix, int → integer spin box, bool → check box, choice → combo box,
text → line edit. Every change is reported as ``changed(name, value)``; ``extra`` holds a tool's special
widgets (threshold, region growing) under the generated form.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QVBoxLayout,
                               QWidget)

from ...tools.base import Parameter, Tool

_BIG = 1e9


def _label(parameter: Parameter) -> str:
    return parameter.label or parameter.name.replace("_", " ").capitalize()


class ToolOptionsWidget(QWidget):
    changed = Signal(str, object)

    def __init__(self, tool: Tool, parent: QWidget | None = None, skip: tuple[str, ...] = (),
                 segment_choices=None):
        super().__init__(parent)
        self.tool = tool
        self.segment_choices = segment_choices or (lambda: [])  # () -> [(segment id, name)]
        self.editors: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        for parameter in tool.parameters:
            if parameter.name in skip:
                continue
            editor = self._editor(parameter, tool.values.get(parameter.name, parameter.default))
            self.editors[parameter.name] = editor
            self.form.addRow(_label(parameter), editor)
        self.extra = QVBoxLayout()
        layout.addLayout(self.extra)
        layout.addStretch(1)

    def _editor(self, p: Parameter, value) -> QWidget:
        emit = lambda v, name=p.name: self.changed.emit(name, v)  # noqa: E731
        if p.name.endswith("segment_id"):  # another segment (logical operators): pick it by name
            editor = QComboBox()
            editor.currentIndexChanged.connect(lambda i, e=editor: e.itemData(i) is not None and emit(e.itemData(i)))
            self._fill_segments(editor, value, None)
        elif p.kind == "bool":
            editor = QCheckBox()
            editor.setChecked(bool(value))
            editor.toggled.connect(emit)
        elif p.kind == "choice":
            editor = QComboBox()
            for choice in p.choices:
                editor.addItem(str(choice), choice)
            editor.setCurrentIndex(max(0, list(p.choices).index(value)) if value in p.choices else 0)
            editor.currentIndexChanged.connect(lambda i, e=editor: emit(e.itemData(i)))
        elif p.kind == "int":
            editor = QSpinBox()
            editor.setRange(int(p.minimum if p.minimum is not None else -2**31 + 1),
                            int(p.maximum if p.maximum is not None else 2**31 - 1))
            editor.setValue(int(value))
            editor.valueChanged.connect(emit)
        elif p.kind == "float":
            editor = QDoubleSpinBox()
            editor.setDecimals(2)
            editor.setRange(p.minimum if p.minimum is not None else -_BIG, p.maximum if p.maximum is not None else _BIG)
            editor.setSingleStep(self._step(p))
            editor.setKeyboardTracking(False)
            if p.default is None:  # optional: the lowest value reads "auto" and means None
                editor.setMinimum(editor.minimum() - 1)
                editor.setSpecialValueText("auto")
                none_at = editor.minimum()
                editor.valueChanged.connect(lambda v, e=editor, n=none_at: emit(None if v <= n else v))
            else:
                editor.valueChanged.connect(emit)
            editor.setValue(editor.minimum() if value is None else float(value))
        else:
            editor = QLineEdit(str(value))
            editor.textChanged.connect(emit)
        if p.unit and hasattr(editor, "setSuffix"):
            editor.setSuffix(f" {p.unit}")
        editor.setObjectName(p.name)
        return editor

    def _fill_segments(self, editor: QComboBox, value, name: str | None) -> None:
        editor.blockSignals(True)
        editor.clear()
        for segment_id, segment_name in self.segment_choices():
            editor.addItem(segment_name, segment_id)
        editor.setCurrentIndex(max(editor.findData(value), 0))
        editor.blockSignals(False)
        if name and editor.count() and editor.itemData(editor.currentIndex()) != value:
            self.changed.emit(name, editor.itemData(editor.currentIndex()))

    def refresh_segments(self) -> None:
        """Segments were added, removed or renamed: refill the segment pickers."""
        for name, editor in self.editors.items():
            if name.endswith("segment_id"):
                self._fill_segments(editor, self.tool.values.get(name), name)

    @staticmethod
    def _step(p: Parameter) -> float:
        if p.minimum is not None and p.maximum is not None:
            span = p.maximum - p.minimum
            return 10.0 if span >= 1000 else 1.0 if span >= 20 else 0.1
        return 1.0

    def set_value(self, name: str, value) -> None:
        """Show ``value`` without reporting it back (the tool changed it itself, e.g. an auto threshold)."""
        editor = self.editors.get(name)
        if editor is None:
            return
        editor.blockSignals(True)
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QComboBox):
            index = editor.findData(value)
            editor.setCurrentIndex(max(index, 0))
        elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
            editor.setValue(editor.minimum() if value is None else value)
        else:
            editor.setText(str(value))
        editor.blockSignals(False)
