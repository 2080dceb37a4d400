"""Measurements of the geometric photo animator (issue 15), results in docs/VIDEO.md.

    python benchmarks/posevideo_eval.py [--clip ../shared/data/video/musepose/dance.mp4] [--seconds 12]
        [--size 256] [--frames-out out/posevideo] [--speed] [--refiner refiner|CKPT]

Reconstruction on one real held-out clip: its first frame (squared to SIZE x SIZE like a photo) is
the reference; the clip's own MediaPipe poses (tracking mode, on the squared frames) drive it
through the normal retargeting. Reported against the frozen-first-frame baseline:
PSNR / SSIM (scikit-image, whole frame and inside the real frame's person mask, from MediaPipe's
pose segmentation), and pose consistency: keypoints re-detected in the generated frames vs the
driving keypoints, PCK at 0.1 of the driving torso length over the 13 body joints (face points
except the nose left out) that the driver sees with confidence >= 0.5, and the detection rate.
``--speed`` also times ``choreogen video`` (a subprocess, model loads included) for 4 s from the
public-domain scikit-image astronaut photo at 256 and 512. ``--frames-out`` saves a strip of frames.
``--refiner``: also the :class:`RefinedAnimator` (the geometric warp + the learned refiner; a bundled
name or a checkpoint) on the same driver: its row, its flicker and its time per frame. A clip whose
frames never show the hips (retargeting needs them) is driven by its detections as they are.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.motion import Motion  # noqa: E402
from choreogen.video.animator import GeometricAnimator  # noqa: E402
from choreogen.video.body2d import FROM_MEDIAPIPE33, torso_length  # noqa: E402
from choreogen.errors import InputError  # noqa: E402
from choreogen.video.reference import analyse_image, square  # noqa: E402
from choreogen.video.retarget import Driving  # noqa: E402
from choreogen.video.retarget import fit  # noqa: E402

BODY = [0] + list(range(5, 17))


def read_clip(path: Path, size: int, seconds: float):
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while len(frames) < int(round(seconds * fps)):
        ok, f = cap.read()
        if not ok:
            break
        frames.append(square(cv2.cvtColor(f, cv2.COLOR_BGR2RGB), size))
    cap.release()
    return frames, float(fps)


def detect(frames):
    """MediaPipe Pose (tracking) on RGB frames -> COCO-17 (T, 17, 2) px, conf (T, 17), masks (T, S, S)."""
    from mediapipe.python.solutions import pose as mp_pose

    S = frames[0].shape[0]
    K, C, M = [], [], []
    with mp_pose.Pose(static_image_mode=False, model_complexity=1, enable_segmentation=True) as pose:
        for f in frames:
            r = pose.process(f)
            if r.pose_landmarks is None:
                K.append(np.zeros((17, 2), np.float32))
                C.append(np.zeros(17, np.float32))
                M.append(np.zeros((S, S), np.float32))
                continue
            lm = r.pose_landmarks.landmark
            K.append(np.array([[q.x * S, q.y * S] for q in lm], np.float32)[FROM_MEDIAPIPE33])
            C.append(np.clip(np.array([q.visibility for q in lm], np.float32), 0, 1)[FROM_MEDIAPIPE33])
            M.append(r.segmentation_mask.astype(np.float32) if r.segmentation_mask is not None else np.zeros((S, S)))
    return np.stack(K), np.stack(C), np.stack(M)


def image_scores(gen, real, masks):
    from skimage.metrics import peak_signal_noise_ratio as psnr
    from skimage.metrics import structural_similarity as ssim

    p, s, pm, sm = [], [], [], []
    for g, r, m in zip(gen, real, masks):
        p.append(psnr(r, g, data_range=255))
        s_full = ssim(r, g, channel_axis=2, data_range=255, full=True)[1].mean(2)
        s.append(s_full.mean())
        inside = m > 0.5
        if inside.sum() > 50:
            err = ((r.astype(np.float64) - g) ** 2)[inside].mean()
            pm.append(10 * np.log10(255 ** 2 / max(err, 1e-10)))
            sm.append(s_full[inside].mean())
    return {"psnr": float(np.mean(p)), "ssim": float(np.mean(s)), "psnr_person": float(np.mean(pm)),
            "ssim_person": float(np.mean(sm)), "frames": len(p)}


def warp_error(frames) -> float:
    """Flicker: mean |I_t - I_{t+1} warped back by the Farneback flow t -> t+1| (grey levels 0-255),
    over pixels whose forward-backward flow agrees within 1 px (not occluded)."""
    import cv2

    errs = []
    S = frames[0].shape[0]
    gx, gy = np.meshgrid(np.arange(S, dtype=np.float32), np.arange(S, dtype=np.float32))
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    for a, b in zip(grey[:-1], grey[1:]):
        fw = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        bw = cv2.calcOpticalFlowFarneback(b, a, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        mx, my = gx + fw[..., 0], gy + fw[..., 1]
        back = cv2.remap(bw, mx, my, cv2.INTER_LINEAR)
        ok = np.linalg.norm(fw + back, axis=-1) < 1.0
        wb = cv2.remap(b, mx, my, cv2.INTER_LINEAR).astype(np.float32)
        if ok.any():
            errs.append(float(np.abs(a.astype(np.float32) - wb)[ok].mean()))
    return float(np.mean(errs))


def pck(det_k, det_c, drv_k, drv_c, thr=0.1):
    found = det_c.max(1) > 0
    hits, total = 0, 0
    for t in range(len(drv_k)):
        use = [j for j in BODY if drv_c[t, j] >= 0.5]
        if not use:
            continue
        tl = float(torso_length(drv_k[t]))
        total += len(use)
        if found[t]:
            d = np.linalg.norm(det_k[t, use] - drv_k[t, use], axis=1)
            hits += int((d <= thr * tl).sum())
    return {"pck": hits / max(total, 1), "detection_rate": float(found.mean())}


def speed(size: int, seconds: float = 4.0, animator: str = "geometric") -> float:
    import skimage

    photo = Path(skimage.__file__).parent / "data" / "astronaut.png"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as td:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "choreogen.cli", "video", str(ROOT / "choreogen/assets/music/example.ogg"),
                        "--image", str(photo), "--out", f"{td}/a.mp4", "--seconds", str(seconds), "--size", str(size),
                        "--animator", animator],
                       check=True, env=env, capture_output=True)
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clip", type=Path, default=ROOT.parent / "shared/data/video/musepose/dance.mp4")
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--frames-out", type=Path, default=None)
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--refiner", default=None, help="bundled name or checkpoint of the learned refiner")
    a = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    real, fps = read_clip(a.clip, a.size, a.seconds)
    print(f"clip {a.clip.name}: {len(real)} frames at {fps:g} fps, {a.size}x{a.size}")
    ref = analyse_image(real[0], a.clip)
    k, c, masks = detect(real)
    try:
        drv = fit(Motion(skeleton="coco17", fps=fps, joints=k, confidence=c), ref.keypoints, ref.confidence)
    except InputError as e:
        print(f"retargeting impossible ({e}): driving with the detections as they are")
        drv = Driving(k, c, fps, 1.0, {"fit": "none"})
    anims = {"geometric warp": GeometricAnimator()}
    if a.refiner:
        from choreogen.video.refined_animator import RefinedAnimator

        anims["refined (warp + learned refiner)"] = RefinedAnimator(a.refiner)
    gens, rows = {}, {}
    for name, anim in anims.items():
        t = time.perf_counter()
        anim.prepare(ref)
        gens[name] = list(anim.animate(drv))
        t_anim = time.perf_counter() - t
        print(f"{name}: {t_anim:.2f} s for {len(gens[name])} frames (prepare + render), "
              f"{1000 * t_anim / len(gens[name]):.0f} ms/frame at {a.size}")
    gens["frozen first frame"] = [real[0]] * len(real)
    # frame 0 is the reference itself: image scores over frames 1..T-1
    for name, gen in gens.items():
        rows[name] = image_scores(gen[1:], real[1:], masks[1:])
        gk, gc, _ = detect(gen)
        rows[name].update(pck(gk, gc, drv.keypoints, drv.confidence))
    print("flicker (warping error, grey levels): real clip " + f"{warp_error(real):.2f}, "
          + ", ".join(f"{n} {warp_error(g):.2f}" for n, g in gens.items() if n != "frozen first frame"))
    gen = gens["geometric warp"]
    print("| method | PSNR | SSIM | PSNR person | SSIM person | PCK@0.1 torso | detection rate |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['psnr']:.2f} | {r['ssim']:.3f} | {r['psnr_person']:.2f} | {r['ssim_person']:.3f} | "
              f"{r['pck']:.3f} | {r['detection_rate']:.3f} |")
    if a.frames_out:
        import cv2

        a.frames_out.mkdir(parents=True, exist_ok=True)
        idx = np.linspace(0, len(gen) - 1, 5).astype(int)
        strip = np.vstack([np.hstack([real[i] for i in idx])] + [np.hstack([g[i] for i in idx])
                                                                   for n, g in gens.items() if n != "frozen first frame"])
        cv2.imwrite(str(a.frames_out / "reconstruction.png"), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))
        for n, an in anims.items():
            if hasattr(an, "refine"):  # the refiner's blend masks (white = the refiner paints)
                ms = [an.refine(drv.keypoints[i], drv.confidence[i])[1] for i in idx]
                cv2.imwrite(str(a.frames_out / "blend_mask.png"), (np.hstack(ms) * 255).astype(np.uint8))
        bg = anims["geometric warp"].background
        cv2.imwrite(str(a.frames_out / "background.png"), cv2.cvtColor(bg, cv2.COLOR_RGB2BGR))
    if a.speed:
        for s in (256, 512):
            for an in ["geometric"] + (["refined" + ("" if a.refiner == "refiner" else f":{a.refiner}")]
                                       if a.refiner else []):
                print(f"speed: choreogen video --animator {an}, 4 s at {s}x{s} from the astronaut photo: "
                      f"{speed(s, animator=an):.1f} s wall")


if __name__ == "__main__":
    main()
