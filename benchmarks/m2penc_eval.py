"""M2PEnc against the teacher route on held-out music (issue 15): maps, keypoints, motion, rhythm, speed.

    PYTHONPATH=. OMP_NUM_THREADS=2 python benchmarks/m2penc_eval.py [--model runs/m2penc/model.safetensors] \
        [--data data_prepared/m2penc] [--out docs/results/m2penc_eval.json] [--tempo-songs 9]

Held-out music: the 9 val songs of the fixed tang2018 split (``val.npz`` of
benchmarks/m2penc_prepare.py: the teacher's dance and the real capture for each, canonical 2D, 15 fps).
Rows: M2PEnc; the teacher route (3D generator -> projection, what M2PEnc was trained to imitate);
the real capture; a constant mean pose (the train set's mean keypoints: what a regressor that
ignores the music would give). Measures, all in the canonical 256-px frame at 15 fps:
* the paper's two losses against the teacher's maps (guidance L1, heatmap MSE) and the capture's;
* keypoint error vs the teacher (px) and PCK@0.1 torso;
* motion: mean keypoint speed (px/s) and its ratio to the captures';
* rhythm: 2D beat alignment (BAS over keypoint-speed minima, :func:`choreogen.eval.video.bas_2d`)
  with the song's beats and with another val song's beats (own minus other), and the rhythm
  spectrum match (:func:`choreogen.eval.rhythm.spectral_match`) own vs other;
* tempo following: each song time-stretched to 0.8x and 1.25x (pitch kept): spectral time-scale
  of the movement (1.56 = follows exactly, 1.0 = ignores the tempo) and dominant-period ratio;
* speed: seconds for 30 s of pose (in-process, model loaded) for M2PEnc and the teacher.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.audio.features import music_features  # noqa: E402
from choreogen.audio.source import MusicSource  # noqa: E402
from choreogen.data.datasets import iter_dataset  # noqa: E402
from choreogen.eval.rhythm import dominant_period, spectral_match, spectral_scale, stretch_audio  # noqa: E402
from choreogen.eval.video import bas_2d, music_beat_times  # noqa: E402
from choreogen.tasks.posevideo import m2penc as M  # noqa: E402
from choreogen.tasks.posevideo import sdgpip  # noqa: E402
from choreogen.video.body2d import torso_length  # noqa: E402
from choreogen.video.guidance import render_torch  # noqa: E402

FPS = sdgpip.FPS


def as3d(k: np.ndarray) -> np.ndarray:
    return np.concatenate([k, np.zeros(k.shape[:-1] + (1,), k.dtype)], -1).astype(np.float64)


def speed(k: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(k, axis=0), axis=-1).mean() * FPS)


def map_losses(enc: M.M2PEncModel, music: np.ndarray, gi: int, target: np.ndarray, win: int) -> dict:
    """Paper losses of M2PEnc's maps vs maps rendered from ``target`` keypoints, non-overlapping windows."""
    lg, lh, n = 0.0, 0.0, 0
    for s in range(0, len(music) - win + 1, win):
        g, h = enc.maps(music[s:s + win], gi)
        t = torch.as_tensor(target[s:s + win])
        ht, gt = render_torch(t, torch.ones(t.shape[:-1]), sdgpip.CANON, enc.model.cfg.res)
        lg += float((g - gt).abs().mean())
        lh += float((h - ht).pow(2).mean())
        n += 1
    return {"guid_l1": lg / max(n, 1), "heat_mse": lh / max(n, 1)}


def const_losses(mean_k: np.ndarray, target: np.ndarray, res: int) -> dict:
    t = torch.as_tensor(target)
    c = torch.ones(t.shape[:-1])
    ht, gt = render_torch(t, c, sdgpip.CANON, res)
    m = torch.as_tensor(np.repeat(mean_k[None], len(target), 0))
    hm, gm = render_torch(m, c, sdgpip.CANON, res)
    return {"guid_l1": float((gm - gt).abs().mean()), "heat_mse": float((hm - ht).pow(2).mean())}


def pck(pred: np.ndarray, ref: np.ndarray, thr: float = 0.1) -> float:
    d = np.linalg.norm(pred - ref, axis=-1)
    tl = np.array([torso_length(r) for r in ref])[:, None]
    return float((d <= thr * tl).mean())


