"""The segmentation tools the tool panel offers, found in their modules, and how each is used in a slice view.

Interaction kinds:
- ``brush``: left drag paints (or erases) one stroke, one undo step, with the brush outline as the cursor;
- ``seeds``: clicks (Shift+click, or any click in seed mode) place seeds; the preview runs in a worker;
- ``click``: one click (flood fill) computes and applies at once;
- ``lasso``: a left drag draws a polygon, filled on the slice at the release;
- ``live``: no clicks; the preview follows the options while they change (threshold);
- ``volume``: Preview runs the tool on the whole volume in a worker, Apply commits; a tool that picks by click
  (Islands "keep selected", see :func:`picks_by_click`) takes the clicked voxel as ``index``.
A module that is not there (yet) or fails to import is left out; the others still work.
"""

from __future__ import annotations

import importlib
import inspect
import logging

from ..tools.base import Tool

MODULES = ("threshold", "region_growing", "paint", "slice_fill", "islands", "fill_holes", "margin", "smoothing",
           "logical", "slice_interpolation")
INTERACTION = {
    "paint": "brush", "erase": "brush",
    "region_growing": "seeds", "competitive_growing": "seeds",
    "slice_flood_fill": "click", "flood_fill": "click",
    "polygon_fill": "lasso", "lasso": "lasso",
    "threshold": "live",
}
_log = logging.getLogger(__name__)


def interaction_of(tool: Tool) -> str:
    if tool.id in INTERACTION:
        return INTERACTION[tool.id]
    if "grow" in tool.id or _takes(tool, "seeds"):
        return "seeds"
    return "volume"


def _takes(tool: Tool, name: str) -> bool:
    try:
        return name in inspect.signature(tool.compute).parameters
    except (TypeError, ValueError):
        return False


def tool_classes(modules=MODULES) -> list[type[Tool]]:
    """Every concrete Tool subclass defined in the tool modules, in module order."""
    found: list[type[Tool]] = []
    for name in modules:
        try:
            module = importlib.import_module(f"medseg_app.tools.{name}")
        except Exception as exc:  # a tool still being written must not take the editor down
            _log.info("tool module %s not available: %s", name, exc)
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Tool) and cls is not Tool and cls.__module__ == module.__name__ and cls.id:
                found.append(cls)
    order = {name: i for i, name in enumerate(modules)}
    return sorted(found, key=lambda c: (order[c.__module__.rsplit(".", 1)[1]], inspect.getsourcelines(c)[1]))


def make_tools(modules=MODULES) -> dict[str, Tool]:
    tools: dict[str, Tool] = {}
    for cls in tool_classes(modules):
        try:
            tools[cls.id] = cls()
        except Exception as exc:
            _log.info("tool %s could not be made: %s", cls.id, exc)
    return tools


def picks_by_click(tool: Tool | None) -> bool:
    """A volume tool that needs a clicked voxel now (Islands, operation "keep selected")."""
    if tool is None or not _takes(tool, "index"):
        return False
    operation = tool.values.get("operation")
    return operation is None or "select" in str(operation)
