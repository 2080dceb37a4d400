"""Train the animator's learned refiner (issue 15) on the self-supervised pairs, resumable, on the CPU.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/refiner_train.py [--data data_prepared/refiner] \
        [--out runs/refiner] [--steps 3000] [--minutes 40] [--batch 8] [--threads 1] [--ship] \
        [--gate] [--init CKPT] [--lr 2e-3]

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
from choreogen.models.refiner import RefinerConfig  # noqa: E402
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
    ap.add_argument("--init", default=None, help="start from this refiner checkpoint's weights")
    ap.add_argument("--gate", action="store_true", help="gated blend mask (holes near the body only)")
    ap.add_argument("--lr", type=float, default=2e-3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    train_refiner(a.data, a.out, steps=a.steps, minutes=a.minutes, batch=a.batch, init=a.init,
                  model_cfg=RefinerConfig(gate=a.gate).to_dict(), module_kw={"lr": a.lr, "warmup": 50},
                  ship=ASSET_DIR / "refiner.safetensors" if a.ship else None)


if __name__ == "__main__":
    main()
