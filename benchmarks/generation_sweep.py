"""Generation-default sweep on the whole val songs: FID_k / FID_g and the physical measures per setting.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/generation_sweep.py MODEL [--seed=S] SPEC [SPEC ...]

SPEC = "smooth,smooth_root,smooth_height[,guidance][|{json of other generate_dance options}]", e.g.
``3,3,0.5`` or ``3,3,0.5,2.5`` or ``'3,3,0.5|{"foot_lock": false}'``. For each: one dance per val song
(Tang2018 val split, whole song, seed 0, the song's genre), then FID_k and FID_g (tang2018 protocol clips,
GT-constant geometric dims dropped) against the val captures, mean joint acceleration (m/s^2, and / the
captures' 3.90), PFC (:func:`choreogen.eval.physics.pfc` on the whole 30 fps songs; "clip-pfc" over the
protocol's 20 s clips as validate_generator reports it, captures 0.668), mean planted-foot speed
(m/s), ankle height p95 (m) and body speed (m/s). Used for the bundled defaults (docs/MODEL_CARD.md).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from choreogen.data.splitting import fixed_split
from choreogen.eval.dance_stats import contact_skate, motion_stats
from choreogen.eval.fid import fid
from choreogen.eval.physics import pfc, pfc_sequence
from choreogen.eval.protocols import get_protocol
from choreogen.eval.runner import _per_sample, make_clips
from choreogen.io import load_motion
from choreogen.tasks.dance3d.pipeline import generate_dance

CAPTURE_ACCEL = 3.8986  # m/s^2, val captures (docs/results/validation_latent_energy.json)


def feats(motions, proto, is_gt):
    clips = [c for m in motions for c in make_clips(m, proto, None, is_gt=is_gt)]
    return _per_sample(clips, proto, {"fid_k", "fid_g"}, {})


def clip_pfc(motions, proto) -> float:
    """PFC as validate_generator reports it: mean over the protocol's 20 s clips."""
    return float(np.mean([pfc_sequence(c.phys) for m in motions for c in make_clips(m, proto, None, is_gt=False)]))


def main() -> None:
    model, specs = sys.argv[1], sys.argv[2:]
    seed = 0
    if specs and specs[0].startswith("--seed="):
        seed, specs = int(specs[0].split("=", 1)[1]), specs[1:]
    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "tang2018"
    val = [load_motion(data / f"{n}.npz") for n in fixed_split("tang2018")["val"]]
    proto = get_protocol("tang2018")
    G0 = feats([m.canonical() for m in val], proto, True)
    for spec in specs:
        nums, _, extra = spec.partition("|")
        vals = [float(v) for v in nums.split(",")]
        kw = dict(smooth=vals[0], smooth_root=vals[1], smooth_height=vals[2],
                  guidance=vals[3] if len(vals) > 3 else None, **json.loads(extra or "{}"))
        gen = [generate_dance(m.music, model, genre=m.genre, seconds=m.duration, seed=seed, **kw).motion for m in val]
        G = feats(gen, proto, False)
        j30 = [d.positions() for d in gen]
        st = [motion_stats(j) for j in j30]
        acc = float(np.mean([q["accel_m_s2"] for q in st]))
        print(f"{spec}: fid_k {fid(G0['kinetic'], G['kinetic']).value:.1f} "
              f"fid_g {fid(G0['geometric'], G['geometric'], drop_constant=True).value:.1f} "
              f"acc {acc:.2f} (x{acc / CAPTURE_ACCEL:.2f}) pfc {pfc(j30):.3f} clip-pfc {clip_pfc(gen, proto):.3f} "
              f"skate {np.mean([contact_skate(j) for j in j30]):.3f} "
              f"ank95 {np.mean([q['ankle_height_p95'] for q in st]):.3f} "
              f"speed {np.mean([q['speed_m_s'] for q in st]):.3f}", flush=True)


if __name__ == "__main__":
    main()
