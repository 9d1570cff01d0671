"""Qt widget tests of the 2-D viewer and the main window (offscreen)."""
