"""Measurements on the slice views: rulers, ellipse / circle ROIs and RECIST diameters (core.measurements,
core.recist), drawn where they lie and listed in the Measurements dock. Public: ``measurement_interaction``
(MeasurementInteraction, wrapping each slice view's interactor), ``measurements_dock`` (MeasurementsDock).
"""
