"""Build the paired (music, video) set of the latent-flow route (issue 16) into an ignored folder.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/flowvideo_prepare.py [--data ../shared/data] \
        [--out data_prepared/flowvideo] [--passes 1] [--max-s 80] [--generated 0.8,1,1.25 [--gen-max-s 40]]

Writes ``train.npz`` / ``val.npz`` (synthetic Tang2018 clips: train sequences x training appearances,
val sequences (the fixed tang2018 split) x all appearances) and ``real_train.npz`` / ``real_val.npz``
(real clips; ``musepose/dance.mp4`` is the held-out one, with its song). Appearances held out of
training: the champ (Pexels) photo and the held-out clip's first frame. See
:mod:`choreogen.tasks.flowvideo.data` for the layout. Nothing here is committed (data terms).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.data.splitting import fixed_split  # noqa: E402
from choreogen.errors import ChoreogenError  # noqa: E402
from choreogen.tasks.flowvideo import data as D  # noqa: E402

PHOTOS = ["unianimate/WOMEN-Blouses_Shirts-id_00004955-01_4_full.jpg",
          "unianimate/WOMEN-Blouses_Shirts-id_00005125-03_4_full.jpg",
          "moore_animateanyone/anyone-1.png", "moore_animateanyone/anyone-3.png", "moore_animateanyone/anyone-5.png",
          "moore_animateanyone/anyone-11.png", "magicanimate/demo4.png", "musepose/ref.png",
          "mimicmotion_tiktok/demo1.jpg"]
FIRST_FRAMES = ["musev/bilibili_queencard_s2_8s.mp4", "unianimate/source_video.mp4"] + \
    [f"mimicmotion_tiktok/raw_{i}.mp4" for i in range(5)] + \
    [f"musepose/ubc_fashion/test/{n}.mp4" for n in ("91-3003CN5S", "91BjuE6irxS", "91bxAN6BjAS")]
HELD_PHOTOS = ["champ/pexels-anete-lusina-4793258.jpg"]
HELD_CLIP = "musepose/dance.mp4"
REAL_TRAIN = FIRST_FRAMES  # real clips used for the auto-encoder (no held-out clip among them)


def first_frame(path: Path) -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(str(path))
    ok, f = cap.read()
    cap.release()
    if not ok:
        raise ChoreogenError("cannot read the first frame", path)
    return cv2.cvtColor(f, cv2.COLOR_BGR2RGB)


def appearance(vroot: Path, rel: str):
    """(name, 64x64 photo, Reference at 128) or None when the analysis refuses it."""
    import cv2

    from choreogen.video.reference import analyse_image, square

    p = vroot / rel
    img = first_frame(p) if p.suffix == ".mp4" else cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
    try:
        ref = analyse_image(square(img, 256), p)
    except ChoreogenError as e:
        print(f"  skip {rel}: {e}")
        return None
    r128 = D.scaled_reference(ref, D.RENDER)
    return rel, D.to_small(ref.image), r128


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default="data_prepared/flowvideo")
    ap.add_argument("--passes", type=int, default=1, help="renders of every train sequence (new appearances)")
    ap.add_argument("--max-s", type=float, default=None, help="seconds per sequence (default: all)")
    ap.add_argument("--generated", default="", help="rates, e.g. 0.8,1,1.25: also the 3D generator's dances to every "
                    "train song played at each rate (SDGPip's second driver), into train_gen.npz")
    ap.add_argument("--gen-max-s", type=float, default=None, help="seconds of each song for --generated (default: all)")
    ap.add_argument("--generator", default=None, help="the 3D generator for --generated (default: the bundled one)")
    a = ap.parse_args()
    data, out = Path(a.data), Path(a.out)
    vroot, troot = data / "video", data / "tang2018"
    t0 = time.time()
    apps = [x for x in (appearance(vroot, r) for r in PHOTOS + FIRST_FRAMES + HELD_PHOTOS + [HELD_CLIP]) if x]
    names = [x[0] for x in apps]
    photos = np.stack([x[1] for x in apps])
    held = set(HELD_PHOTOS + [HELD_CLIP])
    train_refs = [(i, x[2]) for i, x in enumerate(apps) if x[0] not in held]
    all_refs = [(i, x[2]) for i, x in enumerate(apps)]
    print(f"{len(apps)} appearances ({len(train_refs)} for training) in {time.time() - t0:.0f} s", flush=True)
    split = fixed_split("tang2018")
    rng = np.random.default_rng(16)
    for part, refs, passes in (("val", all_refs, 1), ("train", train_refs, a.passes)):
        items = []
        for _ in range(passes):
            for name in split[part]:
                npz = troot / f"{name}.npz"
                if npz.is_file():
                    items += D.synth_sequence(npz, refs, rng, max_s=a.max_s)
            print(f"  {part}: {len(items)} clips, {sum(len(it[2]) for it in items)} frames, "
                  f"{time.time() - t0:.0f} s", flush=True)
        D.save_split(out / f"{part}.npz", items, photos, names)
    if a.generated:
        from choreogen.tasks.dance3d.pipeline import Dance3DPipeline

        pipe = Dance3DPipeline.from_pretrained(a.generator)
        items = []
        for k, name in enumerate(split["train"]):
            song = troot / f"{name}.mp3"
            for rate in (float(r) for r in a.generated.split(",")):
                items += D.generated_sequence(song, rate, train_refs, rng, lambda wav: pipe(wav, seed=k).motion,
                                              max_s=a.gen_max_s)
            print(f"  train_gen: {len(items)} clips, {sum(len(it[2]) for it in items)} frames, "
                  f"{time.time() - t0:.0f} s", flush=True)
        D.save_split(out / "train_gen.npz", items, photos, names)
    for part, rels in (("real_train", REAL_TRAIN), ("real_val", [HELD_CLIP])):
        items = []
        for rel in rels:
            frames = D.read_clip(vroot / rel)
            music = None
            if rel in (HELD_CLIP, "musev/bilibili_queencard_s2_8s.mp4"):
                from choreogen.audio.features import music_features

                music = music_features(vroot / rel, D.MUSIC_KIND, fps=D.FPS, n_frames=len(frames))
            items.append((rel, names.index(rel) if rel in names else -1, frames, music))
        D.save_split(out / f"{part}.npz", items, photos, names)
        print(f"  {part}: {len(items)} clips, {sum(len(it[2]) for it in items)} frames", flush=True)
    (out / "manifest.json").write_text(json.dumps({"appearances": names, "held_out": sorted(held),
                                                   "seconds": round(time.time() - t0, 1)}, indent=1))
    print(f"done in {time.time() - t0:.0f} s -> {out}")


if __name__ == "__main__":
    main()
