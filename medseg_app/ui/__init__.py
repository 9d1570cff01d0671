"""PySide6 user interface. Nothing outside ui (but the cli entry point) imports it."""
