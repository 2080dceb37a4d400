"""Audio-driven skeleton generation (issue #6): beat alignment and diversity on held-out music.

Held out: the Tang2018 *val* split (choreogen/data/splits/tang2018.json, 9 dances, never trained
on). For each val song the shipped (or given) models generate a dance as long as the song's
ground truth, seed 0. Compared with the ground truth and with the random-clip baseline (a random
*training* clip of the same length, paired with the val music; seed 0).

* 3D (skeleton3d, SMPL-24): ``choreogen.eval.evaluate_motions`` with the ``tang2018`` protocol
  (60 fps, 20 s windows, Bailando FID_k/FID_g/Div_k/Div_g, BAS variant bailando with music beats
  from the audio as choreogen.eval computes them).
* 2D (skeleton2d, COCO-17): the val dances seen by one random camera each (seed 123) are the
  ground truth; 20 s windows; BAS = ``choreogen.eval.video.bas_2d`` (music beats from the audio,
  Bailando settings, in seconds); FID/Div (Bailando definitions) on
  ``choreogen.eval.recon.keypoint_features_2d``.

    python benchmarks/skelgen_eval.py [--json runs/skelgen_eval.json] [--ckpt2d X --ckpt3d Y] [--guidance W]
    python benchmarks/skelgen_eval.py --only 3d --recon --ckpt3d Y   # the VAE alone: val captures' own latents

``--recon`` replaces the generated dances by the VAE's reconstruction of the val captures (windows encoded to
their latent means, decoded, stitched as in generation): the ceiling any denoiser in that latent space has.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
WIN = 600  # 20 s at 30 fps (2D windows)


def _clips(j: np.ndarray, n: int = WIN):
    return [j[s:s + n] for s in range(0, len(j) - n + 1, n)] or [j]


def reconstruct_3d(ckpt, joints: np.ndarray) -> np.ndarray:
    """(T, 24, 3) canonical capture -> (T, 24, 3) decoded from its own VAE latent means (generation's windows
    and stitching; floor at y = 0)."""
    from choreogen.motion import Motion
    from choreogen.tasks.skeleton.generate import (default_checkpoint, load_skelgen, smooth_joints, stitch_windows,
                                                    window_starts)
    from choreogen.tasks.skeleton.normalize import normalize, window_center
    from choreogen.tasks.skeleton.rootframe import stitch_root_frame, to_root_frame

    gen = load_skelgen(ckpt or default_checkpoint("skeleton3d"))
    W, O = int(gen.info["window"]), int(gen.info["overlap"])
    root = gen.info.get("frame", "window") == "root"
    T = len(joints)
    starts = window_starts(T, W, O)
    pad = np.concatenate([joints, np.repeat(joints[-1:], starts[-1] + W - T, 0)]).astype(np.float64)
    wins = []
    for s in starts:
        x = pad[s:s + W]
        wins.append(to_root_frame(x, "smpl24", 30.0) if root else normalize(x, window_center(x, np.ones(x.shape[:2], bool)), 1.0))
    x = torch.tensor(np.stack(wins), dtype=torch.float32)
    with torch.no_grad():
        mu, _ = gen.vae.encode(x, torch.ones(x.shape[:3], dtype=torch.bool))
        local = gen.vae.decode(mu).numpy()
    out = stitch_root_frame(local, starts, T, 30.0) if root else stitch_windows(local, starts, T, shift_axes=(0, 2))
    out = smooth_joints(out, float(gen.info.get("joint_smooth", 0.0)))
    return Motion(skeleton="smpl24", fps=30.0, joints=out.astype(np.float32)).canonical(floor="global").joints


def motion_stats(motions) -> dict:
    """Mean joint speed (m/s), mean joint acceleration (m/s^2) and mean over dances of the root's largest
    horizontal distance from its start (m), all at 30 fps."""
    sp, ac, far = [], [], []
    for m in motions:
        j = np.asarray(m.joints, np.float64)
        v = np.diff(j, axis=0) * 30.0
        sp.append(np.linalg.norm(v, axis=-1).mean())
        ac.append(np.linalg.norm(np.diff(v, axis=0) * 30.0, axis=-1).mean())
        far.append(np.linalg.norm(j[:, 0, [0, 2]] - j[0, 0, [0, 2]], axis=-1).max())
    return {"speed_mps": float(np.mean(sp)), "accel_mps2": float(np.mean(ac)), "max_travel_m": float(np.mean(far))}


def eval_3d(ckpt, seed: int, cache: Path, guidance: float | None = None, recon: bool = False) -> dict:
    from choreogen.eval import evaluate_motions
    from choreogen.motion import Motion
    from choreogen.io import load_motion
    from choreogen.tasks.skeleton import data as rd
    from choreogen.tasks.skeleton import generate_skeleton

    folder = SHARED / "tang2018"
    names = rd.tang_split("val")
    gt = [load_motion(folder / f"{n}.npz") for n in names]
    music = [str(folder / f"{n}.mp3") for n in names]
    for m, mu in zip(gt, music):
        m.music = mu
    t0 = time.perf_counter()
    if recon:
        gen = [Motion(skeleton="smpl24", fps=30.0, joints=reconstruct_3d(ckpt, m.resample(30).canonical().positions()),
                      name=f"recon_{m.name}") for m in gt]
    else:
        gen = [generate_skeleton(mu, model="skeleton3d", seconds=m.duration, seed=seed, checkpoint=ckpt,
                                 guidance=guidance) for m, mu in zip(gt, music)]
    t_gen = time.perf_counter() - t0
    train = rd.tang_sequences(folder, "train")
    rng = np.random.default_rng(0)
    rand = []
    for g in gen:
        T = g.num_frames
        cands = [s for s in train if len(s.joints) >= T]
        s = cands[int(rng.integers(len(cands)))]
        t = int(rng.integers(0, len(s.joints) - T + 1))
        rand.append(Motion(skeleton="smpl24", fps=30.0, joints=s.joints[t:t + T].copy(), name=f"rand_{s.name}"))
    metrics = ["fid_k", "fid_g", "div_k", "div_g", "bas"]
    out = {"seconds_generated": float(sum(g.duration for g in gen)), "generation_wall_s": t_gen}
    for label, mots in (("generated", gen), ("random_clips", rand)):
        r = evaluate_motions(mots, gt, music=music, protocol="tang2018", metrics=metrics, cache_dir=cache)
        out[label] = dict(r["generated"], **motion_stats(mots))
        out["ground_truth"] = r["ground_truth"]
    out["ground_truth"] = dict(out["ground_truth"], **motion_stats(
        [Motion(skeleton="smpl24", fps=30.0, joints=m.resample(30).canonical().positions()) for m in gt]))
    return out


def eval_2d(ckpt, seed: int, guidance: float | None = None) -> dict:
    from choreogen.eval.beats import music_beats
    from choreogen.eval.fid import avg_pairwise_distance, diversity, fid
    from choreogen.eval.recon import keypoint_features_2d
    from choreogen.eval.video import bas_2d
    from choreogen.tasks.skeleton import data as rd
    from choreogen.tasks.skeleton import generate_skeleton

    folder = SHARED / "tang2018"
    vseq, vrot = rd.tang_sequences(folder, "val", with_rotations=True)
    gt = rd.project_coco17(vseq, vrot, n_cameras=1, seed=123)
    tseq, trot = rd.tang_sequences(folder, "train", with_rotations=True)
    train = rd.project_coco17(tseq, trot, n_cameras=1, seed=7)
    rng = np.random.default_rng(0)
    res = {"generated": [], "random_clips": [], "ground_truth": []}
    t_gen = 0.0
    for s in gt:
        mp3 = folder / f"{s.name.rsplit('_cam', 1)[0]}.mp3"
        beats = music_beats(mp3, "bailando")
        beat_s = beats["beats"] / beats["fps"]
        T = len(s.joints)
        t0 = time.perf_counter()
        g = generate_skeleton(mp3, model="skeleton2d", seconds=T / 30.0, seed=seed, checkpoint=ckpt,
                              guidance=guidance).joints
        t_gen += time.perf_counter() - t0
        cands = [c for c in train if len(c.joints) >= T]
        c = cands[int(rng.integers(len(cands)))]
        t = int(rng.integers(0, len(c.joints) - T + 1))
        for label, j in (("generated", g), ("random_clips", c.joints[t:t + T]), ("ground_truth", s.joints)):
            for k, clip in enumerate(_clips(np.asarray(j, np.float64))):
                off = k * WIN / 30.0
                b = beat_s[(beat_s >= off) & (beat_s < off + len(clip) / 30.0)] - off
                res[label].append((bas_2d(clip, b, 30.0)["bas"], keypoint_features_2d(clip)))
    gtf = np.stack([f for _, f in res["ground_truth"]])
    out = {"generation_wall_s": t_gen}
    for label, rows in res.items():
        feats = np.stack([f for _, f in rows])
        out[label] = {"bas": float(np.mean([b for b, _ in rows])),
                      "fid_kp": float(fid(gtf, feats).value) if label != "ground_truth" else 0.0,
                      "div_kp": diversity(gtf, feats), "div_kp_raw": avg_pairwise_distance(feats),
                      "n_samples": len(rows)}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--ckpt2d", default=None)
    ap.add_argument("--ckpt3d", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=["2d", "3d"], default=None)
    ap.add_argument("--guidance", type=float, default=None, help="classifier-free guidance (default: the model's)")
    ap.add_argument("--recon", action="store_true", help="3D: the VAE's reconstruction of the val captures")
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "eval_cache")
    a = ap.parse_args()
    torch.set_num_threads(1)
    res = {"date": time.strftime("%Y-%m-%d"), "machine": "2-core shared CPU", "heldout": "Tang2018 val split"}
    if a.only in (None, "3d"):
        res["3d"] = eval_3d(a.ckpt3d, a.seed, a.cache, a.guidance, a.recon)
    if a.only in (None, "2d"):
        res["2d"] = eval_2d(a.ckpt2d, a.seed, a.guidance)
    txt = json.dumps(res, indent=1, default=float)
    print(txt)
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(txt)


if __name__ == "__main__":
    main()
