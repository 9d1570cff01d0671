"""Slice views: the four-up grid, each slice view (viewport, rendering, the mouse gestures it reports), the title
bar, the crosshair colours, the window / level bar and the cursor readout.

Public modules for the other ui packages: ``slice_view`` (SliceView), ``slice_interaction`` (SliceInteraction and
the gestures it reports), ``view_title_bar``, ``view_grid``, ``window_level_bar``, ``cursor_readout``. Imports only
``ui.worker`` of ui (checked by the import-linter contract in pyproject.toml).
"""
