"""Validation numbers for a generator checkpoint on the held-out Tang2018 val split (model card).

Compares, with the evaluation room's `tang2018` protocol (choreogen.eval):
  * ground truth (val dances vs the val pool itself),
  * the model (one dance per val song, full song length, seed 0, default steps/guidance, its genre),
  * random-clip baseline (random training-sequence excerpts of the same length paired with the val music),
  * the untrained model (same architecture and normaliser, random init).
Also reports foot skating (LODGE FSR and mean foot speed while in contact) and, against memorisation,
for every 5 s window (stride 2.5 s) the distance to its nearest training window (root-relative joint
positions, mean per-joint error in metres) for generated vs val ground truth.

Usage: python benchmarks/validate_generator.py --model choreogen/assets/models/generator.safetensors \
           --data ../shared/data/tang2018 --json docs/validation_generator.json [--seconds 60]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from choreogen.data.splitting import fixed_split as load_split
from choreogen.eval import evaluate_motions
from choreogen.eval.dance_stats import contact_skate, motion_stats
from choreogen.eval.physics import fsr
from choreogen.tasks.dance3d.pipeline import generate_dance, get_generator
from choreogen.io import load_motion


def windows(j: np.ndarray, W: int = 150, S: int = 75, sub: int = 5) -> np.ndarray:
    """(T, 24, 3) -> (N, W/sub * 72) root-relative joint windows."""
    out = []
    for s in range(0, len(j) - W + 1, S):
        w = j[s:s + W:sub]
        out.append((w - w[:, :1]).reshape(-1))
    return np.asarray(out, np.float32)


def nn_dist(q: np.ndarray, ref: np.ndarray) -> np.ndarray:
    d = torch.cdist(torch.from_numpy(q), torch.from_numpy(ref))  # L2 over all coords
    n = q.shape[1] // 3
    return (d.min(1).values / np.sqrt(n)).numpy()  # RMS per joint-frame, metres


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "tang2018"))
    ap.add_argument("--seconds", type=float, default=None, help="dance only the first S seconds of each val song")
    ap.add_argument("--json", default=None)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    data = Path(a.data)
    split = load_split("tang2018")
    val = [load_motion(data / f"{n}.npz") for n in split["val"]]
    train = [load_motion(data / f"{n}.npz") for n in split["train"]]
    if a.seconds:
        val = [m.slice(0, int(a.seconds * m.fps)) for m in val]
    gen = get_generator(a.model)
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    model_dances, untrained = [], []
    for m in val:
        r = generate_dance(m.music, a.model, genre=m.genre, seconds=m.duration, seed=a.seed)
        model_dances.append(r.motion)
    t_gen = time.time() - t0
    # untrained: same config + normaliser, fresh weights
    state = {k: v.clone() for k, v in gen.model.state_dict().items()}
    torch.manual_seed(a.seed)
    for mod in gen.model.modules():
        if hasattr(mod, "reset_parameters") and mod is not gen.model:
            mod.reset_parameters()
    for m in val:
        untrained.append(generate_dance(m.music, a.model, genre=m.genre, seconds=m.duration, seed=a.seed).motion)
    gen.model.load_state_dict(state)
    # random-clip baseline: excerpts of random training dances, paired with the val music
    rand = []
    for m in val:
        T = m.num_frames
        cands = [t for t in train if t.num_frames >= T]
        src = cands[rng.integers(len(cands))]
        s = int(rng.integers(0, src.num_frames - T + 1))
        clip = src.slice(s, s + T).canonical()
        clip.music, clip.name = m.music, f"random_{m.name}"
        rand.append(clip)
    gt = [m.canonical() for m in val]
    music = [m.music for m in val]
    stats = {"model": [motion_stats(d.positions(), 30.0, d.meta.get("window", 150) - d.meta.get("overlap", 75),
                                    d.meta.get("overlap", 75)) for d in model_dances],
             "ground_truth": [motion_stats(m.canonical().resample(30).positions()) for m in val],
             "random_clips": [motion_stats(d.resample(30).positions()) for d in rand]}
    res = {"model": str(gen.path), "model_provenance": gen.provenance, "val_sequences": split["val"],
           "generation_seconds": t_gen, "dance_seconds": float(sum(m.duration for m in val))}
    for name, dances in (("model", model_dances), ("random_clips", rand), ("untrained", untrained)):
        ev = evaluate_motions(dances, gt, music=music, protocol="tang2018", bootstrap=200)
        j30 = [d.resample(30).positions() for d in dances]
        res[name] = {**ev["generated"], "fsr30": fsr(j30)["ratio"],
                     "contact_skate_m_s": float(np.mean([contact_skate(j) for j in j30])), "ci": ev["ci"].get("generated")}
        res["ground_truth"] = ev["ground_truth"]
        res["ground_truth"]["ci"] = ev["ci"].get("ground_truth")
    jg = [d.resample(30).positions() for d in gt]
    res["ground_truth"]["fsr30"] = fsr(jg)["ratio"]
    res["ground_truth"]["contact_skate_m_s"] = float(np.mean([contact_skate(j) for j in jg]))
    # memorisation check
    ref = np.concatenate([windows(t.resample(30).canonical().positions(), S=15) for t in train])
    qg = np.concatenate([windows(d.positions()) for d in model_dances])
    qv = np.concatenate([windows(d.resample(30).positions()) for d in gt])
    dg, dv = nn_dist(qg, ref), nn_dist(qv, ref)
    res["nearest_train_window_m"] = {
        "generated": {"median": float(np.median(dg)), "p10": float(np.percentile(dg, 10)), "min": float(dg.min()), "n": len(dg)},
        "val_ground_truth": {"median": float(np.median(dv)), "p10": float(np.percentile(dv, 10)), "min": float(dv.min()), "n": len(dv)},
    }
    res["motion_stats"] = {k: {q: float(np.mean([d[q] for d in v if q in d])) for q in v[0]} for k, v in stats.items()}
    txt = json.dumps(res, indent=1, default=float)
    if a.json:
        Path(a.json).write_text(txt)
    keys = ["fid_k", "fid_g", "fid_g_nonconst", "div_k", "div_g", "bas", "pfc", "fsr30", "contact_skate_m_s"]
    print(f"{'':14s}" + "".join(f"{k:>14s}" for k in keys))
    for row in ("ground_truth", "model", "random_clips", "untrained"):
        print(f"{row:14s}" + "".join(f"{res[row].get(k, float('nan')):14.4f}" if isinstance(res[row].get(k), (int, float)) else f"{'-':>14s}" for k in keys))
    print("nearest training window (m):", res["nearest_train_window_m"])
    print("motion stats:", json.dumps(res["motion_stats"]))


if __name__ == "__main__":
    main()
