"""Reconstruction quality of a latent generator's motion autoencoder on the held-out Tang2018 val windows.

For every val window (5 s, 30 fps, stride 0.5 s, original tempo only) encode -> decode and report: MPJPE of
root-relative joints (mm), root position error after 5 s (mm, integrated from the velocity), mean joint
acceleration of the reconstruction / of the capture, the mean speed of planted feet (m/s) and the ankle
height percentiles p5 / median / p95 (m, both ankles pooled: foot lift) for both.

Usage: python benchmarks/latent_ae_eval.py --model runs/lat1/model.safetensors|runs/ae1/ae.safetensors
           [--data data_prepared/tang2018_fast35] [--json out.json]
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from choreogen.data.windows import PreparedWindows
from choreogen.motion.representation import decode, root_from_velocity, root_to_velocity
from choreogen.motion.skeleton import get_skeleton


def load(path: str):
    from choreogen.tasks.dance3d.latent_ae import load_any_ae

    ae, norm, cfg = load_any_ae(path)  # an autoencoder, a latent generator file or a bundled name
    return ae, norm, float(cfg.get("fps", 30.0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default="data_prepared/tang2018_fast35")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    ae, norm, fps = load(a.model)
    sk = get_skeleton("smpl24")
    ds = PreparedWindows(a.data, split="val", recentre=True)
    feet = sk.foot_indices()
    err, root, acc_r, acc_t, fs_r, fs_t, ank_r, ank_t = [], [], [], [], [], [], [], []
    for b in torch.utils.data.DataLoader(ds, batch_size=128):
        x = b["motion"].float()
        with torch.no_grad():
            rec = root_from_velocity(norm.denormalize(ae.decode(ae.encode(norm.normalize(root_to_velocity(x, fps))))), fps)
        jr, jt = decode(rec, sk)["joints"], decode(x, sk)["joints"]
        err.append(((jr - jr[..., :1, :]) - (jt - jt[..., :1, :])).norm(dim=-1).mean(dim=(1, 2)))
        root.append((jr[:, -1, 0] - jt[:, -1, 0]).norm(dim=-1))
        ank_r.append(jr[..., [7, 8], 1].reshape(-1))
        ank_t.append(jt[..., [7, 8], 1].reshape(-1))
        for j, accs, fss in ((jr, acc_r, fs_r), (jt, acc_t, fs_t)):
            v = (j[:, 1:] - j[:, :-1]) * fps
            accs.append(((v[:, 1:] - v[:, :-1]) * fps).norm(dim=-1).mean(dim=(1, 2)))
            planted = x[:, :-1, : len(feet)] > 0.5
            sp = v[:, :, feet].norm(dim=-1)
            fss.append((sp * planted).sum(dim=(1, 2)) / planted.sum(dim=(1, 2)).clamp(min=1))
    c = lambda xs: float(torch.cat(xs).mean())  # noqa: E731
    out = {"model": a.model, "val_windows": len(ds), "mpjpe_mm": round(1000 * c(err), 1),
           "root_error_5s_mm": round(1000 * c(root), 1), "accel_recon": round(c(acc_r), 3), "accel_capture": round(c(acc_t), 3),
           "accel_ratio": round(c(acc_r) / c(acc_t), 3), "planted_foot_speed_recon": round(c(fs_r), 4),
           "planted_foot_speed_capture": round(c(fs_t), 4)}
    for name, xs in (("recon", ank_r), ("capture", ank_t)):
        q = np.percentile(torch.cat(xs).numpy(), [5, 50, 95])
        out[f"ankle_height_p5_p50_p95_{name}"] = [round(float(v), 3) for v in q]
    print(json.dumps(out, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    return None


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
