"""How each segmentation tool (medseg_app.tools.registry) is used in a slice view.

Interaction kinds:
- ``brush``: left drag paints (or erases) one stroke, one undo step, with the brush outline as the cursor;
- ``seeds``: clicks (Shift+click, or any click in seed mode) place seeds; the preview runs in a worker;
- ``click``: one click (flood fill) computes and applies at once;
- ``lasso``: a left drag draws a polygon, filled on the slice at the release;
- ``trace``: the outline under the mouse is previewed as it moves, a click fills it (level tracing);
- ``wire``: clicks place points joined by the live wire, previewed to the mouse; a double-click, Enter or a click
  on the first point closes and fills it, Backspace removes the last point, Esc drops it;
- ``cut``: a left drag draws a shape (a lasso, or a rectangle), cut through the volume in the worker and applied
  when it arrives (Scissors);
- ``live``: no clicks; the preview follows the options while they change (threshold);
- ``volume``: Preview runs the tool on the whole volume in a worker, Apply commits; a tool that picks by click
  (Islands "keep selected", see :func:`picks_by_click`) takes the clicked voxel as ``index``.
"""

from __future__ import annotations

import inspect

from ...tools.base import Tool
from ...tools.registry import make_tools, tool_classes

__all__ = ["interaction_of", "make_tools", "picks_by_click", "tool_classes"]
INTERACTION = {
    "paint": "brush", "erase": "brush",
    "grow": "seeds", "grow_competitive": "seeds", "graph_cut": "seeds", "active_contour": "seeds",
    "slice_flood_fill": "click",
    "polygon_fill": "lasso",
    "scissors": "cut",
    "level_trace": "trace", "live_wire": "wire",
    "threshold": "live",
}


def interaction_of(tool: Tool) -> str:
    return INTERACTION.get(tool.id, "volume")


def _takes(tool: Tool, name: str) -> bool:
    try:
        return name in inspect.signature(tool.compute).parameters
    except (TypeError, ValueError):
        return False


def picks_by_click(tool: Tool | None) -> bool:
    """A volume tool that needs a clicked voxel now (Islands, operation "keep selected")."""
    if tool is None or not _takes(tool, "index"):
        return False
    operation = tool.values.get("operation")
    return operation is None or "select" in str(operation)
