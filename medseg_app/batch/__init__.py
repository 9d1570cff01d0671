"""Cohorts: ``medseg batch`` (AI segmentation, exports and statistics of many studies) and ``medseg batch-stats``
(statistics and overlap with references of a whole cohort), run in this process, on a local Dask cluster or on an
existing Dask distributed cluster.

``inputs`` turns command-line inputs into studies (ids, boxes), ``pool`` runs tasks and draws the progress bar,
``segment_task`` / ``stats_task`` are the per-study tasks (plain arguments in, a small dict out; every file a task
writes it writes itself), the two commands themselves are in ``medseg_app.cli.batch``. Nothing here imports the GUI or the cli.
"""
