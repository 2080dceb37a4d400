"""Train the animator's learned refiner (issue 15) on the self-supervised pairs, resumable, on the CPU.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/refiner_train.py [--data data_prepared/refiner] \
        [--out runs/refiner] [--steps 3000] [--minutes 40] [--batch 8] [--threads 1] [--ship]

Data: benchmarks/refiner_prepare.py. ``--ship`` also writes the bundled fp16 file
choreogen/assets/models/refiner.safetensors at every export. Run the same command again to resume
from ``OUT/last.ckpt`` (``wall_minutes`` in the exported info counts the last run only).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.checkpoints import ASSET_DIR  # noqa: E402
from choreogen.tasks.posevideo.refiner_train import train_refiner  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data_prepared/refiner")
    ap.add_argument("--out", default="runs/refiner")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--minutes", type=float, default=None)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ship", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    train_refiner(a.data, a.out, steps=a.steps, minutes=a.minutes, batch=a.batch,
                  ship=ASSET_DIR / "refiner.safetensors" if a.ship else None)


if __name__ == "__main__":
    main()
