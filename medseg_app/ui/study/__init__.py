"""Opening studies: loading in a worker with progress, the series picker, structure import / export with the
read-back report. Public: ``study_loading``, ``structure_exchange``, ``load_progress``, ``series_picker_dialog``.
"""
