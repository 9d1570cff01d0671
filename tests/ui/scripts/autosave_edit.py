# MEDSEG_TEST_SCRIPT for the kill -9 test: adds a segment and paints one more voxel every 50 ms, logging each
# ("<n> <time>"), and logs each completed autosave with the time its snapshot was taken ("saved <time>").
import os
import time

import numpy as np
from PySide6.QtCore import QTimer

from medseg_app.core.box import Box

seg = window.state.segmentation  # noqa: F821 (given by the hook)
target = seg.add_segment("Killed", (10, 20, 30))
log = open(os.environ["EDIT_LOG"], "a", buffering=1)
count = [0]


def edit():
    n = count[0]
    if n >= seg.shape[2]:
        return
    seg.modify(target.id, Box((0, 0, n), (1, 1, n + 1)), np.ones((1, 1, 1), bool))
    count[0] += 1
    log.write(f"{count[0]} {time.time()!r}\n")


autosave = window.sessions.autosave  # noqa: F821
autosave.saved.connect(lambda _path: log.write(f"saved {autosave.last_saved_at!r}\n"))
timer = QTimer(window)  # noqa: F821
timer.timeout.connect(edit)
timer.start(50)
