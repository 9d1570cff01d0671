"""The Statistics dock: per-segment measures, comparisons with a segment or a reference file, the correction
audit, CSV / JSON export; the measures run in a worker. Public: ``panel`` (StatisticsPanel).
"""
