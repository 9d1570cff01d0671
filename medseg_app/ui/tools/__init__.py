"""The Tools dock: the tool panel, the tool controller (what a gesture does with the active tool; previews in
a worker; Apply / Cancel) and one options widget per tool. The tools themselves live in medseg_app.tools.

Public: ``tool_controller`` (ToolController), ``tool_panel`` (ToolPanel). May import ``ui.viewer`` and ``ui.worker``.
"""
