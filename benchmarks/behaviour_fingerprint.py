"""Fingerprints of every shipped model's output for a fixed seed (behaviour preservation).

    python benchmarks/behaviour_fingerprint.py            # print sha256 + write tests/data/behaviour_ref.npz
    python benchmarks/behaviour_fingerprint.py --check    # compare against tests/data/behaviour_ref.npz
    python benchmarks/behaviour_fingerprint.py --update repair_smpl24   # re-record one entry (an intended change)

Inputs are the bundled example song (4 s) and that song's generated dance with joints hidden, so
no shared data is needed. The reference arrays (a few hundred kB, float32) back the portable test
in tests/test_behaviour_preserved.py: bit-identical where the platform matches the recorded one,
within float tolerance on any other CPU/BLAS.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "data" / "behaviour_ref.npz"


def outputs() -> dict[str, np.ndarray]:
    """One thread everywhere (torch and NumPy's BLAS): thread count changes float rounding."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    with threadpool_limits(1):
        return _outputs()


def _outputs() -> dict[str, np.ndarray]:
    import choreogen.api as api

    song = api.example_song()
    out = {}
    d = api.generate_dance(song, seconds=4.0, seed=3, steps=5).motion
    out["dance3d"] = np.concatenate([d.poses.ravel(), d.trans.ravel(), d.positions().ravel()]).astype(np.float32)
    for model in ("skeleton2d", "skeleton3d"):
        s = api.generate_skeleton(song, model=model, seconds=4.0, seed=3, steps=5)
        out[model] = s.positions().astype(np.float32).ravel()
    rng = np.random.default_rng(0)
    j3 = d.positions().astype(np.float32)
    conf3 = (rng.random(j3.shape[:2]) > 0.15).astype(np.float32)
    m3 = api.Motion(skeleton="smpl24", fps=30.0, joints=j3, confidence=conf3, name="fp3")
    out["repair_smpl24"] = api.repair_motion(m3).positions().astype(np.float32).ravel()
    j2 = np.stack([j3[..., 0], -j3[..., 1]], -1)[:, :17] * 300 + 256  # any 17-joint 2D track in pixels
    conf2 = (rng.random(j2.shape[:2]) > 0.15).astype(np.float32)
    m2 = api.Motion(skeleton="coco17", fps=30.0, joints=j2.astype(np.float32), confidence=conf2, name="fp2")
    out["repair_coco17"] = api.repair_motion(m2).positions().astype(np.float32).ravel()
    return out


def platform_id() -> str:
    """What decides bit-identity: CPU instruction set torch uses, torch/numpy versions, machine."""
    import platform

    import torch

    return f"{platform.machine()}|{torch.backends.cpu.get_cpu_capability()}|torch {torch.__version__}|numpy {np.__version__}"


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, np.float32).tobytes()).hexdigest()[:16]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--update", action="append", default=[], help="re-record only this entry (repeatable), "
                    "with its own platform key, after an intended change of that model")
    a = ap.parse_args()
    out = outputs()
    if a.check:
        ref = np.load(REF)
        bad = [k for k in out if sha(out[k]) != sha(ref[k])]
        print('recorded on', str(ref['platform']), '| here', platform_id())
        for k in out:
            print(f"{k:16s} {sha(out[k])}  ref {sha(ref[k])}  max|diff| {np.abs(out[k] - ref[k]).max():.3g}")
        print("bit-identical" if not bad else f"DIFFERENT: {bad}")
        return 1 if bad else 0
    if a.update:
        old = dict(np.load(REF))
        for k in a.update:
            old[k], old[f"platform__{k}"] = out[k], np.array(platform_id())
        np.savez_compressed(REF, **old)
        return 0
    REF.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(REF, platform=np.array(platform_id()), **out)
    for k, v in out.items():
        print(f"{k:16s} {sha(v)}  ({v.size} values)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
