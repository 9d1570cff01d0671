"""Train, evaluate on the held-out split, and publish a bundle with its model card (docs/README.md)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from pathlib import Path

from .box_evaluation import evaluate
from .box_training_data import load_cases
from .bundle import read_bundle
from .training import NETWORKS, TrainingSettings, split_for, train, write_bundle


def train_and_publish(data: Path, out: Path, settings: TrainingSettings, jitters: int = 10) -> dict:
    from .inference import Predictor

    cases = load_cases(data)
    if len(cases) <= settings.held_out:
        raise ValueError(f"{data} holds {len(cases)} cases; at least {settings.held_out + 1} are needed")
    training_cases, held_out = split_for(cases, settings)
    log_lines: list[str] = []

    def log(line: str) -> None:
        log_lines.append(line)
        print(line, flush=True)

    network, seconds, device = train(training_cases, settings, log)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))  # same file system: rename
    write_bundle(staging, network, settings, {})
    metrics = evaluate(Predictor(read_bundle(staging), device="cpu"), held_out, jitters=jitters)
    weights = staging / "models" / "model.pt"
    training = {
        "network": NETWORKS[settings.network],
        "steps": settings.steps, "batch_size": settings.batch_size, "learning_rate": settings.learning_rate,
        "spatial_size": list(settings.spatial_size), "box_margin": settings.margin, "seed": settings.seed,
        "weight_decay": settings.weight_decay,
        "threads": settings.threads, "device": device, "seconds": round(seconds, 1),
        "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
        "training_cases": [c.id for c in training_cases], "data": data.name,
        "weights_mb": round(weights.stat().st_size / 1e6, 2),
    }
    bundle_meta = json.loads((staging / "configs" / "metadata.json").read_text())
    bundle_meta["eval_metrics"] = {k: v for k, v in metrics.items() if k not in ("per_case_dice_jittered_box",
                                                                                 "held_out_cases")}
    bundle_meta["medseg_training"] = training
    bundle_meta["medseg_held_out_cases"] = metrics["held_out_cases"]
    (staging / "configs" / "metadata.json").write_text(json.dumps(bundle_meta, indent=2) + "\n")
    (staging / "docs" / "metrics.json").write_text(json.dumps({"evaluation": metrics, "training": training},
                                                              indent=2) + "\n")
    (staging / "docs" / "training_log.txt").write_text("\n".join(log_lines) + "\n")
    (staging / "docs" / "README.md").write_text(model_card(out.name, metrics, training))
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return metrics


def model_card(name: str, m: dict, t: dict) -> str:
    network = t["network"]["_target_"].rsplit(".", 1)[-1]
    per_case = "\n".join(f"| {case} | {dice:.3f} |" for case, dice in m["per_case_dice_jittered_box"].items())
    return f"""# {name}: box-prompted FDG-PET sarcoma GTV segmentation (MONAI {network})

A radiologist draws a box around a soft-tissue tumour on an FDG-PET SUV image; the model segments the gross
tumour volume inside the box (plus a {t['box_margin']:.0%} margin on every side, resampled onto
{'×'.join(map(str, t['spatial_size']))} voxels along the image axes). The result is a proposal to correct.

## Data
IBSI validation set (TCIA Soft-tissue-Sarcoma, CC BY 3.0: Vallières et al. 2015, TCIA DOI
10.7937/K9/TCIA.2015.7GO2GSKS), 41 PET SUV crops of about 5 cm around each tumour with GTV_Mass masks
(`../shared/data/{t['data']}`). Seeded split (seed {t['seed']}): {len(t['training_cases'])} training cases,
{len(m['held_out_cases'])} held out: {', '.join(m['held_out_cases'])}.

Because the crops are centred on the tumour, a model could learn "the blob in the middle"; it is therefore
trained and evaluated as a box-prompted model, with the box jittered in training (centre ±12 mm, size ±25 %).

## Held-out accuracy (Dice on each case's own grid)
{m['jittered_boxes_per_case']} jittered boxes per held-out case (centre ±1 cm per axis, each side ±20 %, seed 7),
plus the exact box. Baselines use the very same boxes.

| | jittered box | exact box |
|---|---|---|
| **this model** | **{m['mean_dice_jittered_box']:.3f}** | {m['mean_dice_exact_box']:.3f} |
| 40 % SUVmax threshold in the box | {m['baseline_suvmax40_jittered_box']:.3f} | {m['baseline_suvmax40_exact_box']:.3f} |
| ellipsoid inscribed in the box | {m['baseline_ellipsoid_jittered_box']:.3f} | {m['baseline_ellipsoid_exact_box']:.3f} |

Worst held-out case (mean over its jittered boxes): {m['min_case_dice_jittered_box']:.3f}.
Median time per box on the CPU, including pre- and post-processing: {m['median_seconds_per_box_cpu']:.3f} s.
On a GPU MedSeg runs the same model with CUDA and float16 autocast; {'no GPU was available when this card was written, so no GPU time is reported' if t['device'] == 'cpu' else 'it was trained on ' + t['device']}.

| case | mean Dice, jittered boxes |
|---|---|
{per_case}

## Training
`medseg train --network {'vnet' if network == 'VNet' else 'unet'} --data ../shared/data/{t['data']} --out models/{name} --steps {t['steps']} --seed {t['seed']}`
(seeded: the same seed and thread count give the same weights).
{t['steps']} steps of batch {t['batch_size']}, Adam with a one-cycle learning rate peaking at {t['learning_rate']},
Dice + cross-entropy, random flips, intensity jitter,
weight decay {t.get('weight_decay', 1e-5):g}. Trained on the **{t['device']}**
({t['cpu_count']} CPU cores, {t['threads']} threads) in {t['seconds'] / 60:.1f} minutes.
Weights: `models/model.pt`, {t['weights_mb']} MB (a plain state dict, loaded with `weights_only=True`).

Network: `{json.dumps(t['network'])}`.

## Limits
Trained on {len(t['training_cases'])} sarcoma cases from one collection; PET only; not validated for clinical use.
"""
