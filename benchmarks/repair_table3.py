"""DanceFusion Table 3 on choreogen's fixed held-out sequences, plus the real-detector test.

    python benchmarks/repair_table3.py                 # shipped models, writes out/repair_table3.json + .md
    python benchmarks/repair_table3.py --ablations runs  # also runs/repair_smpl24_{mse,l1_nomask,mse_nomask}
    python benchmarks/repair_table3.py --model3 "old=runs/old/repair_smpl24.safetensors" --model2 "old=..."

Held-out data (never trained on): 3D = Tang2018 ``val`` split (choreogen/data/splits/tang2018.json),
30 fps canonical SMPL-24 joints; 2D = AIST++ keypoints2d ch07 + ch08, all 9 views, subsampled to
30 fps, ground truth = joints with detector confidence >= 0.3 (itself detector output, with
jitter: the script prints its high-frequency noise level), and 2D clean = the Tang2018 val dances
(COCO-17 points from the SMPL fits) seen through 3 fixed random cameras each (seed 77).
Conditions: 5/10/15/20 % of the present joints hidden at random; runs of 15, 30 and 60 frames
(0.5, 1 and 2 s at 30 fps) of one whole arm or leg chain, and of whole frames, each hiding 10 %
of the frames. Methods: the VAE(s), linear interpolation, a cubic (Akima) spline over time,
Savitzky-Golay (9 frames, order 2) after linear interpolation, and the body-frame spline the new
model corrects (``baselines.interpolate_body``). Errors on hidden joints only (see
choreogen.tasks.skeleton.evaluate); 3D also body plausibility on the 1 s limb runs. Needs ../shared/data.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.motion.skeleton import get_skeleton  # noqa: E402
from choreogen.tasks.skeleton import baselines, data, evaluate  # noqa: E402
from choreogen.tasks.skeleton.checkpoint import load_vae  # noqa: E402
from choreogen.tasks.skeleton.repair import ASSETS, SHIPPED  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
CONDITIONS = ([("random", r, 0) for r in (0.05, 0.10, 0.15, 0.20)]
              + [(k, 0.10, n) for k in ("limb", "frames") for n in (15, 30, 60)])


def methods_for(models: dict[str, Path], parents=None) -> dict:
    out = {}
    for name, path in models.items():
        if path.exists():
            m, _ = load_vae(path)
            out[name] = evaluate.vae_method(m)
    out["linear_interp"] = baselines.interpolate_linear
    out["cubic_interp"] = baselines.interpolate_cubic
    out["savgol"] = baselines.savgol_smooth
    if parents is not None:
        out["body_spline"] = lambda x, o: baselines.interpolate_body(x, o, parents)
    return out


def ratio_table(res: dict, ref: str = "cubic_interp") -> str:
    """mpjpe of every method / the Akima spline's, per condition."""
    conds = [k for k in res if k != "ground_truth"]
    meths = list(res[conds[0]])
    lines = ["| method (mpjpe / Akima) | " + " | ".join(conds) + " |", "|---|" + "---|" * len(conds)]
    for m in meths:
        lines.append(f"| {m} | " + " | ".join(f"{res[c][m]['mpjpe'] / res[c][ref]['mpjpe']:.2f}" for c in conds) + " |")
    return "\n".join(lines)


def _named(specs: list[str]) -> dict[str, Path]:
    return {s.split("=", 1)[0]: Path(s.split("=", 1)[1]) for s in specs}


def fmt_table(res: dict, unit: str) -> str:
    conds = [k for k in res if k != "ground_truth"]
    meths = list(res[conds[0]])
    lines = ["| method | metric | " + " | ".join(conds) + " |", "|---|---|" + "---|" * len(conds)]
    for m in meths:
        for metric in ("mse", "l1", "mpjpe", "fid", "div"):
            if metric not in res[conds[0]][m]:
                continue
            vals = " | ".join(f"{res[c][m][metric]:.4g}" for c in conds)
            lines.append(f"| {m} | {metric} | {vals} |")
    if "ground_truth" in res:
        lines.append(f"\nground-truth diversity: {res['ground_truth']['div']:.4g}; units: {unit}")
    return "\n".join(lines)


