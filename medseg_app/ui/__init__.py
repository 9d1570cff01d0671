"""The PySide6 user interface, one subpackage per feature (nothing outside ui imports it but the ``medseg`` command).

| package | what |
|---|---|
| ``app``, ``main_window`` | the QApplication and the main window that puts the docks and the views together |
| ``worker`` | the background worker every slow job runs in (progress, Cancel, stale results dropped) |
| ``viewer`` | slice views, the four-up grid, window / level bar, cursor readout |
| ``three_d`` | the 3-D view |
| ``segments`` | the Segments dock |
| ``tools`` | the Tools dock, the tool controller and each tool's options widget |
| ``ai`` | the AI segmentation dock |
| ``statistics`` | the Statistics dock |
| ``session`` | sessions, autosave, crash dialog, recent files |
| ``study`` | loading, progress, series picker, structure exchange |

Within ui the packages are layered (pyproject.toml's import-linter contract): app > main_window > the feature docks
(ai, statistics, session, segments, three_d, tools; none imports another) > study > viewer > worker.
"""
