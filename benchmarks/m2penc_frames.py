"""Look at M2PEnc: contact sheets of its guidance maps and of the photo it drives (issue 15).

    PYTHONPATH=. OMP_NUM_THREADS=2 python benchmarks/m2penc_frames.py --song SONG --image PHOTO \
        [--model runs/m2penc/model.safetensors] [--genre waltz] [--seconds 8] [--out out/m2penc]

Writes ``OUT/<song>_maps.png`` (rows: M2PEnc part maps, M2PEnc heatmaps (max over joints), the
teacher route's maps rendered from its projected dance; 8 frames evenly over ``seconds``) and
``OUT/<song>_<photo>_frames.png`` (rows: photo driven by the teacher route, photo driven by M2PEnc).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.api import dance3d_dancer  # noqa: E402
from choreogen.tasks.posevideo import PoseVideoPipeline  # noqa: E402
from choreogen.tasks.posevideo import m2penc as M  # noqa: E402
from choreogen.tasks.posevideo import sdgpip  # noqa: E402
from choreogen.video.guidance import render_torch  # noqa: E402


def tile(maps: np.ndarray, size: int = 128) -> np.ndarray:
    import cv2

    return np.concatenate([cv2.resize(m, (size, size), interpolation=cv2.INTER_NEAREST) for m in maps], 1)


def main() -> None:
    import cv2

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--song", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--genre", default=None)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--out", default="out/m2penc")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    dancer = M.M2PEncDancer(a.model)
    teach = dance3d_dancer()
    mo = dancer(a.song, seconds=a.seconds, genre=a.genre)
    g, h = dancer.last_maps  # first window (3.2 s)
    tm = teach(a.song, seconds=a.seconds, genre=a.genre)
    kt = sdgpip.canonical_2d(tm.positions(), tm.fps, tm.skeleton)
    n = min(len(g), len(kt))
    idx = np.linspace(0, n - 1, 8).round().astype(int)
    ht, gt = render_torch(torch.as_tensor(kt[idx]), torch.ones(len(idx), 17), sdgpip.CANON, g.shape[-1])
    rows = [tile(g[idx].max(1)), tile(np.clip(h[idx].max(1), 0, 1)), tile(gt.numpy().max(1)), tile(ht.numpy().max(1))]
    sheet = (np.concatenate(rows, 0) * 255).astype(np.uint8)
    stem = Path(a.song).stem
    cv2.imwrite(str(out / f"{stem}_maps.png"), sheet)
    fr = []
    for motion in (tm, mo):
        res = PoseVideoPipeline()(a.song, a.image, motion=motion, seconds=a.seconds)
        k = np.linspace(0, len(res.frames) - 1, 8).round().astype(int)
        fr.append(np.concatenate([cv2.resize(res.frames[i], (160, 160)) for i in k], 1))
    cv2.imwrite(str(out / f"{stem}_{Path(a.image).stem}_frames.png"), cv2.cvtColor(np.concatenate(fr, 0), cv2.COLOR_RGB2BGR))
    print(out / f"{stem}_maps.png", out / f"{stem}_{Path(a.image).stem}_frames.png")


if __name__ == "__main__":
    main()
