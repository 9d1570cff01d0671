"""Keyboard shortcuts: ONE table (``shortcut_table``) that both installs every shortcut of the window
(``window_shortcuts``: WindowShortcuts) and is listed in Help ▸ Keyboard shortcuts (``shortcuts_dialog``) and the
README (checked by a test), so the three cannot drift apart.
"""
