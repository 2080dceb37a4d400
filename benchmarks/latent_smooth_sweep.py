"""Post-smoothing sweep for a generator's defaults: motion statistics of a few val songs per setting.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/latent_smooth_sweep.py --model runs/dec1/gen.safetensors \
        [--songs DANCE_W_10,DANCE_C_7,DANCE_R_4] [--seconds 30] [--smooth 0,1,1.5,2] [--smooth-root 0,3]

For every (smooth, smooth_root) pair (Gaussian sigmas in frames on rotations / root; see
``choreogen generate --smooth``): mean joint acceleration (m/s^2), PFC (EDGE's physical foot contact,
30 fps), ankle height p95 (m) and body speed (m/s), pooled over the songs, beside the songs' captures.
Used to choose the smoothing stored in a checkpoint (benchmarks/set_generation_defaults.py).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.eval.dance_stats import motion_stats  # noqa: E402
from choreogen.eval.physics import pfc  # noqa: E402
from choreogen.io import load_motion  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "tang2018"))
    ap.add_argument("--songs", default="DANCE_W_10,DANCE_C_7,DANCE_R_4")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--smooth", default="0,1,1.5,2")
    ap.add_argument("--smooth-root", default="0,3")
    a = ap.parse_args()
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline

    pipe = Dance3DPipeline.from_pretrained(a.model)
    songs = a.songs.split(",")
    genres = {"W": "waltz", "C": "chacha", "R": "rumba", "T": "tango"}

    def row(name, joints_list):
        st = [motion_stats(j, 30.0) for j in joints_list]
        acc = np.mean([s["accel_m_s2"] for s in st])
        sp = np.mean([s["speed_m_s"] for s in st])
        ank = np.mean([s["ankle_height_p95"] for s in st])
        print(f"{name:24s} accel {acc:6.2f}  pfc {pfc(joints_list):6.3f}  ankle_p95 {ank:.3f}  speed {sp:.3f}", flush=True)

    caps = []
    for s in songs:
        caps.append(load_motion(Path(a.data) / f"{s}.npz").canonical().resample(30).positions()[: int(a.seconds * 30)])
    row("captures", caps)
    for sm in [float(v) for v in a.smooth.split(",")]:
        for sr in [float(v) for v in a.smooth_root.split(",")]:
            js = [pipe(Path(a.data) / f"{s}.mp3", genre=genres[s.split("_")[1][0]], seconds=a.seconds, seed=0,
                       smooth=sm, smooth_root=sr).motion.positions() for s in songs]
            row(f"smooth {sm:g} root {sr:g}", js)


if __name__ == "__main__":
    main()
