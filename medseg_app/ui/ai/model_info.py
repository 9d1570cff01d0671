"""What the AI panel says about the chosen model (from ``ModelBundle.summary()``), and the modality check.

Rows: network, modality, labels, input spacing ("from the box" for box-prompted models, which resample the box
onto a fixed grid), whether a box is needed, the reported accuracy (mean Dice on held-out data, as the bundle's
metadata states it), whether its configs run Python code, and the description. A warning line appears when the
model's modality differs from the open image's.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

_MODALITY = {"PET": "PT", "PT": "PT", "MRI": "MR", "MR": "MR", "CT": "CT"}
_MODALITY_WORDS = {"PT": "PET", "MR": "MR", "CT": "CT"}
ROWS = ("Network", "Modality", "Labels", "Input spacing", "Box", "Accuracy", "Python code", "Description")


def _modality(text: str) -> str:
    return _MODALITY.get(text.strip().upper(), text.strip().upper())


def modality_warning(model_modality: str, image_modality: str | None) -> str:
    """One sentence when the model was made for another modality than the open image's (else '')."""
    model, image = _modality(model_modality or ""), _modality(image_modality or "")
    if not model or not image or model == image:
        return ""
    return (f"This model is for {_MODALITY_WORDS.get(model, model)} images; the open image is "
            f"{_MODALITY_WORDS.get(image, image)}: its result will not be meaningful.")


def accuracy_text(accuracy: dict) -> str:
    if not accuracy:
        return "not reported"
    for key, words in (("mean_dice_jittered_box", "held-out, jittered boxes"),
                       ("mean_dice_exact_box", "held-out, exact boxes"), ("mean_dice", ""),
                       ("val_mean_dice", "validation")):
        value = accuracy.get(key)
        if isinstance(value, (int, float)):
            return f"mean Dice {value:.3f}" + (f" ({words})" if words else "")
    for key, value in accuracy.items():
        if "dice" in key.lower() and isinstance(value, (int, float)):
            return f"{key.replace('_', ' ')} {value:.3f}"
    return "not reported"


def summary_rows(summary: dict) -> dict[str, str]:
    spacing = summary.get("input_spacing_mm")
    if summary.get("needs_box"):
        spacing_text = "from the box (resampled onto the model's grid)"
    elif spacing:
        spacing_text = " × ".join(f"{v:g}" for v in spacing) + " mm"
    else:
        spacing_text = "the image's own"
    return {
        "Network": summary.get("network") or "?",
        "Modality": _MODALITY_WORDS.get(_modality(summary.get("modality") or ""), summary.get("modality") or "any"),
        "Labels": ", ".join(summary.get("labels") or []) or "?",
        "Input spacing": spacing_text,
        "Box": "draw a box around the lesion" if summary.get("needs_box") else "not needed (whole image)",
        "Accuracy": accuracy_text(summary.get("accuracy") or {}),
        "Python code": "yes: asks for your trust before its first run" if summary.get("needs_trust") else "no",
        "Description": summary.get("description") or "",
    }


class ModelInfo(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.values: dict[str, QLabel] = {}
        for row in ROWS:
            label = QLabel("")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[row] = label
            form.addRow(f"{row}:", label)
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #e0a030;")
        self.warning.setVisible(False)
        form.addRow(self.warning)

    def show_summary(self, summary: dict | None, image_modality: str | None) -> None:
        rows = summary_rows(summary) if summary else {}
        for row, label in self.values.items():
            label.setText(rows.get(row, ""))
        self.values["Description"].setToolTip(f"{summary['name']} {summary.get('version', '')}\n{summary['path']}"
                                              if summary else "")
        warning = modality_warning(summary.get("modality", ""), image_modality) if summary else ""
        self.warning.setText(f"⚠ {warning}" if warning else "")
        self.warning.setVisible(bool(warning))
