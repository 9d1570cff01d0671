"""Sessions: save / open .medseg sessions, background autosave and crash recovery, the crash dialog, recent files.
Public: ``session_actions``, ``autosave``, ``crash_dialog``, ``recent_files``. May import ``ui.study``.
"""
