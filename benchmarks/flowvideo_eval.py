"""Measurements of the latent-flow route (issue 16), results in docs/VIDEO.md.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/flowvideo_eval.py [--only recon,heldout,align,length,music,tempo,speed]
        [--data data_prepared/flowvideo] [--shared ../shared/data] [--out out/flowvideo_eval] [--model FLOW_DIFFUSION_FILE]

* recon   LFAE reconstruction of held-out frames (64x64): the real held-out clip (musepose/dance.mp4,
          reference = its first frame) and the synthetic clips of the Tang2018 val sequences
          (reference = the clip's first frame), PSNR / SSIM against the reference frame itself.
* heldout generation from the first frame + the real music of held-out clips, PSNR / SSIM against
          the real frames (64x64, 10 fps): ours (seeds 0-2), the pose route (bundled dance3d
          dancer, geometric animator), the frozen first frame.
* align   AV-Align and 2D-MM Align (bas_2d on MediaPipe keypoints re-detected in the frames; the
          music's librosa beats) at 128x128, 10 fps, 4 s, on the 8 songs of DabFusion's
          ``same_starting_frame_different_musics`` outputs: DabFusion's own videos, ours, the pose
          route, the frozen photo (photo: the held-out champ photo).
* length  ours at 4 / 8 / 30 s (a val Tang2018 song): the same scores plus per-4-s-segment sharpness,
          motion and person-detection rate (does quality hold when videos get longer?).
* music   the same photo with two songs, and one song time-stretched 0.8x / 1.25x (ffmpeg atempo):
          the dominant period of the generated motion (autocorrelation of the latent-flow speed).
* tempo   the 9 val Tang2018 songs (30 s from 5 s in) time-stretched 0.8x / 1.25x (librosa phase vocoder),
          flows with tempo normalisation on and off (seed 0): mean flow speed ratio fast / slow and the
          spectral time-scale of the flow motion (``choreogen.eval.rhythm.spectral_scale`` on the flow
          field as 256 moving points); a video that follows the tempo gives 1.5625 for both; and
          ``mapped_over_same``: how far the 1.25x video's flows at frame k are from the 0.8x video's at
          1.5625 k, over their distance at frame k (< 1: the fast video is the slow one played faster).
* speed   ``choreogen video --method flow`` as a subprocess, 4 s at 128x128; peak RSS for a 3-minute song.
"""
from __future__ import annotations

import argparse
import json
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

from choreogen.eval.video import av_align, bas_2d, music_beat_times, psnr, read_frames, ssim  # noqa: E402
from choreogen.tasks.flowvideo.data import load_split  # noqa: E402

CHAMP = "video/champ/pexels-anete-lusina-4793258.jpg"
HELD = "video/musepose/dance.mp4"


def ffmpeg(*args):
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *map(str, args)], check=True)


def write_mp4(frames, fps, path, audio=None):
    from choreogen.render.encoder import VideoWriter

    S = frames[0].shape[0]
    with VideoWriter(path, S, S, fps, len(frames) / fps, audio) as vw:
        for f in frames:
            vw.write(f)


def align_scores(mp4: Path, song) -> dict:
    """AV-Align (video vs song) and 2D-MM Align (re-detected keypoints vs the song's beats)."""
    from choreogen.video.body2d import FROM_MEDIAPIPE33
    from choreogen.video.keypoints import extract_keypoints

    av = av_align(mp4, song)["av_align"]
    try:
        m = extract_keypoints(mp4)
        k, c = m.joints[:, FROM_MEDIAPIPE33], m.confidence[:, FROM_MEDIAPIPE33]
        mm = bas_2d(k, music_beat_times(song), m.fps, conf=c)["bas"]
        det = float((c.max(1) > 0).mean())
    except Exception:  # noqa: BLE001 -- no person found in any frame
        mm, det = 0.0, 0.0
    return {"av_align": round(av, 3), "mm_align": round(float(mm), 3), "detected": round(det, 3)}


MODEL = None  # --model: a flow-diffusion file instead of the bundled one


