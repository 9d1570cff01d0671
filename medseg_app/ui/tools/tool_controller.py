"""The active segmentation tool: its context, its preview computed off the GUI thread, Apply and Cancel.

Previews run in a :class:`LoadWorker` (a newer request supersedes the running one, whose result is dropped;
progress and Cancel show in the status bar). Only ``Tool.apply`` — one ``Segmentation.modify`` gesture, one
undo step — runs on the GUI thread. Brush strokes, clicks and lassos on one slice are quick and are applied
on the GUI thread directly. What a gesture in a slice view does is :class:`ToolGestures`'s; the views report
gestures through :class:`~medseg_app.ui.viewer.slice_interaction.SliceInteraction` (see :meth:`attach_views`).

The source layer (:meth:`set_source_layer`, the tool panel's "Source layer"): the study layer the tools read
intensities from, on the reference grid; the first time a layer is chosen its resample onto the reference grid is
made in the worker (a live tool's slices wait for it), never on the GUI thread. The box (:meth:`set_box`, the AI
dock's box) is what a tool run "within the box" is limited to.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from ...core.box import Box

from ...core.segmentation import LockedSegmentError
from ...core.viewer_state import ViewerState
from ...tools.base import EditContext, Preview, Tool
from ..worker import LoadWorker
from .contour_evolution_runner import ContourEvolutionRunner
from .tool_gestures import ToolGestures
from .tool_registry import interaction_of, make_tools, picks_by_click

LIVE_DELAY_MS = 120  # after the last change of a live tool's options, its whole-volume preview starts


class ToolController(QObject):
    tool_changed = Signal(object)  # the active Tool, or None
    preview_changed = Signal(bool)  # True while a preview waits for Apply
    seeds_changed = Signal()
    source_changed = Signal(object)  # the source layer's id, or None for the reference
    message = Signal(str)

    def __init__(self, state: ViewerState, worker: LoadWorker | None = None, tools: dict[str, Tool] | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.worker = worker or LoadWorker(self)
        self.worker.failed.connect(lambda text: self.message.emit(text))
        self.tools = make_tools() if tools is None else tools
        self.active: Tool | None = None
        self.kind: str | None = None
        self.preview: Preview | None = None
        self.seeds: list[tuple[int, int, int]] = []
        self.seed_segments: list[int] = []  # the active segment when each seed was placed (seeds_per_segment tools)
        self.click_index: tuple[int, int, int] | None = None  # the voxel a picking tool was clicked on
        self.shape_inputs: dict | None = None  # the shape drawn for a cutting tool: points, slice_axis
        self.seed_mode = False
        self._apply_when_ready = False
        self.gestures = ToolGestures(self)
        self.views = None  # the SliceInteraction of the slice views, once attached
        self._live_timer = QTimer(self, singleShot=True, interval=LIVE_DELAY_MS)
        self._live_timer.timeout.connect(self.request_preview)
        self._applying = False
        self.source_layer: int | None = None  # None: the tools read the reference
        self.box_lps: np.ndarray | None = None  # (2, 3) LPS corners of the AI dock's box, or None
        state.subscribe(self._on_state)
        state.subscribe_segments(self._on_segments)
        # an evolving tool (active contour): play / pause / step, a preview after each step; Cancel and Apply drop it
        self.evolution = ContourEvolutionRunner(self.worker, self._previewed, self.request_preview, self)
        self.evolution.message.connect(self.message)
        self.preview_changed.connect(lambda shown: shown or self.evolution.reset())

    # --- the slice views ---------------------------------------------------------------------
    def attach_views(self, views) -> None:
        """``views``: the slice views' SliceInteraction, whose handler is :attr:`gestures`."""
        self.views = views
        views.handler = self.gestures

    def refresh_views(self) -> None:
        if self.views is not None:
            self.views.refresh()

    def live_slices(self) -> None:
        """The live tool's preview on the slice each view shows (quick, on the GUI thread)."""
        tool, state = self.active, self.state
        slice_preview = getattr(tool, "preview_slice", None)
        if tool is None or slice_preview is None or state.volume is None or state.segmentation is None:
            return
        if self.views is None:
            return
        if tool.values.get("method", "manual") != "manual" or tool.values.get("preset", "none") != "none":
            return  # an automatic or preset range is worked out on the whole volume, in the worker
        if tool.context is None or not tool.context.source_ready:
            return  # the source layer is being resampled in the worker; the whole-volume preview follows
        if tool.values.get("within") == "box" and self.box_lps is None:
            self.message.emit(f"{tool.title}: draw a box first (AI segmentation ▸ Draw box), or threshold "
                              "within the whole image.")
            return
        if self.ensure_segment() is None:
            return
        shape = state.volume.array.shape
        mode = str(tool.values.get("mode", "add"))
        changes, seen = [], set()
        for view, slice_axis in self.views.shown_slices():
            axis, index = 2 - slice_axis, state.slice_index(view)  # numpy axis of the slices
            if (axis, index) in seen:
                continue
            seen.add((axis, index))
            try:
                plane = np.asarray(slice_preview(axis, index), bool)
            except ValueError as exc:
                self.message.emit(f"{tool.title}: {exc}.")
                return
            start, stop = [0, 0, 0], list(shape)
            start[axis], stop[axis] = index, index + 1
            changes.append((Box(tuple(start), tuple(stop)), np.expand_dims(plane, axis), mode))
        state.set_preview(changes)

    # --- activation --------------------------------------------------------------------------
    def context(self) -> EditContext:
        return EditContext(self.state.volume, self.state.segmentation, None,  # None: the active segment
                           study=self.state.study, source_layer=self.source_layer, box_lps=self.box_lps)

    # --- source layer and box ------------------------------------------------------------------
    def source(self):
        """The source ImageLayer (the reference when none is chosen), or None without a study."""
        study = self.state.study
        if study is None:
            return None
        if self.source_layer is None:
            return study.reference
        return study.layer(self.source_layer)

    def set_source_layer(self, layer_id: int | None) -> None:
        """Read intensities from study layer ``layer_id`` (None or the reference's id: the reference)."""
        study = self.state.study
        if study is not None and layer_id is not None and layer_id == study.reference.id:
            layer_id = None
        if layer_id == self.source_layer:
            return
        self.source_layer = layer_id
        self.source_changed.emit(layer_id)
        if self.active is not None:
            self.activate(self.active.id)  # cancels a running preview: the resample below comes after it
        self._prepare_source()

    def _prepare_source(self) -> None:
        """Resample the source layer onto the reference grid in the worker, once per transform."""
        study, layer_id = self.state.study, self.source_layer
        if study is None or layer_id is None or study.cached_on_reference(layer_id) is not None:
            return
        name = study.layer(layer_id).name

        def job(progress, cancelled):
            progress(0.0, f"Resampling {name} onto the reference grid…")
            return study.on_reference(layer_id)

        self.worker.submit(job, lambda _volume: self._source_ready())

    def _source_ready(self) -> None:
        """The source's resample arrived: a live tool's slices can use it now."""
        if self.active is not None and self.kind == "live":
            self.options_changed()

    def source_waiting(self) -> bool:
        """True (and says so) when an edit applied on the GUI thread would read a source layer whose resample onto
        the reference grid is not made yet: a click fill, or any edit under an intensity range."""
        tool, seg = self.active, self.state.segmentation
        if tool is None or tool.context is None or tool.context.source_ready or seg is None:
            return False
        if self.kind not in ("click", "trace", "wire") and seg.options.intensity_range is None:
            return False
        self._prepare_source()
        self.message.emit(f"{tool.context.source_name} is still being resampled onto the reference grid; "
                          "try again in a moment.")
        return True

    def set_box(self, box) -> None:
        """The box tools may be limited to: a PromptBox on the reference grid, two LPS corners, or None."""
        if box is not None and hasattr(box, "lps_corners"):
            box = box.lps_corners(self.state.volume.geometry) if self.state.volume is not None else None
        self.box_lps = None if box is None else np.asarray(box, float).reshape(2, 3)
        if self.active is not None and self.active.context is not None:
            self.active.context.box_lps = self.box_lps
            if self.active.values.get("within") == "box":
                self.options_changed()

    @staticmethod
    def kind_of(tool: Tool) -> str:
        return interaction_of(tool)

    def activate(self, tool_id: str | None) -> None:
        """Make ``tool_id`` the active tool (None: no tool; left click moves the crosshair again)."""
        self.cancel()
        tool = self.tools.get(tool_id) if tool_id else None
        self.active, self.kind = tool, (interaction_of(tool) if tool else None)
        self.seed_mode = self.kind == "seeds"
        if tool is not None and self.state.volume is not None:
            tool.activate(self.context())
        self.tool_changed.emit(tool)
        self.refresh_views()
        if self.kind == "live" and self.state.volume is not None:
            self.options_changed()

    def _on_state(self, what: str) -> None:
        if what == "volume":
            self.box_lps = None  # a box belongs to its image
        if what in ("volume", "layers"):
            study = self.state.study
            if self.source_layer is not None and (study is None or self.source_layer not in
                                                  {layer.id for layer in study.layers}):
                self.source_layer = None  # the layer left the study (or another study opened): the reference
                self.source_changed.emit(None)
                if self.active is not None and what == "layers":
                    self.activate(self.active.id)
            elif what == "layers" and self.source_layer is not None and \
                    study.cached_on_reference(self.source_layer) is None:
                self._prepare_source()  # re-registered: its resample is made again
        if what in ("volume", "segmentation") and self.active is not None:
            self.activate(self.active.id)

    def _on_segments(self, what: str, segment_id: int, box) -> None:
        """A mask changed under a pending preview (a brush stroke, an undo): the worker may have read the old
        masks, so the preview is recomputed; the newer request supersedes the one in flight."""
        if self._applying or what not in ("mask", "added", "removed"):
            return
        if self.active is not None and self.kind in ("volume", "live", "seeds") and (
                self.worker.busy or self.preview is not None):
            self.request_preview()

    def ensure_segment(self) -> int | None:
        """The segment a tool edits: the active one, or a new one when there is none."""
        seg = self.state.segmentation
        if seg is None:
            return None
        if seg.active_id is None or seg.active_id not in seg.segments:
            seg.set_active(seg.add_segment().id)
        return seg.active_id

    # --- options -----------------------------------------------------------------------------
    def set_parameter(self, name: str, value) -> None:
        if self.active is None:
            return
        self.active.set(**{name: value})
        self.options_changed()

    def options_changed(self) -> None:
        """The active tool's options changed: refresh what the views show of it."""
        if self.kind == "live":
            self.live_slices()
            self._live_timer.start()
        elif self.kind == "seeds" and self.seeds:
            self.request_preview()
        elif self.kind == "volume" and self.preview is not None:
            self.request_preview()
        self.refresh_views()

    def add_seed(self, index) -> None:
        segment_id = self.ensure_segment()
        if segment_id is None:
            return
        self.seeds.append(tuple(int(v) for v in index))
        self.seed_segments.append(segment_id)
        self.seeds_changed.emit()
        self.request_preview()

    def clear_seeds(self) -> None:
        self.seeds, self.seed_segments = [], []
        self.seeds_changed.emit()
        self._drop_preview()

    # --- preview (worker) --------------------------------------------------------------------
    def pick(self, index) -> None:
        """A click for a picking tool (the island to keep): preview with that voxel."""
        self.click_index = tuple(int(v) for v in index)
        self.request_preview()

    def cut(self, points, slice_axis: int) -> None:
        """A shape drawn for a cutting tool (Scissors): computed in the worker, applied when it arrives."""
        self.shape_inputs = {"points": [tuple(float(v) for v in p) for p in points], "slice_axis": int(slice_axis)}
        self._apply_when_ready = True
        self.request_preview()

    def _inputs(self) -> dict:
        if self.kind == "cut":
            return dict(self.shape_inputs or {})
        if self.kind == "seeds" and getattr(self.active, "seeds_per_segment", False):
            grouped: dict[int, list] = {}
            for seed, segment_id in zip(self.seeds, self.seed_segments):
                grouped.setdefault(segment_id, []).append(seed)
            return {"seeds": grouped}
        if self.kind == "seeds":
            return {"seeds": list(self.seeds)}
        if self.click_index is not None and picks_by_click(self.active):
            return {"index": self.click_index}
        return {}

    def request_preview(self) -> None:
        """Compute the active tool's preview in the worker; a newer request supersedes this one."""
        tool = self.active
        if tool is None or self.state.volume is None or self.kind in ("brush", "click", "lasso", "trace", "wire"):
            return  # applied from the slice views' gestures, on one slice
        if getattr(tool, "evolves", False):
            if self.ensure_segment() is not None:
                self.evolution.start(tool, self._inputs())
            return
        painted = tool.values.get("seeds_from") == "segments"  # Grow from seeds: the segments' voxels are seeds
        if self.kind == "seeds" and not (self.seeds or painted) or self.kind == "cut" and not self.shape_inputs:
            return
        per_segment = getattr(tool, "seeds_per_segment", False)  # Grow from seeds, Graph cut
        if self.kind == "seeds" and per_segment and not painted and len(set(self.seed_segments)) < 2:
            self.message.emit(f"{tool.title}: place seeds for at least two segments (pick each in the list).")
            return
        if picks_by_click(tool) and self.click_index is None:
            what = "class" if "selected class" in str(tool.values.get("operation")) else "island"
            self.message.emit(f"{tool.title}: click the {what} to keep in a slice view.")
            return
        if self.ensure_segment() is None:
            return
        self._live_timer.stop()
        inputs = self._inputs()

        def job(progress, cancelled):
            progress(0.0, tool.title)
            return tool.preview(cancelled=cancelled, **inputs)

        self.worker.submit(job, lambda preview, tool=tool: self._previewed(tool, preview))

    def _previewed(self, tool: Tool, preview: Preview | None) -> None:
        if tool is not self.active or preview is None:
            return
        self.preview = preview
        self.state.set_preview([(box, region, mode) for _sid, box, region, mode in preview.changes])
        self.preview_changed.emit(True)
        if self._apply_when_ready:
            self._apply_when_ready = False
            self.apply()

    def _drop_preview(self) -> None:
        self.preview = None
        self._apply_when_ready = False
        self.state.set_preview(None)
        self.preview_changed.emit(False)

    # --- apply / cancel ----------------------------------------------------------------------
    def apply(self) -> None:
        """Commit the preview (one undo step); a preview still computing is applied when it arrives."""
        tool = self.active
        if tool is None or self.gestures.edges.close():  # a live-wire contour being clicked: closed and filled
            return
        if self.worker.busy or self._live_timer.isActive() or (self.preview is None and self.kind in ("volume", "live")):
            # the newest request's preview is the one the user sees coming: apply that when it arrives
            self._apply_when_ready = True
            if not self.worker.busy:
                self.request_preview()
            return
        if self.preview is None:
            return
        preview = self.preview
        if preview.empty:
            reason = preview.info.get("reason", "the preview is empty")
            self.message.emit(f"{tool.title}: nothing to apply ({reason}).")
        else:
            self._run_on_gui(lambda: tool.apply(preview))
        self.seeds, self.seed_segments = [], []
        self.shape_inputs = None
        self.seeds_changed.emit()
        self._drop_preview()

    def apply_now(self, **inputs) -> None:
        """Compute and apply at once on the GUI thread (a click or lasso on one slice)."""
        tool = self.active
        if tool is None or self.source_waiting() or self.ensure_segment() is None:
            return
        self._run_on_gui(lambda: tool.apply(tool.preview(**inputs)))

    def _run_on_gui(self, action) -> bool:
        self._applying = True
        try:
            action()
        except LockedSegmentError as exc:
            self.message.emit(f"{exc}; unlock it to edit.")
            return False
        except (RuntimeError, ValueError) as exc:
            self.message.emit(str(exc))
            return False
        finally:
            self._applying = False
        return True

    def cancel(self) -> None:
        """Drop the preview and the seeds, stop a running preview."""
        self._live_timer.stop()
        if self.worker.busy:
            self.worker.cancel()
        if self.active is not None:
            self.active.cancel()
        self.seeds, self.seed_segments = [], []
        self.click_index = None
        self.shape_inputs = None
        self.gestures.edges.reset()
        self.seeds_changed.emit()
        self._drop_preview()
        self.refresh_views()
