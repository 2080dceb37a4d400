"""Issue #14: multi-task balancing of the loss terms (GCDance Table III style), equal step budgets.

Strategies (``train.loss_strategy``): ``fixed`` (EDGE weights), ``aligned-mtl`` and ``nash-mtl``
(torchjd aggregators) over the terms simple (reconstruction), vel, fk, foot and genre (GCDance's
genre-classification term, :meth:`DanceDiffusionModule._genre_term`). Every run starts from the same
initialisation (``--init``, default the bundled model, so the study is a fine-tuning study; ``--init
none`` = the same seeded random init), trains ``--steps`` steps with seed s, and is evaluated on the
Tang2018 val songs (first ``--seconds`` s, sampling seed 0, each song's own genre): FID_k, FID_g, Div_k,
BAS, PFC (choreogen.eval, ``tang2018`` protocol) and genre accuracy (the judge of
benchmarks/genre_control.py on 5 s clips recognises the requested genre). Mean +- std over seeds.

Usage (data: ``choreogen data prepare ../shared/data/tang2018 --format tang2018 --features fast35 --out
data_prepared/tang2018_fast35``; judge: ``python benchmarks/genre_control.py``):
    PYTHONPATH=. python benchmarks/mtl_study.py --data data_prepared/tang2018_fast35 --steps 3000 \
        --seeds 0,1 --json docs/results/mtl_study.json [--accelerator gpu --precision bf16-mixed]
"""
from __future__ import annotations

import argparse
import datetime
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from choreogen.data.splitting import fixed_split
from choreogen.eval import evaluate_motions
from choreogen.eval.genre_judge import GenreJudge, clip_features, clips
from choreogen.io import load_motion
from choreogen.tasks.dance3d.config import GeneratorConfig
from choreogen.tasks.dance3d.pipeline import generate_dance
from choreogen.tasks.dance3d.train import train_generator

WEIGHTS = {"simple": 0.636, "vel": 2.964, "fk": 0.646, "foot": 10.942, "genre": 0.5}
METRICS = ("fid_k", "fid_g", "div_k", "bas", "pfc")


def evaluate(model: Path, songs: list, seconds: float, judge: GenreJudge | None, sampling: dict | None = None) -> dict:
    """``sampling``: generation settings for every run (the init's smoothing and guidance, so that a trained
    file without stored defaults is measured as users of the init get it)."""
    dances = [generate_dance(m.music, model, genre=m.genre, seconds=seconds, seed=0, **(sampling or {})).motion
              for m in songs]
    gt = [m.slice(0, int(seconds * m.fps)).canonical() for m in songs]
    ev = evaluate_motions(dances, gt, music=[m.music for m in songs], protocol="tang2018")["generated"]
    row = {k: float(ev[k]) for k in METRICS if k in ev}
    if "fid_g_nonconst" in ev:  # FID_g with the geometric flags constant over the GT dropped (validate_generator's)
        row["fid_g"] = float(ev["fid_g_nonconst"])
    if judge is not None:
        hits = []
        for d, m in zip(dances, songs):
            cs = clips(d.positions(), 150, 150)
            hits += list(judge.predict(np.stack([clip_features(c) for c in cs])) == judge.labels.index(m.genre))
        row["genre_acc"] = float(np.mean(hits))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="prepared Tang2018 windows (fast35)")
    ap.add_argument("--raw", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "tang2018")
    ap.add_argument("--init", default="dance3d", help="bundled name or checkpoint; 'none' = seeded random init")
    ap.add_argument("--strategies", default="fixed,aligned-mtl,nash-mtl")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the config's)")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--judge", type=Path, default=Path("runs/genre_judge.safetensors"))
    ap.add_argument("--out", type=Path, default=Path("runs/mtl"))
    ap.add_argument("--accelerator", default="cpu")
    ap.add_argument("--precision", default="32-true")
    ap.add_argument("--json", type=Path, default=Path("docs/results/mtl_study.json"))
    a = ap.parse_args()
    t0 = time.perf_counter()
    songs = [load_motion(a.raw / f"{n}.npz") for n in fixed_split("tang2018")["val"]]
    judge = GenreJudge.load(a.judge) if a.judge.is_file() else None
    base = GeneratorConfig()
    runs = {}
    sampling = {}
    if a.init != "none":
        from choreogen.tasks.dance3d.checkpoint import load_generator

        d = load_generator(a.init).config.diffusion
        sampling = {"smooth": d.smooth, "smooth_root": d.smooth_root, "guidance": d.guidance, "steps": d.sample_steps}
        runs["init/-"] = evaluate(a.init, songs, a.seconds, judge, sampling)
        print("init", {k: round(v, 4) for k, v in runs["init/-"].items()}, flush=True)
    for strat in a.strategies.split(","):
        for seed in (int(s) for s in a.seeds.split(",")):
            tc = replace(base.train, loss_strategy=strat, loss_weights=dict(WEIGHTS), seed=seed, max_steps=a.steps,
                         batch_size=a.batch, warmup_steps=min(300, a.steps // 10), lr=a.lr or base.train.lr, val_every=max(1, a.steps),
                         ckpt_every=max(1, a.steps), precision=a.precision, min_snr_gamma=5.0, mirror_prob=0.5)
            out = a.out / f"{strat}_s{seed}"
            t1 = time.perf_counter()
            model = train_generator(a.data, out, replace(base, train=tc), accelerator=a.accelerator, progress=False,
                                    init=None if a.init == "none" else a.init, limit_val_batches=2)
            row = evaluate(model, songs, a.seconds, judge, sampling)
            row["train_s"] = round(time.perf_counter() - t1, 1)
            runs[f"{strat}/{seed}"] = row
            print(strat, seed, {k: round(v, 4) for k, v in row.items()}, flush=True)
    table = {}
    for strat in (["init"] if "init/-" in runs else []) + a.strategies.split(","):
        rows = [v for k, v in runs.items() if k.startswith(strat + "/")]
        table[strat] = {k: [round(float(np.mean([r[k] for r in rows])), 4), round(float(np.std([r[k] for r in rows])), 4)]
                        for k in rows[0] if k != "train_s"}
    res = {"sampling": sampling, "steps": a.steps, "lr": a.lr or base.train.lr, "batch": a.batch, "seeds": a.seeds, "init": a.init, "weights": WEIGHTS, "seconds": a.seconds,
           "table_mean_std": table, "runs": runs, "date": datetime.date.today().isoformat(),
           "wall_s": round(time.perf_counter() - t0, 1)}
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(table, indent=1))
    print(f"-> {a.json}")


if __name__ == "__main__":
    main()
