"""Mask volume: a new image layer with the source layer's voxels inside / outside the active segment set to a value.

3D Slicer's "Mask volume" effect writes a new volume node; here the result is a new layer of the study (on the
reference grid, identity transform, named "<layer> masked by <segment>"), and no image already in the study ever
changes. It follows the tool contract with one twist: ``preview`` computes the masked image (in the tool worker,
:func:`core.volume_masking.masked_volume` on the source layer resampled onto the reference grid) and changes no
segment; ``apply`` adds that image to the study as one undo step of the segmentation's history (undo takes the
layer out of the study again, redo puts it back), so Ctrl+Z works on it as on any edit. Headless:

    editor.run("mask_volume", where="outside", fill_value=-1000)    # editor.study.layers[-1] is the result

``fill_value`` None (the options' "auto") is the source's lowest value (air on CT, 0 on PET).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.box import Box
from ..core.volume import Volume
from ..core.volume_masking import WHERE, masked_volume
from .base import EMPTY_SEGMENT_REASON, Parameter, Preview, Tool


@dataclass
class MaskedImagePreview(Preview):
    """No segment changes; the image ``apply`` adds to the study as layer ``name``."""

    volume: Volume | None = None
    name: str = ""

    @property
    def empty(self) -> bool:
        return self.volume is None


class MaskVolumeTool(Tool):
    id = "mask_volume"
    title = "Mask volume"
    parameters = (
        Parameter("where", "outside", "Set the voxels", kind="choice", choices=WHERE),
        Parameter("fill_value", None, "Fill value"),  # None: the source's lowest value
    )

    def compute(self, cancelled=None, **inputs) -> MaskedImagePreview:
        context, segment_id, mask = self._target_mask()
        if mask.empty and self.values["where"] == "inside":
            return MaskedImagePreview(info={"reason": EMPTY_SEGMENT_REASON})
        source = context.source_volume
        fill = self.values["fill_value"]
        fill = source.value_range()[0] if fill is None else float(fill)
        segment = context.segmentation.segments[segment_id]
        layer = context.layer or (context.study.reference if context.study is not None else None)
        source_name = layer.name if layer is not None else (source.modality or "image")
        name = f"{source_name} masked by {segment.name}"
        reference_frame = context.volume.identity.frame_of_reference_uid
        volume = masked_volume(source, mask.to_dense(), str(self.values["where"]), fill, name, reference_frame)
        inside = int(mask.count())
        changed = inside if self.values["where"] == "inside" else int(np.prod(mask.shape)) - inside
        return MaskedImagePreview(info={"fill_value": fill, "voxels_set": changed, "layer": name},
                                  volume=volume, name=name)

    def apply(self, preview: MaskedImagePreview | None = None) -> Box:
        context = self._require_context()
        preview = preview or self.last_preview
        if preview is None or preview.volume is None:
            raise RuntimeError(f"{self.title}: nothing to apply; run preview() first")
        study = context.study
        if study is None:
            raise RuntimeError(f"{self.title}: the image is not part of a study to add the masked image to")
        layer = study.add_layer(preview.volume, preview.name)
        if not layer.registered:  # on the reference grid by construction, whatever its Frame of Reference says
            layer.registration_note = "on the reference grid"
            study.confirm_alignment(layer.id)
        position = study.layers.index(layer)
        with context.segmentation.gesture(f"{self.title}: {preview.name}") as step:
            step.undo_actions.append(lambda: layer in study.layers and study.remove_layer(layer.id))
            step.redo_actions.append(lambda: study.restore_layer(layer, position))
        self.last_preview = None
        return Box((0, 0, 0), (0, 0, 0))
