"""Generation-default sweep on the whole val songs: FID_k / FID_g and the physical measures per setting.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/generation_sweep.py MODEL [--seed=S[,S2,...]] SPEC [SPEC ...]

SPEC = "smooth,smooth_root,smooth_height[,guidance][|{json of other generate_dance options}]", e.g.
``3,3,0.5`` or ``3,3,0.5,2.5`` or ``'3,3,0.5|{"foot_lock": false}'``. For each: one dance per val song
(Tang2018 val split, whole song, seed 0 or each ``--seed``, with their mean, the song's genre), then FID_k and FID_g (tang2018 protocol clips,
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
    seeds = [0]
    if specs and specs[0].startswith("--seed="):
        seeds, specs = [int(v) for v in specs[0].split("=", 1)[1].split(",")], specs[1:]
    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "tang2018"
    val = [load_motion(data / f"{n}.npz") for n in fixed_split("tang2018")["val"]]
    proto = get_protocol("tang2018")
    G0 = feats([m.canonical() for m in val], proto, True)
    for spec in specs:
        nums, _, extra = spec.partition("|")
        vals = [float(v) for v in nums.split(",")]
        kw = dict(smooth=vals[0], smooth_root=vals[1], smooth_height=vals[2],
                  guidance=vals[3] if len(vals) > 3 else None, **json.loads(extra or "{}"))
        rows = []
        for seed in seeds:
            gen = [generate_dance(m.music, model, genre=m.genre, seconds=m.duration, seed=seed, **kw).motion for m in val]
            G = feats(gen, proto, False)
            j30 = [d.positions() for d in gen]
            st = [motion_stats(j) for j in j30]
            rows.append({"fid_k": fid(G0["kinetic"], G["kinetic"]).value,
                         "fid_g": fid(G0["geometric"], G["geometric"], drop_constant=True).value,
                         "acc": float(np.mean([q["accel_m_s2"] for q in st])), "pfc": pfc(j30),
                         "clip-pfc": clip_pfc(gen, proto), "skate": float(np.mean([contact_skate(j) for j in j30])),
                         "ank95": float(np.mean([q["ankle_height_p95"] for q in st])),
                         "speed": float(np.mean([q["speed_m_s"] for q in st]))})
            print(_line(f"{spec}" + (f" seed {seed}" if len(seeds) > 1 else ""), rows[-1]), flush=True)
        if len(seeds) > 1:
            print(_line(f"{spec} mean of seeds {','.join(map(str, seeds))}",
                        {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}), flush=True)


def _line(name: str, r: dict) -> str:
    return (f"{name}: fid_k {r['fid_k']:.1f} fid_g {r['fid_g']:.1f} acc {r['acc']:.2f} (x{r['acc'] / CAPTURE_ACCEL:.2f}) "
            f"pfc {r['pfc']:.3f} clip-pfc {r['clip-pfc']:.3f} skate {r['skate']:.3f} ank95 {r['ank95']:.3f} "
            f"speed {r['speed']:.3f}")


if __name__ == "__main__":
    main()
