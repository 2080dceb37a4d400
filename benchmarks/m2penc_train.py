"""Train M2PEnc (issue 15) on the SDGPip pose set, resumable, on the CPU.

    PYTHONPATH=. OMP_NUM_THREADS=2 python benchmarks/m2penc_train.py [--data data_prepared/m2penc] \
        [--out runs/m2penc] [--steps 4000] [--minutes 60] [--ship] [--init MODEL]

``--ship`` also writes the bundled fp16 file choreogen/assets/models/m2penc.safetensors at every
export. Run the same command again to resume from ``OUT/last.ckpt``. Same as
``choreogen train-m2penc DATA --out OUT``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.checkpoints import ASSET_DIR  # noqa: E402
from choreogen.tasks.posevideo.m2penc_train import train_m2penc  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data_prepared/m2penc")
    ap.add_argument("--out", default="runs/m2penc")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--minutes", type=float, default=None)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ship", action="store_true")
    ap.add_argument("--init", default=None)
    ap.add_argument("--energy", type=float, default=0.0, help="joint-speed matching weight")
    ap.add_argument("--lr", type=float, default=2e-3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = Path(a.out)
    train_m2penc(a.data, out, steps=a.steps, minutes=a.minutes, batch=a.batch,
                 ship=ASSET_DIR / "m2penc.safetensors" if a.ship else None, init=a.init,
                 energy_w=a.energy, lr=a.lr)


if __name__ == "__main__":
    main()
