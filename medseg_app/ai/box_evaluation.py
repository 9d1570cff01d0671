"""Held-out evaluation of a box-prompted bundle against two baselines on the very same boxes.

For each held-out case: the exact box and ``jitters`` boxes jittered as the issue asks (centre ±1 cm, size
±20 %, seeded). The model runs through :class:`.inference.Predictor` (the deployed path); the baselines are a
40 % SUVmax threshold and the ellipsoid inscribed in the box. Dice is measured on the case's own grid.
"""

from __future__ import annotations

import time

import numpy as np

from .box_training_data import (Case, dice, ellipsoid_baseline, exact_box, jittered_box,
                                suv_threshold_baseline)


def evaluate(predictor, cases: list[Case], jitters: int = 10, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    rows = []
    seconds = []
    for case in cases:
        exact = exact_box(case)
        boxes = [("exact", exact)] + [("jittered", jittered_box(exact, rng)) for _ in range(jitters)]
        for kind, box in boxes:
            t0 = time.perf_counter()
            result = predictor.segment(case.image, case.geometry, box)
            seconds.append(time.perf_counter() - t0)
            predicted = result.label_map(case.geometry.shape) > 0
            rows.append({"case": case.id, "box": kind, "model": dice(predicted, case.mask),
                         "suvmax40": dice(suv_threshold_baseline(case, box), case.mask),
                         "ellipsoid": dice(ellipsoid_baseline(case, box), case.mask)})

    def mean(kind: str, column: str) -> float:
        return round(float(np.mean([r[column] for r in rows if r["box"] == kind])), 4)

    per_case = {}
    for case in cases:
        values = [r["model"] for r in rows if r["case"] == case.id and r["box"] == "jittered"]
        per_case[case.id] = round(float(np.mean(values)), 4)
    return {
        "held_out_cases": [c.id for c in cases],
        "jittered_boxes_per_case": jitters,
        "mean_dice_jittered_box": mean("jittered", "model"),
        "mean_dice_exact_box": mean("exact", "model"),
        "baseline_suvmax40_jittered_box": mean("jittered", "suvmax40"),
        "baseline_suvmax40_exact_box": mean("exact", "suvmax40"),
        "baseline_ellipsoid_jittered_box": mean("jittered", "ellipsoid"),
        "baseline_ellipsoid_exact_box": mean("exact", "ellipsoid"),
        "min_case_dice_jittered_box": min(per_case.values()) if per_case else None,
        "per_case_dice_jittered_box": per_case,
        "median_seconds_per_box_cpu": round(float(np.median(seconds)), 4) if seconds else None,
    }
