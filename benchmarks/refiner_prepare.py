"""Self-supervised training pairs for the learned refiner (issue 15), from real clips.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/refiner_prepare.py [--out data_prepared/refiner]
        [--sources 8] [--drivers 40] [--size 256]

Per training clip (``TRAIN`` below; the held-out clips musepose/dance.mp4 and
mimicmotion_tiktok/raw_4.mp4 are never read): frames squared to SIZE, MediaPipe Pose in tracking mode
on every frame (keypoints + person segmentation, cached in OUT/detections_<clip>.npz). The first 85 %
of the frames give training pairs, the rest validation pairs. A pair: a source frame analysed like a
photo (:func:`analyse_image`, i.e. static-mode MediaPipe), the driving frame's detected keypoints
retargeted to it (:func:`retarget.fit` over [source, driver], as the evaluation does for a whole clip;
the detections as they are when neither frame shows the hips, which the retargeting needs),
the source's geometric warp into that pose, and the real driving frame as the target.
Stored at the refiner's 128 x 128 (area-downsampled) in OUT/{train,val}.npz (ignored by git):
``warp`` (N, R, R, 3) uint8, ``alpha`` (N, R, R) uint8 (warp coverage x 255), ``target`` (N, R, R, 3)
uint8, ``target_mask`` (N, R, R) uint8 (MediaPipe person mask x 255), ``ref_index`` (N,) into ``ref``
(M, R, R, 3) uint8 / ``ref_mask`` (M, R, R) uint8, ``keypoints`` (N, 17, 2) float32 pixels of the
SIZE frame, ``confidence`` (N, 17) float32, ``frame`` () = SIZE, ``clips`` (names).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from posevideo_eval import detect, read_clip  # noqa: E402

from choreogen.errors import InputError  # noqa: E402
from choreogen.motion import Motion  # noqa: E402
from choreogen.video.animator import GeometricAnimator  # noqa: E402
from choreogen.video.reference import analyse_image  # noqa: E402
from choreogen.video.refined_animator import downsample  # noqa: E402
from choreogen.video.retarget import fit  # noqa: E402

VIDEO = ROOT.parent / "shared/data/video"
TRAIN = ["unianimate/source_video.mp4", "musev/bilibili_queencard_s2_8s.mp4",
         "musepose/ubc_fashion/test/91-3003CN5S.mp4", "musepose/ubc_fashion/test/91BjuE6irxS.mp4",
         "musepose/ubc_fashion/test/91bxAN6BjAS.mp4", "mimicmotion_tiktok/raw_0.mp4",
         "mimicmotion_tiktok/raw_1.mp4", "mimicmotion_tiktok/raw_2.mp4", "mimicmotion_tiktok/raw_3.mp4"]
HELD_OUT = ["musepose/dance.mp4", "mimicmotion_tiktok/raw_4.mp4"]
R = 128


def u8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(a) * 255 + 0.5, 0, 255).astype(np.uint8)


def clip_pairs(path: Path, out: Path, size: int, n_src: int, n_drv: int, rng) -> dict:
    frames, fps = read_clip(path, size, 60.0)
    cache = out / f"detections_{path.stem}.npz"
    if cache.exists():
        d = np.load(cache)
        k, c, m = d["k"], d["c"], d["m"]
    else:
        k, c, m = detect(frames)
        np.savez_compressed(cache, k=k, c=c, m=m.astype(np.float16))
    m = m.astype(np.float32)
    T = len(frames)
    cut = int(0.85 * T)
    split = {"train": (np.arange(0, cut), n_src, n_drv), "val": (np.arange(cut, T), max(1, n_src // 4), n_drv // 2)}
    res = {}
    for name, (idx, ns, nd) in split.items():
        found = idx[c[idx].max(1) > 0]
        rows = {"warp": [], "alpha": [], "target": [], "target_mask": [], "ref_local": [], "keypoints": [],
                "confidence": [], "refs": [], "ref_masks": []}
        for s in np.linspace(found[0], found[-1], ns).astype(int):
            try:
                ref = analyse_image(frames[s], path)
            except InputError:
                continue
            geo = GeometricAnimator()
            geo.prepare(ref)
            rows["refs"].append(u8(downsample(ref.image / 255.0, R)))
            rows["ref_masks"].append(u8(downsample(ref.mask, R)))
            for d in rng.choice(found, size=min(nd, len(found)), replace=False):
                mo = Motion(skeleton="coco17", fps=fps, joints=k[[s, d]], confidence=c[[s, d]])
                try:
                    drv = fit(mo, ref.keypoints, ref.confidence)
                    kp, cf = drv.keypoints[1].astype(np.float32), drv.confidence[1].astype(np.float32)
                except InputError:  # no hips in either frame (upper body): the detections as they are
                    kp, cf = k[d].astype(np.float32), c[d].astype(np.float32)
                warp, alpha = geo.warp(kp, cf)
                rows["warp"].append(u8(downsample(warp, R)))
                rows["alpha"].append(u8(downsample(alpha, R)))
                rows["target"].append(u8(downsample(frames[d] / 255.0, R)))
                rows["target_mask"].append(u8(downsample(m[d], R)))
                rows["ref_local"].append(len(rows["refs"]) - 1)
                rows["keypoints"].append(kp)
                rows["confidence"].append(cf)
        res[name] = rows
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data_prepared/refiner")
    ap.add_argument("--sources", type=int, default=8)
    ap.add_argument("--drivers", type=int, default=40)
    ap.add_argument("--size", type=int, default=256)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    acc = {s: {} for s in ("train", "val")}
    for rel in TRAIN:
        t = time.perf_counter()
        res = clip_pairs(VIDEO / rel, a.out, a.size, a.sources, a.drivers, rng)
        for split, rows in res.items():
            A = acc[split]
            off = len(A.get("ref", []))
            for key in ("warp", "alpha", "target", "target_mask", "keypoints", "confidence"):
                A.setdefault(key, []).extend(rows[key])
            A.setdefault("ref_index", []).extend([off + i for i in rows["ref_local"]])
            A.setdefault("ref", []).extend(rows["refs"])
            A.setdefault("ref_mask", []).extend(rows["ref_masks"])
            A.setdefault("clip_index", []).extend([TRAIN.index(rel)] * len(rows["warp"]))
        print(f"{rel}: {len(res['train']['warp'])} train / {len(res['val']['warp'])} val pairs "
              f"({time.perf_counter() - t:.0f} s)", flush=True)
    for split, A in acc.items():
        arrays = {k: np.stack(v) if k not in ("ref_index", "clip_index") else np.asarray(v, np.int32)
                  for k, v in A.items()}
        tmp = a.out / f"{split}.tmp.npz"
        np.savez_compressed(tmp, frame=np.int32(a.size), clips=np.array(TRAIN), **arrays)
        tmp.rename(a.out / f"{split}.npz")
        print(f"{split}: {len(arrays['warp'])} pairs, {len(arrays['ref'])} sources -> {a.out / (split + '.npz')}")


if __name__ == "__main__":
    main()
