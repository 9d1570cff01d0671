"""Segment editing from Python, without Qt: the same tools, options and undo the GUI uses.

    editor = SegmentEditor(load_volume("resources/sample/STS_001/CT/dicom/image"))
    editor.add_segment("Bone")
    editor.run("threshold", preset="CT bone")
    editor.undo()

``run`` takes the tool's parameters as keywords and its inputs (``seeds``, ``index``, ``points``,
``slice_axis``) in ``inputs``; it previews and applies in one call and returns the Preview it applied.

Tools on another layer (3D Slicer's "source volume"): the editor's first volume is the study's reference, whose
grid every segment lives on; ``add_layer`` adds another series of the patient (a PET, an MR: identity transform
for one Frame of Reference, else give ``transform``, a :class:`LayerTransform`), or pass a ready ``study=``.
``source=`` names the layer a tool reads its intensities from (name, modality or id as ``Study.find`` takes
them; ``set_source`` sets the default, None the reference), and ``box=`` two opposite LPS corners in mm (the AI
box: the viewer's status bar shows patient mm) for the tools that work within a box:

    editor = SegmentEditor(ct)
    editor.add_layer(pet)
    editor.add_segment("MTV")
    editor.run("threshold", source="PT", preset="pet_40_percent_suvmax", within="box", suv_max_in="box",
               box=[[27, -36, -842], [118, 59, -744]])     # ≥ 40 % of the box's SUVmax, on the CT grid
    editor.run("threshold", source="PT", preset="pet_suv_2_5", within="image")   # SUV ≥ 2.5 anywhere

(a tool's parameters stay as the last run set them, hence ``within="image"``).

The source is read on the reference grid (``Study.on_reference``: linear, NaN where the layer has no voxels,
which no tool ever puts in a mask).
"""

from __future__ import annotations

import numpy as np

from ..core.layer_transform import LayerTransform
from ..core.segmentation import EditOptions, Segmentation
from ..core.study import ImageLayer, Study
from ..core.volume import Volume
from .base import CancelFn, EditContext, Preview, Tool
from .registry import make_tools


class SegmentEditor:
    def __init__(self, volume: Volume, segmentation: Segmentation | None = None, study: Study | None = None):
        if study is not None and study.reference.volume is not volume:
            raise ValueError("the study's reference image must be the volume the segments are drawn on")
        self.volume = volume
        self.segmentation = segmentation or Segmentation(volume.geometry)
        self.study = study or Study(volume)
        self.tools: dict[str, Tool] = make_tools()
        self.source: int | None = None  # the layer tools read by default; None: the reference
        self.box_lps: np.ndarray | None = None

    # --- layers ------------------------------------------------------------------------------
    def add_layer(self, volume: Volume, name: str | None = None, transform: LayerTransform | None = None,
                  **options) -> ImageLayer:
        """Another image of the patient, over the reference (see ``Study.add_layer`` for ``options``)."""
        return self.study.add_layer(volume, name, transform=transform, **options)

    def layer_id(self, source: int | str | None) -> int | None:
        """The study layer ``source`` names (None: the reference)."""
        if source is None:
            return None
        layer = self.study.layer(source) if isinstance(source, int) else self.study.find(str(source))
        return None if layer is self.study.reference else layer.id

    def set_source(self, source: int | str | None) -> None:
        """The layer tools read intensities from when ``run`` is given no ``source``."""
        self.source = self.layer_id(source)

    def set_box(self, corners) -> None:
        """The box (two opposite LPS corners, mm) for tools run ``within="box"``; None clears it."""
        self.box_lps = None if corners is None else np.asarray(corners, float).reshape(2, 3)

    def context(self, segment: int | str | None = None, source: int | str | None = None,
                box=None) -> EditContext:
        layer = self.source if source is None else self.layer_id(source)
        corners = self.box_lps if box is None else np.asarray(box, float).reshape(2, 3)
        target = None if segment is None and self.segmentation.active_id is None else self.segment_id(segment)
        return EditContext(self.volume, self.segmentation, target, study=self.study,
                           source_layer=layer, box_lps=corners)

    # --- segments ----------------------------------------------------------------------------
    def add_segment(self, name: str, colour=None, mask: np.ndarray | None = None) -> int:
        segment = self.segmentation.add_segment(name, colour=colour, mask=mask)
        self.segmentation.set_active(segment.id)
        return segment.id

    def segment_id(self, segment: int | str | None = None) -> int:
        if segment is None:
            if self.segmentation.active_id is None:
                raise ValueError("no segment to edit: add one first")
            return self.segmentation.active_id
        return segment if isinstance(segment, int) else self.segmentation.by_name(segment).id

    def mask(self, segment: int | str | None = None) -> np.ndarray:
        """The segment as a full-size bool array (a copy; segments are stored cropped)."""
        return self.segmentation.segments[self.segment_id(segment)].mask.to_dense()

    def set_options(self, intensity_range: tuple[float, float] | None = None, overwrite: str = "none") -> None:
        """Editing options; the intensity range is in the units of the layer a tool reads (its ``source``)."""
        self.segmentation.options = EditOptions(intensity_range, overwrite)

    # --- tools -------------------------------------------------------------------------------
    def run(self, tool_id: str, segment: int | str | None = None, inputs: dict | None = None,
            cancelled: CancelFn | None = None, source: int | str | None = None, box=None,
            **parameters) -> Preview:
        """Preview and apply one tool on a segment (default: the active one) as one undo step, reading
        intensities from ``source`` (default: :attr:`source`) and limited to ``box`` where the tool says so."""
        tool = self.tools[tool_id]
        tool.set(**parameters)
        tool.activate(self.context(segment, source, box))
        preview = tool.preview(cancelled=cancelled, **(inputs or {}))
        tool.apply(preview)
        return preview

    def paint_sphere(self, centre_index, diameter_mm: float, segment: int | str | None = None,
                     erase: bool = False) -> None:
        """One 3-D brush dab at voxel (i, j, k), as one undo step."""
        tool = self.tools["erase" if erase else "paint"]
        tool.set(diameter_mm=diameter_mm, shape="sphere")
        tool.activate(self.context(segment))
        tool.begin_stroke(centre_index)
        tool.end_stroke()

    def undo(self) -> str | None:
        return self.segmentation.undo()

    def redo(self) -> str | None:
        return self.segmentation.redo()