def pipes():
    from choreogen.api import FlowVideoPipeline, PoseVideoPipeline

    return FlowVideoPipeline.from_pretrained(MODEL), PoseVideoPipeline.from_pretrained()


def recon(a, res):
    import torch

    from choreogen.tasks.flowvideo.checkpoint import load_lfae

    lfae, _ = load_lfae(None)
    out = {}
    held_apps = ("champ/pexels-anete-lusina-4793258.jpg", "musepose/dance.mp4")
    for name, split, which in (("real held-out clip", "real_val", None), ("synthetic val", "val", None),
                               ("synthetic val, held-out appearances", "val", held_apps)):
        sp = load_split(Path(a.data) / f"{split}.npz")
        pred, real, base = [], [], []
        for c in range(len(sp.clips)):
            if which is not None and sp.photo_names[int(sp.clips[c, 2])] not in which:
                continue
            fr = sp.clip(c) if split == "real_val" else sp.clip(c)[:41:2]
            t = torch.from_numpy(fr.transpose(0, 3, 1, 2).astype(np.float32) / 255)
            with torch.no_grad():
                o = lfae(t[:1].expand(len(t) - 1, -1, -1, -1), t[1:])["out"]
            pred.append((o.clamp(0, 1) * 255 + 0.5).byte().permute(0, 2, 3, 1).numpy())
            real.append(fr[1:])
            base.append(np.repeat(fr[:1], len(fr) - 1, 0))
        if not real:
            continue
        p, r, b = map(np.concatenate, (pred, real, base))
        out[name] = {"frames": len(r), "lfae_psnr": round(psnr(p, r), 2), "lfae_ssim": round(ssim(p, r), 3),
                     "ref_psnr": round(psnr(b, r), 2), "ref_ssim": round(ssim(b, r), 3)}
        print(name, out[name], flush=True)
    res["recon"] = out


def heldout(a, res):
    import cv2

    from choreogen.tasks.flowvideo.data import to_small
    from choreogen.video.reference import analyse_image, square

    flow, pose = pipes()
    sh = Path(a.shared)
    real = load_split(Path(a.data) / "real_val.npz").clip(0)  # (120, 64, 64, 3) at 10 fps
    frames0, _ = read_frames(sh / HELD)
    ref = analyse_image(square(frames0[0], 256), sh / HELD)
    secs = len(real) / 10
    rows = {}
    for seed in range(3):
        for mode in (("raw", "decoder", "warp") if seed == 0 else ("warp",)):
            r = flow(sh / HELD, ref, seconds=secs, seed=seed, size=128, fps=10, render=mode)
            g = np.stack([cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA) for f in r.frames])[: len(real)]
            rows[f"ours ({mode}) seed {seed}"] = (psnr(g[1:], real[1:]), ssim(g[1:], real[1:]))
        if seed == 0:
            cv2.imwrite(str(Path(a.out) / "heldout_ours.png"), cv2.cvtColor(np.concatenate(
                [np.concatenate(list(r.frames[::20]), 1), np.concatenate([cv2.resize(x, (128, 128)) for x in real[::20]], 1)]),
                cv2.COLOR_RGB2BGR))
    p = pose(sh / HELD, ref, seconds=secs, fps=10, size=256)
    g = np.stack([to_small(f) for f in p.frames])[: len(real)]
    rows["pose route (generated dance)"] = (psnr(g[1:], real[1:]), ssim(g[1:], real[1:]))
    fz = np.repeat(real[:1], len(real) - 1, 0)
    rows["frozen first frame"] = (psnr(fz, real[1:]), ssim(fz, real[1:]))
    sp = load_split(Path(a.data) / "val.npz")
    sy = {"ours": [], "frozen first frame": []}
    for c in range(0, len(sp.clips), 6):
        clip, mus = sp.clip(c)[:40], sp.clip_music(c)[:40]
        with tempfile.TemporaryDirectory() as td:  # a silent track: the features are given
            wav = Path(td) / "s.wav"
            ffmpeg("-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "4", wav)
            big = cv2.resize(clip[0], (256, 256), interpolation=cv2.INTER_CUBIC)
            from choreogen.video.reference import Reference

            refc = Reference(big, np.zeros((256, 256), np.float32), np.zeros((17, 2), np.float32), np.zeros(17, np.float32))
            r = flow(wav, refc, size=128, fps=10, music=mus, render="raw")
        g = np.stack([cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA) for f in r.frames])
        sy["ours"].append((psnr(g[1:], clip[1:]), ssim(g[1:], clip[1:])))
        sy["frozen first frame"].append((psnr(np.repeat(clip[:1], 39, 0), clip[1:]), ssim(np.repeat(clip[:1], 39, 0), clip[1:])))
    res["heldout"] = {"real clip (12 s)": {k: [round(v[0], 2), round(v[1], 3)] for k, v in rows.items()},
                      "synthetic val (4 s)": {k: np.round(np.mean(v, 0), 3).tolist() for k, v in sy.items()},
                      "synthetic clips": len(sy["ours"])}
    print(res["heldout"], flush=True)


