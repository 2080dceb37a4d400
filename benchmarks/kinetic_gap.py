"""Where FID_k's gap comes from: the kinetic features of generated dances, by group and joint.

FID_k (tang2018 protocol) is built from 72 kinetic features: per joint the mean squared horizontal
speed (ke_h), the mean squared vertical speed (ke_v) and the reference's "energy expenditure" (ee).
For the val songs this prints, for the model's dances (and optionally for its autoencoder's
reconstruction of the val captures, ``--recon``: what the decoder can express at best) and for the
random-clip baseline: FID_k, the squared-mean term of each group in GT-standardised units, FID_k
with each group left out, the generated / captured mean of ke_h and ke_v at the pelvis, ankles and
wrists, and the pelvis's vertical movement (std of its height, RMS vertical speed; 30 fps).

    PYTHONPATH=. python benchmarks/kinetic_gap.py [--model dance3d-latent] [--recon] \
        [--kw '{"smooth": 0}'] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from choreogen.data.splitting import fixed_split
from choreogen.eval.fid import fid
from choreogen.eval.protocols import get_protocol
from choreogen.eval.runner import _per_sample, make_clips
from choreogen.io import load_motion
from choreogen.motion import Motion
from choreogen.motion.representation import decode_to_smpl, encode
from choreogen.motion.skeleton import get_skeleton

GROUPS = ("ke_h", "ke_v", "ee")
JOINTS = {"pelvis": 0, "l_ankle": 7, "r_ankle": 8, "l_wrist": 20, "r_wrist": 21}


def features(motions, proto, is_gt: bool) -> np.ndarray:
    clips = [c for m in motions for c in make_clips(m, proto, None, is_gt=is_gt)]
    return _per_sample(clips, proto, {"fid_k"}, {})["kinetic"]


def report(k: np.ndarray, kg: np.ndarray, motions) -> dict:
    mu, sd = kg.mean(0), kg.std(0) + 1e-10
    term = ((k.mean(0) - mu) / sd) ** 2
    ratio = k.mean(0) / np.maximum(kg.mean(0), 1e-12)
    out = {"fid_k": fid(kg, k).value,
           "mean_term": {g: float(term[i::3].sum()) for i, g in enumerate(GROUPS)},
           "fid_k_without": {g: fid(kg[:, [d for d in range(k.shape[1]) if d % 3 != i]],
                                    k[:, [d for d in range(k.shape[1]) if d % 3 != i]]).value
                             for i, g in enumerate(GROUPS)},
           "ratio_ke_h": {n: float(ratio[3 * j]) for n, j in JOINTS.items()},
           "ratio_ke_v": {n: float(ratio[3 * j + 1]) for n, j in JOINTS.items()}}
    y = [m.resample(30).positions()[:, 0, 1] for m in motions]
    out["pelvis_y_std_m"] = float(np.mean([v.std() for v in y]))
    out["pelvis_vy_rms_m_s"] = float(np.sqrt(np.mean(np.concatenate([(np.diff(v) * 30) ** 2 for v in y]))))
    return out


def reconstruct(model, val) -> list:
    """The latent generator's autoencoder applied to the val captures (30 fps, whole sequences)."""
    from choreogen.tasks.dance3d.latent_sampling import decode_latents, encode_features
    from choreogen.tasks.dance3d.pipeline import get_generator

    gen = get_generator(model)
    skel = get_skeleton("smpl24")
    out = []
    for m in val:
        c = m.canonical().resample(30)
        f = torch.from_numpy(encode(c.poses, c.trans, skel))
        f = f[: len(f) // 6 * 6]
        z = encode_features(gen, f[None])
        p, t, j = decode_to_smpl(decode_latents(gen, z, origin=f[None, 0, 4:7])[0], skel)
        out.append(Motion(skeleton="smpl24", fps=30, joints=j, poses=p, trans=t, name=m.name).canonical())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "tang2018"))
    ap.add_argument("--kw", default="{}", help="JSON of generation options (smooth, smooth_root, foot_lock, ...)")
    ap.add_argument("--recon", action="store_true", help="also the autoencoder's reconstruction of the captures")
    ap.add_argument("--no-generate", action="store_true")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    from choreogen.tasks.dance3d.pipeline import generate_dance

    torch.set_num_threads(1)
    split = fixed_split("tang2018")
    val = [load_motion(Path(a.data) / f"{n}.npz") for n in split["val"]]
    train = [load_motion(Path(a.data) / f"{n}.npz") for n in split["train"]]
    proto = get_protocol("tang2018")
    gt = [m.canonical() for m in val]
    kg = features(gt, proto, True)
    res: dict = {"model": a.model or "default", "options": json.loads(a.kw),
                 "ground_truth": report(kg, kg, gt)}
    rng = np.random.default_rng(0)
    rand = []
    for m in val:
        c = [t for t in train if t.num_frames >= m.num_frames]
        src = c[rng.integers(len(c))]
        s = int(rng.integers(0, src.num_frames - m.num_frames + 1))
        rand.append(src.slice(s, s + m.num_frames).canonical())
    res["random_clips"] = report(features(rand, proto, False), kg, rand)
    if a.recon:
        rec = reconstruct(a.model, val)
        res["ae_reconstruction"] = report(features(rec, proto, False), kg, rec)
    if not a.no_generate:
        kw = json.loads(a.kw)
        gen = [generate_dance(m.music, a.model, genre=m.genre, seconds=m.duration, seed=0, **kw).motion for m in val]
        res["model_dances"] = report(features(gen, proto, False), kg, gen)
    txt = json.dumps(res, indent=1)
    if a.json:
        Path(a.json).write_text(txt)
    for k, v in res.items():
        if isinstance(v, dict) and "fid_k" in v:
            print(f"{k:18s} FID_k {v['fid_k']:7.1f}  terms " + " ".join(f"{g} {v['mean_term'][g]:5.1f}" for g in GROUPS)
                  + "  without " + " ".join(f"{g} {v['fid_k_without'][g]:6.1f}" for g in GROUPS)
                  + f"  pelvis ke_h {v['ratio_ke_h']['pelvis']:.2f} ke_v {v['ratio_ke_v']['pelvis']:.2f}"
                  + f"  pelvis y std {v['pelvis_y_std_m']:.3f} vy {v['pelvis_vy_rms_m_s']:.3f}")


if __name__ == "__main__":
    main()
