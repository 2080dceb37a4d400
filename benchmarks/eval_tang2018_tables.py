"""Tang2018 val-split evaluation tables (docs/EVAL.md): ground truth vs itself and vs a random-clip
baseline (training clips paired with the val music), protocol ``tang2018``.

Run from the repository root (needs ../shared/data/tang2018):

    python benchmarks/eval_tang2018_tables.py [--json out.json] [--bootstrap 200]

Baseline: for every 20 s window of every val sequence, a training sequence and a start are drawn
(seed 0) and that 20 s training clip is scored as if generated for the window's music (its
``music_offset_s`` is the window start, so BAS uses the right part of the song).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.data.splitting import fixed_split  # noqa: E402
from choreogen.eval import evaluate_motions, get_protocol  # noqa: E402
from choreogen.eval.report import markdown_table, to_json  # noqa: E402
from choreogen.io import load_motion  # noqa: E402


def main() -> None:
    torch.set_num_threads(1)
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "tang2018"))
    ap.add_argument("--json", default=None)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", default=None, help="GT / music-beat cache folder (default ~/.cache/choreogen/eval)")
    a = ap.parse_args()
    from choreogen.eval.runner import default_cache_dir

    cache = a.cache or default_cache_dir()
    split = fixed_split("tang2018")
    data = Path(a.data)
    proto = get_protocol("tang2018")
    val = [load_motion(data / f"{n}.npz") for n in split["val"]]
    train = [load_motion(data / f"{n}.npz") for n in split["train"]]
    rng = np.random.default_rng(a.seed)
    clip_s = proto.clip_frames / proto.feature_fps
    baseline = []
    for m in val:
        n_win = max(1, int(m.duration // clip_s))
        for k in range(n_win):
            src = train[int(rng.integers(len(train)))]
            n = int(round(clip_s * src.fps)) + 1
            start = int(rng.integers(0, max(1, src.num_frames - n)))
            clip = src.slice(start, start + n)
            clip.name = f"rand_{src.name}_{start}_for_{m.name}#{k}"
            clip.music = m.music
            clip.meta["music_offset_s"] = k * clip_s
            baseline.append(clip)
    t = time.time()
    gt_self = evaluate_motions(val, val, protocol=proto, bootstrap=a.bootstrap, seed=a.seed, cache_dir=cache)
    t1 = time.time() - t
    t = time.time()
    rand = evaluate_motions(baseline, val, protocol=proto, bootstrap=a.bootstrap, seed=a.seed, cache_dir=cache)
    t2 = time.time() - t
    print(f"## Tang2018 val split ({len(val)} sequences, {gt_self['ground_truth']['n_samples']} windows of 20 s)\n")
    print("### Ground truth vs itself\n")
    print(markdown_table(gt_self, "val GT (as generated)", "val GT (pool)"))
    print("\n### Random training clips paired with the val music\n")
    print(markdown_table(rand, "random train clips", "val GT"))
    print(f"\nGT-constant geometric dims (0-based): {gt_self['details']['gt_constant_geometric_dims']}")
    print(f"wall time: GT-vs-GT {t1:.1f} s, baseline {t2:.1f} s (bootstrap {a.bootstrap})")
    if a.json:
        Path(a.json).write_text(json.dumps({"gt_vs_gt": json.loads(to_json(gt_self)),
                                            "random_baseline": json.loads(to_json(rand))}, indent=1))


if __name__ == "__main__":
    main()