def _song_of(mp4: Path, td: Path) -> Path:
    wav = td / f"{mp4.stem}.wav"
    ffmpeg("-i", mp4, "-vn", "-ac", "1", "-ar", "22050", wav)
    return wav


def align(a, res):
    flow, pose = pipes()
    sh, out = Path(a.shared), Path(a.out)
    dab = sorted((sh / "video/dabfusion_outputs/same_starting_frame_different_musics").glob("*.mp4"))
    rows = {k: [] for k in ("DabFusion (their outputs)", "ours (flow)", "pose route", "frozen photo")}
    from choreogen.video.reference import analyse_photo

    ref = analyse_photo(sh / CHAMP, 256)
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        for v in dab:
            song = _song_of(v, td)
            rows["DabFusion (their outputs)"].append(align_scores(v, song))
            o = out / f"align_ours_{v.stem}.mp4"
            flow(song, ref, o, seconds=4, size=128, fps=10)
            rows["ours (flow)"].append(align_scores(o, song))
            p = pose(song, ref, seconds=4, fps=10, size=256)
            import cv2

            o2 = td / f"pose_{v.stem}.mp4"
            write_mp4([cv2.resize(f, (128, 128), interpolation=cv2.INTER_AREA) for f in p.frames], 10, o2, song)
            rows["pose route"].append(align_scores(o2, song))
            o3 = td / f"frozen_{v.stem}.mp4"
            write_mp4([cv2.resize(ref.image, (128, 128), interpolation=cv2.INTER_AREA)] * 40, 10, o3, song)
            rows["frozen photo"].append(align_scores(o3, song))
            print(v.stem, {k: r[-1] for k, r in rows.items()}, flush=True)
    res["align"] = {k: {m: round(float(np.mean([x[m] for x in r])), 3) for m in r[0]} for k, r in rows.items()}
    res["align"]["songs"] = [v.stem for v in dab]
    print(res["align"], flush=True)