def gt_noise(seqs) -> dict:
    """High-frequency level of a ground truth, in body heights: sigma = RMS over coordinates of
    (x[t-1] - 2 x[t] + x[t+1]) / sqrt(6) where all three frames are valid. For white detector
    noise of std s this is s (plus the motion's own acceleration, so an upper bound); the error
    floor of any method on noisy ground truth is then about sigma * sqrt(pi / 2) per joint (2D)."""
    from choreogen.tasks.skeleton.damage import body_scale

    sq, n = 0.0, 0
    for j, v in seqs:
        x = j / body_scale(j, v)
        ok = v[:-2] & v[1:-1] & v[2:]
        d2 = (x[:-2] - 2 * x[1:-1] + x[2:])[ok]
        sq += float((d2 ** 2).sum())
        n += d2.size
    sigma = float(np.sqrt(sq / max(n, 1) / 6.0))
    return {"sigma": sigma, "floor_euclid": sigma * float(np.sqrt(np.pi / 2))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "repair_table3")
    ap.add_argument("--ablations", type=Path, default=None, help="folder with runs/repair_smpl24_* ablation models")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-3d", action="store_true", help="only the 2D parts (quick re-runs)")
    ap.add_argument("--skip-2d", action="store_true", help="only the 3D part")
    ap.add_argument("--skip-clean", action="store_true", help="skip the projected clean 2D table")
    ap.add_argument("--model3", action="append", default=[], help="extra 3D model NAME=PATH (repeatable)")
    ap.add_argument("--model2", action="append", default=[], help="extra 2D model NAME=PATH (repeatable)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    report: dict = {"date": time.strftime("%Y-%m-%d"), "seed": a.seed}
    md = []

    # ---- 3D: Tang2018 val
    seqs3 = data.tang_sequences(SHARED / "tang2018", "val")
    models3 = {"vae (shipped)": ASSETS / SHIPPED["smpl24"], **_named(a.model3)}
    par3 = get_skeleton("smpl24").parents
    if a.ablations:
        for v in ("mse", "l1_nomask", "mse_nomask"):
            models3[f"vae_{v if 'mask' in v else v + '_mask'}"] = a.ablations / f"repair_smpl24_{v}" / "model.safetensors"
    t = time.time()
    if not a.skip_3d:
        s3 = [(s.joints.astype(np.float64), s.valid) for s in seqs3]
        meth3 = methods_for(models3, par3)
        r3 = evaluate.evaluate(s3, meth3, CONDITIONS, seed=a.seed)
        report["smpl24_tang_val"] = r3
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.with_suffix(".partial.json").write_text(json.dumps(report, indent=1))
        pl = evaluate.plausibility_3d(s3, meth3, par3, ("limb", 0.10, 30), seed=a.seed)
        report["smpl24_plausibility_limb30"] = pl
        md += ["## 3D SMPL-24, Tang2018 val (9 dances), errors in metres (mse in m^2)", "", fmt_table(r3, "m, m^2"), "",
               ratio_table(r3), "", "Plausibility, 1 s whole-limb runs (bones to filled joints within 1 % of the "
               "sequence's own length; filled joints more than 1 cm below the lowest true joint):", "",
               "| method | bones within 1 % | mean bone deviation | below floor |", "|---|---|---|---|"]
        md += [f"| {m} | {v['bones_ok']:.3f} | {v['bone_dev']:.4f} | {v['below_floor']:.4f} |" for m, v in pl.items()]
        md += [""]
        print(f"3D done in {time.time() - t:.0f} s", flush=True)

    # ---- 2D: AIST++ ch07/ch08 all views at 30 fps
    if a.skip_2d:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.with_suffix(".json").write_text(json.dumps(report, indent=1))
        a.out.with_suffix(".md").write_text("\n".join(md) + "\n")
        print("\n".join(md))
        return
    seqs2 = data.aist_sequences(SHARED / "aistpp" / "keypoints2d", heldout=True)
    s2 = [(s.joints[::2].astype(np.float64), s.valid[::2]) for s in seqs2]
    models2 = {"vae (shipped)": ASSETS / SHIPPED["coco17"], **_named(a.model2)}
    par2 = get_skeleton("coco17").parents
    t = time.time()
    r2 = evaluate.evaluate(s2, methods_for(models2, par2), CONDITIONS, seed=a.seed)
    report["coco17_aist_heldout"] = r2
    noise = gt_noise(s2)
    report["coco17_aist_heldout_gt_noise"] = noise
    md += ["## 2D COCO-17, AIST++ ch07+ch08 x 9 views at 30 fps, errors in body heights", "",
           fmt_table(r2, "body heights (squared for mse)"), "", ratio_table(r2), "",
           f"ground-truth jitter (AIST++ detector): {noise['sigma']:.4g} body heights per coordinate "
           f"(upper bound from second differences); a perfect predictor of the true motion would "
           f"still be {noise['floor_euclid']:.4g} from this ground truth on average", ""]
    print(f"2D done in {time.time() - t:.0f} s", flush=True)

    # ---- 2D clean: Tang2018 val through fixed cameras
    if not a.skip_clean:
        t = time.time()
        tseq, trot = data.tang_sequences(SHARED / "tang2018", "val", with_rotations=True)
        s2c = [(s.joints.astype(np.float64), s.valid) for s in data.project_coco17(tseq, trot, n_cameras=3, seed=77)]
        r2c = evaluate.evaluate(s2c, methods_for(models2, par2), CONDITIONS, seed=a.seed)
        noise_c = gt_noise(s2c)
        report["coco17_tang_val_projected"] = r2c
        report["coco17_tang_val_projected_gt_noise"] = noise_c
        md += ["## 2D COCO-17, Tang2018 val x 3 fixed cameras (clean projected mocap, 30 fps), body heights", "",
               fmt_table(r2c, "body heights (squared for mse)"), "",
               f"second-difference level of this clean ground truth (motion only): {noise_c['sigma']:.4g}", ""]
        print(f"2D clean done in {time.time() - t:.0f} s", flush=True)

    # ---- real-detector test
    from choreogen.io.formats import load_pickle_motion

    real = []
    for p in sorted((SHARED / "aistpp" / "keypoints2d").glob("*.pkl")):
        if any(h in p.stem for h in data.AIST_HELDOUT):
            for v in range(9):
                m = load_pickle_motion(p, view=v)
                real.append((m.joints[::2].astype(np.float64), m.confidence[::2]))
    rd = evaluate.real_detector_test(real, methods_for(models2), get_skeleton("coco17"), seed=a.seed)
    report["real_detector"] = rd
    groups = list(next(iter(rd.values())))
    md += ["## Real detector: AIST++ ch07+ch08, hide 10 % of joints seen with confidence >= 0.7",
           "(error on those, body heights; joints below 0.3 are missing anyway)", "",
           "| method | " + " | ".join(groups) + " |", "|---|" + "---|" * len(groups)]
    md += [f"| {m} | " + " | ".join(f"{v[g]:.4f}" for g in groups) + " |" for m, v in rd.items()]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.with_suffix(".json").write_text(json.dumps(report, indent=1))
    a.out.with_suffix(".md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
