"""Speed of ``choreogen repair``: a 60 s, 30 fps, COCO-17 sequence with 15 % missing joints.

    python benchmarks/repair_speed.py [--threads 2]

Times :func:`choreogen.tasks.skeleton.repair_motion` with the shipped 2D model (model load excluded,
best of 3) and prints the real-time factor. Synthetic keypoints (no shared data needed).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from choreogen.motion import Motion  # noqa: E402
from choreogen.tasks.skeleton.repair import default_checkpoint, load_model, repair_motion  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=60.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    T = int(a.seconds * 30)
    rng = np.random.default_rng(0)
    t = np.arange(T)[:, None, None] / 30
    j = 900 + rng.normal(size=(1, 17, 2)) * 120 + 60 * np.sin(2 * np.pi * 1.5 * t + rng.uniform(0, 6, (1, 17, 2)))
    conf = np.where(rng.random((T, 17)) < 0.15, 0.0, 0.9).astype(np.float32)
    m = Motion(skeleton="coco17", fps=30, joints=j.astype(np.float32), confidence=conf, meta={"source": "synthetic"})
    load_model(default_checkpoint("coco17"))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        repair_motion(m)
        best = min(best, time.perf_counter() - t0)
    print(f"repair of {a.seconds:g} s ({T} frames, 17 joints) on {a.threads} thread(s): {best:.2f} s "
          f"= {a.seconds / best:.1f}x real time")


if __name__ == "__main__":
    main()