def sharpness(frames) -> float:
    import cv2

    return float(np.mean([cv2.Laplacian(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var() for f in frames]))


def flow_speed(flows) -> np.ndarray:
    """(T-1,) mean latent-flow change per frame (normalised units) of (T, 3, h, w) flows."""
    f = np.asarray(flows)[:, :2]
    return np.abs(np.diff(f, axis=0)).mean((1, 2, 3))


def dominant_period(x: np.ndarray, fps: float = 10.0, lo: float = 0.25, hi: float = 3.0) -> float:
    """Seconds of the highest autocorrelation peak of ``x`` between lo and hi seconds."""
    x = (x - x.mean()) / (x.std() + 1e-9)
    ac = np.correlate(x, x, "full")[len(x) - 1:] / len(x)
    lags = np.arange(len(ac)) / fps
    ok = np.flatnonzero((lags >= lo) & (lags <= hi))
    peaks = [i for i in ok if 0 < i < len(ac) - 1 and ac[i - 1] < ac[i] >= ac[i + 1]]
    return float(lags[max(peaks, key=lambda i: ac[i])]) if peaks else float("nan")


def length(a, res):
    flow, _ = pipes()
    sh, out = Path(a.shared), Path(a.out)
    from choreogen.video.reference import analyse_photo

    ref = analyse_photo(sh / CHAMP, 256)
    song = sh / "tang2018/DANCE_C_7.mp3"
    rows = {}
    for secs in (4, 8, 30):
        o = out / f"length_{secs}s.mp4"
        r = flow(song, ref, o, seconds=secs, size=128, fps=10)
        frames, _ = read_frames(o)
        seg = [frames[i:i + 40] for i in range(0, len(frames) - 39, 40)]
        sp = flow_speed(r.flows.numpy())
        rows[f"{secs} s"] = dict(align_scores(o, song), sharpness_first4s=round(sharpness(seg[0]), 1),
                                 sharpness_last4s=round(sharpness(seg[-1]), 1),
                                 motion_first4s=round(float(sp[:39].mean()), 4), motion_last4s=round(float(sp[-39:].mean()), 4))
        print(secs, rows[f"{secs} s"], flush=True)
    res["length"] = rows


def music(a, res):
    from choreogen.audio.beats import tempo

    flow, _ = pipes()
    sh = Path(a.shared)
    from choreogen.video.reference import analyse_photo

    ref = analyse_photo(sh / CHAMP, 256)
    rows = {}
    with tempfile.TemporaryDirectory() as td:
        songs = {"DANCE_C_7 (cha-cha)": sh / "tang2018/DANCE_C_7.mp3", "DANCE_W_10 (waltz)": sh / "tang2018/DANCE_W_10.mp3"}
        base = sh / "tang2018/DANCE_C_7.mp3"
        for f in (0.8, 1.25):
            p = Path(td) / f"stretch_{f}.wav"
            ffmpeg("-i", base, "-t", str(20 / f + 1), "-filter:a", f"atempo={f}", "-ac", "1", p)
            songs[f"DANCE_C_7 played {f}x"] = p
        for name, s in songs.items():
            per = []
            for seed in range(2):
                r = flow(s, ref, seconds=16, size=128, fps=10, seed=seed)
                per.append(dominant_period(flow_speed(r.flows.numpy())))
            bpm = tempo(str(s), cache=False)
            rows[name] = {"tempo_bpm": round(float(bpm), 1), "beat_s": round(60 / float(bpm), 3),
                          "motion_period_s": [round(x, 2) for x in per],
                          "mean_flow_speed": round(float(flow_speed(r.flows.numpy()).mean()), 4)}
            print(name, rows[name], flush=True)
    res["music"] = rows


def tempo(a, res):
    from choreogen.audio import load_audio
    from choreogen.data.splitting import fixed_split
    from choreogen.eval.rhythm import spectral_scale, stretch_audio
    from choreogen.video.reference import analyse_photo

    from choreogen.tasks.flowvideo.pipeline import _down

    flow, _ = pipes()
    if a.tempo_ref:
        flow.gen.info["tempo_ref"] = a.tempo_ref
    sh = Path(a.shared)
    z, _ = flow.encode_photo(_down(analyse_photo(sh / CHAMP, 256).image, 64))
    rows, ratios = {}, {True: [], False: []}
    scales = {True: [], False: []}
    mos = {True: [], False: []}
    from choreogen.video.flowrender import interpolate_time

    def points(f):  # (T, 3, h, w) flows -> (T, h*w, 3) "positions" of the warp (normalised units)
        f = np.asarray(f)[:, :2]
        return np.concatenate([f.reshape(len(f), 2, -1).transpose(0, 2, 1), np.zeros((len(f), f[0, 0].size, 1))], -1)

    with tempfile.TemporaryDirectory() as td:
        import soundfile as sf

        for name in fixed_split("tang2018")["val"]:
            y, sr = load_audio(sh / f"tang2018/{name}.mp3", sr=22050)
            y = y[5 * sr: 35 * sr]
            row = {}
            for on in (True, False):
                fl = {}
                for r in (0.8, 1.25):
                    wav = Path(td) / f"{name}_{r}.wav"
                    if not wav.exists():
                        sf.write(wav, stretch_audio(y, sr, r), sr)
                    t = flow.flows(wav, z, seed=0, tempo_norm=on)
                    fl[r] = t.flows.numpy()
                    if on:
                        row.setdefault("tempo_bpm", {})[str(r)] = t.tempo.get("tempo_bpm")
                v = {r: float(flow_speed(fl[r]).mean()) for r in fl}
                k = "norm" if on else "plain"
                row[f"{k}_speed_ratio"] = round(v[1.25] / v[0.8], 3)
                row[f"{k}_spectral_scale"] = round(spectral_scale(points(fl[0.8]), points(fl[1.25]), 10.0), 3)
                # is the 1.25x video the 0.8x one played 1.5625x as fast? error at the tempo-mapped frame
                # (fast k <-> slow 1.5625 k) over the error at the same frame, both relative to the flows' variation
                a_, b_ = fl[0.8], fl[1.25]
                scale = np.abs(a_ - a_.mean(0)).mean()
                n = len(b_)
                mapped = np.abs(b_ - interpolate_time(a_, 1.0, 1.0 / 1.5625, n)).mean() / scale
                same = np.abs(b_ - a_[:n]).mean() / scale
                row[f"{k}_mapped_over_same"] = round(float(mapped / same), 3)
                mos[on].append(row[f"{k}_mapped_over_same"])
                ratios[on].append(row[f"{k}_speed_ratio"])
                scales[on].append(row[f"{k}_spectral_scale"])
            rows[name] = row
            print(name, row, flush=True)
    summ = {}
    for on in (True, False):
        k = "norm" if on else "plain"
        sc = np.array(scales[on])
        summ[k] = {"speed_ratio_median": round(float(np.median(ratios[on])), 3),
                   "spectral_scale_median": round(float(np.median(sc)), 3),
                   "spectral_within_15pct": int((np.abs(sc / 1.5625 - 1) <= 0.15).sum()), "songs": len(sc),
                   "mapped_over_same_median": round(float(np.median(mos[on])), 3),
                   "mapped_better": int((np.array(mos[on]) < 0.9).sum())}
    res["tempo"] = {"rows": rows, "summary": summ, "expected": 1.5625}
    print(summ, flush=True)


def speed(a, res):
    import resource  # noqa: F401

    exe = [sys.executable, "-m", "choreogen.cli"]
    sh = Path(a.shared)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as td:
        o = Path(td) / "v.mp4"
        song = ROOT / "choreogen/assets/music/example.ogg"
        cmd = exe + ["video", str(song), "--image", str(sh / CHAMP), "--method", "flow", "--seconds", "4",
                     "--size", "128", "--out", str(o)]
        walls = []
        for _ in range(2):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, capture_output=True)
            walls.append(time.perf_counter() - t)
        long = Path(td) / "long.wav"
        ffmpeg("-stream_loop", "-1", "-i", song, "-t", "180", "-ac", "1", long)
        cmd = ["/usr/bin/time", "-v"] + exe + ["video", str(long), "--image", str(sh / CHAMP), "--method", "flow",
                                               "--size", "128", "--out", str(o)]
        t = time.perf_counter()
        p = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t
        rss = [ln for ln in p.stderr.splitlines() if "Maximum resident" in ln]
    res["speed"] = {"4s_128_wall_s": [round(w, 1) for w in walls], "180s_128_wall_s": round(wall, 1),
                    "180s_peak_rss_mib": round(int(rss[0].split()[-1]) / 1024) if rss else None,
                    "load": round(os.getloadavg()[0], 1)}
    print(res["speed"], flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="recon,heldout,align,length,music,tempo,speed")
    ap.add_argument("--data", default="data_prepared/flowvideo")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default="out/flowvideo_eval")
    ap.add_argument("--tempo-ref", type=float, default=None, help="tempo: reference BPM to try (default: the model's)")
    ap.add_argument("--model", default=None, help="flow-diffusion file to measure (default: the bundled one)")
    a = ap.parse_args()
    global MODEL
    MODEL = a.model
    Path(a.out).mkdir(parents=True, exist_ok=True)
    res = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    for part in a.only.split(","):
        globals()[part](a, res)
        (Path(a.out) / f"results_{part}.json").write_text(json.dumps(res, indent=1, default=float))
    print(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    main()
