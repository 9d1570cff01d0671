"""Every segmentation tool MedSeg offers, in the order the tool panel shows them."""

from __future__ import annotations

from .active_contour import ActiveContourTool
from .base import Tool
from .clustering import FuzzyCMeansTool, KMeansTool
from .fill_holes import FillHolesTool
from .graph_cut import GraphCutTool
from .hollow import HollowTool
from .islands import IslandsTool
from .level_tracing import LevelTracingTool
from .live_wire import LiveWireTool
from .logical import LogicalTool
from .margin import MarginTool
from .mask_volume import MaskVolumeTool
from .otsu_multi import OtsuMultiThresholdTool
from .paint import EraseTool, PaintTool
from .region_growing import CompetitiveGrowingTool, RegionGrowingTool
from .scissors import ScissorsTool
from .slice_fill import PolygonFillTool, SliceFloodFillTool
from .slice_interpolation import SliceInterpolationTool
from .smoothing import SmoothingTool
from .split_islands import SplitIslandsTool
from .threshold import ThresholdTool

TOOL_CLASSES: tuple[type[Tool], ...] = (
    ThresholdTool, RegionGrowingTool, CompetitiveGrowingTool, GraphCutTool, PaintTool, EraseTool, SliceFloodFillTool,
    PolygonFillTool, LevelTracingTool, LiveWireTool, IslandsTool, FillHolesTool, MarginTool, SmoothingTool, LogicalTool,
    SliceInterpolationTool,
    KMeansTool, FuzzyCMeansTool, OtsuMultiThresholdTool, HollowTool, SplitIslandsTool, ScissorsTool, MaskVolumeTool,
    ActiveContourTool,
)


def tool_classes() -> list[type[Tool]]:
    return list(TOOL_CLASSES)


def make_tools() -> dict[str, Tool]:
    """A fresh instance of every tool, by id."""
    return {cls.id: cls() for cls in TOOL_CLASSES}
