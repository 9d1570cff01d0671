"""Opening studies: loading in a worker with progress, the series picker, studies of several series (Open study…,
Add image layer…, ``--layer``), structure import / export with the read-back report. Public: ``study_loading``,
``layer_loading``, ``study_opening``, ``study_series_dialog``, ``structure_exchange``, ``load_progress``,
``series_picker_dialog``.
"""