def onset(song_or_y, n: int) -> np.ndarray:
    return music_features(song_or_y, "fast35", fps=FPS, n_frames=n)[:, 0]  # onset strength column


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="runs/m2penc/model.safetensors")
    ap.add_argument("--data", default="data_prepared/m2penc")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default="docs/results/m2penc_eval.json")
    ap.add_argument("--tempo-songs", type=int, default=9)
    ap.add_argument("--decode", default=None, help="peak or integral (default: the checkpoint's)")
    ap.add_argument("--no-speed", action="store_true", help="skip the 30-s timing")
    a = ap.parse_args()
    enc = M.load(a.model)
    dancer = M.M2PEncDancer(enc, decode=a.decode)
    win = int(enc.info.get("window", 48))
    va, tr = sdgpip.load(Path(a.data) / "val.npz"), sdgpip.load(Path(a.data) / "train.npz")
    mean_k = tr.keypoints.mean(0)
    caps = {n: m for n, m, _ in iter_dataset(Path(a.shared) / "tang2018", "tang2018") if m is not None}
    songs = sorted({str(n).split("@")[0] for n in va.names})
    per_song = {}
    beats = {s: music_beat_times(caps[s].music) for s in songs}
    seqs = {}
    for i, n in enumerate(va.names):
        base, src = str(n).split("@")[0], str(va.sources[i])
        seqs[(base, src)] = va.sequence(i)
    t0 = time.time()
    for si, s in enumerate(songs):
        kt, mus = seqs[(s, "teacher")]
        kc, _ = seqs[(s, "capture")]
        genre = str(caps[s].genre)
        gi = enc.genre_index(genre)
        km, _ = dancer.keypoints(mus, gi)
        T = min(len(km), len(kt), len(kc))
        km, kt, kc = km[:T], kt[:T], kc[:T]
        other = songs[(si + 1) % len(songs)]
        ko = onset(caps[s].music, T)
        ko_other = onset(caps[other].music, T)
        r = {"genre": genre, "seconds": round(T / FPS, 1)}
        r["maps_vs_teacher"] = map_losses(enc, mus[:T], gi, kt, win)
        r["maps_vs_capture"] = map_losses(enc, mus[:T], gi, kc, win)
        r["mean_pose_vs_teacher"] = const_losses(mean_k, kt, enc.model.cfg.res)
        r["kp_px_vs_teacher"] = float(np.linalg.norm(km - kt, axis=-1).mean())
        r["pck_vs_teacher"] = pck(km, kt)
        r["mean_pose_kp_px_vs_teacher"] = float(np.linalg.norm(mean_k[None] - kt, axis=-1).mean())
        for name, k in (("m2penc", km), ("teacher", kt), ("capture", kc)):
            own = bas_2d(k, beats[s], FPS)["bas"]
            oth = bas_2d(k, beats[other][beats[other] < T / FPS], FPS)["bas"]
            r[name] = {"speed_px_s": speed(k), "bas_own": float(own), "bas_other": float(oth),
                       "spectral_own": spectral_match(as3d(k), ko, FPS),
                       "spectral_other": spectral_match(as3d(k), ko_other, FPS)}
        per_song[s] = r
        print(s, json.dumps({k: r[k] for k in ("kp_px_vs_teacher", "pck_vs_teacher")}),
              {n: round(r[n]["speed_px_s"], 1) for n in ("m2penc", "teacher", "capture")}, f"{time.time() - t0:.0f} s")
    # tempo following: stretched music -> M2PEnc
    tempo = {}
    for s in songs[: a.tempo_songs]:
        sr = 22050
        y = MusicSource(caps[s].music).audio(sr)
        gi = enc.genre_index(str(caps[s].genre))
        ks = {}
        for rate in (0.8, 1.25):
            yy = stretch_audio(y, sr, rate)
            ks[rate], _ = dancer.keypoints(music_features((yy, sr), sdgpip.MUSIC_KIND, fps=FPS), gi)
        p = {rate: dominant_period(as3d(k), FPS)["period_s"] for rate, k in ks.items()}
        tempo[s] = {"spectral_scale": spectral_scale(as3d(ks[0.8]), as3d(ks[1.25]), FPS),
                    "period_0.8": p[0.8], "period_1.25": p[1.25], "period_ratio": p[0.8] / p[1.25]}
        print("tempo", s, {k: round(v, 3) for k, v in tempo[s].items()})
    # speed: 30 s of pose, in-process, models loaded
    song = caps[songs[0]].music
    t_m2p = t_teacher = None
    t = time.perf_counter()
    if not a.no_speed:
        dancer(song, seconds=30.0, genre=str(caps[songs[0]].genre))
        t_m2p = time.perf_counter() - t
        from choreogen.api import dance3d_dancer

        teach = dance3d_dancer()
        teach(song, seconds=3.0)  # load + warm up
        t = time.perf_counter()
        teach(song, seconds=30.0, genre=str(caps[songs[0]].genre))
        t_teacher = time.perf_counter() - t

    def avg(f):
        return float(np.mean([f(r) for r in per_song.values()]))

    cap_speed = avg(lambda r: r["capture"]["speed_px_s"])
    summary = {
        "maps_vs_teacher": {k: avg(lambda r, k=k: r["maps_vs_teacher"][k]) for k in ("guid_l1", "heat_mse")},
        "maps_vs_capture": {k: avg(lambda r, k=k: r["maps_vs_capture"][k]) for k in ("guid_l1", "heat_mse")},
        "mean_pose_maps_vs_teacher": {k: avg(lambda r, k=k: r["mean_pose_vs_teacher"][k]) for k in ("guid_l1", "heat_mse")},
        "kp_px_vs_teacher": avg(lambda r: r["kp_px_vs_teacher"]),
        "mean_pose_kp_px_vs_teacher": avg(lambda r: r["mean_pose_kp_px_vs_teacher"]),
        "pck_vs_teacher": avg(lambda r: r["pck_vs_teacher"]),
    }
    for n in ("m2penc", "teacher", "capture"):
        summary[n] = {k: avg(lambda r, k=k: r[n][k]) for k in per_song[songs[0]][n]}
        summary[n]["speed_vs_capture"] = summary[n]["speed_px_s"] / cap_speed
        summary[n]["bas_margin"] = summary[n]["bas_own"] - summary[n]["bas_other"]
        summary[n]["spectral_margin"] = summary[n]["spectral_own"] - summary[n]["spectral_other"]
    if tempo:
        sc = [v["spectral_scale"] for v in tempo.values()]
        summary["tempo"] = {"spectral_scale_median": float(np.median(sc)),
                            "within_15pct": int(sum(abs(np.log(x / 1.5625)) < np.log(1.15) for x in sc)),
                            "songs": len(sc),
                            "period_ratio_median": float(np.median([v["period_ratio"] for v in tempo.values()]))}
    summary["seconds_for_30s"] = {"m2penc": t_m2p, "teacher": t_teacher}
    res = {"model": a.model, "decode": dancer.decode, "steps": enc.info.get("steps"), "machine": f"{platform.machine()}, "
           f"{torch.get_num_threads()} threads", "date": time.strftime("%Y-%m-%d"), "summary": summary,
           "per_song": per_song, "tempo": tempo}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
