"""The AI segmentation dock: models and their details, drawing the prompt box, the run in a worker, results as
segments. Public: ``panel`` (AiPanel). May import ``ui.viewer`` (SliceView, for the box) and ``ui.worker``.
"""
