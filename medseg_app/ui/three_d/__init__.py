"""The 3-D view: segment surfaces built off the GUI thread, slice planes, volume rendering and its button.

Public: ``view`` (ThreeDView, imported lazily: VTK), ``panel`` (ThreeDPanel). May import ``ui.viewer`` (the title bar).
"""
