"""Issue #12: does the generator follow the music's tempo? (val split of Tang2018)

For every val song, an excerpt of ``--seconds`` s (from ``--start``) is time-stretched with the pitch
kept (librosa phase vocoder) to playback rates 0.8, 1.0 and 1.25; the model dances each version with
the same seed and its genre. For the captures, the val dance excerpt itself is resampled by the same
rate (the reference: a dance that follows the tempo). Reported per song and rate:

* dominant movement period (s; peak of the power spectrum of the summed joint speed, 0.25-4 Hz),
  the music's beat period (fast35 beat column, median inter-beat interval);
* ratio = period(0.8x) / period(1.25x) (1.5625 if the dance follows the tempo, 1 if it ignores it)
  and the log-spectrum scale factor (:func:`choreogen.eval.rhythm.spectral_scale`);
* at 1.0x, beat-phase locking (:func:`choreogen.eval.rhythm.own_vs_other_beats`) and onset-movement
  coherence (:func:`choreogen.eval.rhythm.own_vs_other`) of each dance with its own music vs the
  other val songs' music.

``--overlaps 0.5,0.6`` also dances every song at 1.0x with other long-form window overlaps (window
stride = 5 s x (1 - overlap)) to see whether the dominant period follows the stride.

Usage: PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/tempo_follow.py \
           [--model M] [--seconds 40] [--json docs/results/tempo_follow_bundled.json]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from choreogen.audio import load_audio, music_features
from choreogen.data.splitting import fixed_split
from choreogen.eval.rhythm import dominant_period, own_vs_other, own_vs_other_beats, own_vs_other_spectral, spectral_scale, stretch_audio, stretch_motion, tempo_follow
from choreogen.tasks.dance3d.pipeline import generate_dance, get_generator
from choreogen.io import load_motion

RATES = (0.8, 1.0, 1.25)
SR = 22050


def beat_period(feats: np.ndarray, fps: float = 30.0) -> float:
    b = np.flatnonzero(feats[:, 34] > 0.5)
    return float(np.median(np.diff(b)) / fps) if len(b) > 2 else float("nan")


def summarise(rows: dict) -> dict:
    ratios = [r["ratio"] for r in rows.values()]
    scales = [r["spectral_scale"] for r in rows.values()]
    p1 = [r["periods"]["1.0"] for r in rows.values()]
    lr, ls = np.log2(ratios), np.log2(scales)
    return {"ratio_median": float(np.median(ratios)), "ratio_mean": float(np.mean(ratios)),
            "ratio_geomean": float(2 ** lr.mean()), "ratio_log2_sd": float(lr.std()),
            "spectral_scale_geomean": float(2 ** ls.mean()), "spectral_scale_log2_sd": float(ls.std()),
            "scales_within_15pct_of_1.5625": int(sum(abs(r / 1.5625 - 1) < 0.15 for r in scales)),
            "follow_mean": float(np.mean([r["follow"] for r in rows.values()])),
            "spectral_scale_median": float(np.median(scales)), "period_1x_median_s": float(np.median(p1)),
            "songs_within_15pct_of_1.5625": int(sum(abs(r / 1.5625 - 1) < 0.15 for r in ratios))}


def main():
    torch.set_num_threads(1)
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "tang2018"))
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--start", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--songs", default=None, help="comma-separated names (default: the val split)")
    ap.add_argument("--overlaps", default="", help="extra long-form overlaps to try at 1.0x, e.g. 0.6,0.7")
    ap.add_argument("--beat-stride", type=int, default=None,
                    help="long-form windows start this many beats apart (Dance3DPipeline beat_stride)")
    ap.add_argument("--hop", type=int, default=None,
                    help="joint sampling with windows every HOP latent tokens (latent models; 0 = sequential windows)")
    ap.add_argument("--no-model", action="store_true", help="captures only")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    names = a.songs.split(",") if a.songs else fixed_split("tang2018")["val"]
    data = Path(a.data)
    gen = None if a.no_model else get_generator(a.model)
    fps = 30.0
    res = {"model": None if gen is None else str(gen.path), "hop": a.hop, "seconds": a.seconds, "start": a.start, "seed": a.seed,
           "rates": list(RATES), "songs": names, "model_rows": {}, "capture_rows": {}, "overlap_rows": {}}
    dances1, caps1, onsets1, beats1 = [], [], [], []
    pool = {"onsets": [], "beats": [], "caps": [], "dances": []}  # every (song, rate)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        import soundfile as sf

        for name in names:
            cap = load_motion(data / f"{name}.npz")
            y, sr = load_audio(cap.music, sr=SR)
            s0, s1 = int(a.start * sr), int((a.start + a.seconds) * sr)
            y = y[s0:s1]
            cap30 = cap.resample(fps)
            cap30 = cap30.slice(int(a.start * fps), int((a.start + a.seconds) * fps))
            mrow = {"periods": {}, "beat_period_s": {}}
            crow = {"periods": {}}
            mj, cj = {}, {}
            for r in RATES:
                ys = stretch_audio(y, sr, r)
                wav = Path(tmp) / f"{name}_{r}.wav"
                sf.write(wav, ys, sr)
                feats = music_features(str(wav), kind="fast35", fps=fps, cache=False)
                mrow["beat_period_s"][str(r)] = beat_period(feats)
                cm = stretch_motion(cap30, r).canonical()
                cj[r] = cm.positions()
                dp = dominant_period(cj[r], fps)
                crow["periods"][str(r)] = dp["period_s"]
                crow.setdefault("peak_share", {})[str(r)] = dp["peak_share"]
                pool["onsets"].append(feats[:, 0])
                pool["beats"].append(np.flatnonzero(feats[:, 34] > 0.5) / fps)
                pool["caps"].append(cj[r])
                if r == 1.0:
                    onsets1.append(feats[:, 0])
                    beats1.append(np.flatnonzero(feats[:, 34] > 0.5) / fps)
                    caps1.append(cj[r])
                if gen is not None:
                    d = generate_dance(str(wav), a.model, genre=cap.genre, seed=a.seed, beat_stride=a.beat_stride,
                                       hop=a.hop).motion
                    mj[r] = d.positions()
                    dp = dominant_period(mj[r], fps)
                    mrow["periods"][str(r)] = dp["period_s"]
                    mrow.setdefault("peak_share", {})[str(r)] = dp["peak_share"]
                    pool["dances"].append(mj[r])
                    if r == 1.0:
                        dances1.append(mj[r])
                        for ov in [float(o) for o in a.overlaps.split(",") if o]:
                            dov = generate_dance(str(wav), a.model, genre=cap.genre, seed=a.seed, overlap=ov).motion
                            res["overlap_rows"].setdefault(str(ov), {})[name] = dominant_period(dov.positions(), fps)["period_s"]
            lo, hi = RATES[0], RATES[-1]
            crow.update(tempo_follow({lo: crow["periods"][str(lo)], hi: crow["periods"][str(hi)]}))
            crow["spectral_scale"] = spectral_scale(cj[lo], cj[hi], fps)
            res["capture_rows"][name] = crow
            if gen is not None:
                mrow.update(tempo_follow({lo: mrow["periods"][str(lo)], hi: mrow["periods"][str(hi)]}))
                mrow["spectral_scale"] = spectral_scale(mj[lo], mj[hi], fps)
                res["model_rows"][name] = mrow
            print(f"{name}: beat {mrow['beat_period_s']['1.0']:.3f} s | captures periods "
                  + " ".join(f"{crow['periods'][str(r)]:.2f}" for r in RATES) + f" ratio {crow['ratio']:.3f}"
                  + ("" if gen is None else " | model periods " + " ".join(f"{mrow['periods'][str(r)]:.2f}" for r in RATES)
                     + f" ratio {mrow['ratio']:.3f} scale {mrow['spectral_scale']:.3f}"), flush=True)
    res["captures"] = summarise(res["capture_rows"])
    res["captures"]["coherence"] = own_vs_other(caps1, onsets1, fps)
    res["captures"]["beat_locking"] = own_vs_other_beats(caps1, beats1, fps)
    res["captures"]["spectral_match"] = own_vs_other_spectral(caps1, onsets1, fps)
    if gen is not None:
        res["model_summary"] = summarise(res["model_rows"])
        res["model_summary"]["coherence"] = own_vs_other(dances1, onsets1, fps)
        res["model_summary"]["beat_locking"] = own_vs_other_beats(dances1, beats1, fps)
        res["model_summary"]["spectral_match"] = own_vs_other_spectral(dances1, onsets1, fps)
    # alignment against a pool with many tempi: every song at every rate (own = same song, same rate)
    res["captures"]["pooled"] = {"beat_locking": own_vs_other_beats(pool["caps"], pool["beats"], fps),
                                 "spectral_match": own_vs_other_spectral(pool["caps"], pool["onsets"], fps),
                                 "coherence": own_vs_other(pool["caps"], pool["onsets"], fps)}
    if gen is not None:
        res["model_summary"]["pooled"] = {"beat_locking": own_vs_other_beats(pool["dances"], pool["beats"], fps),
                                          "spectral_match": own_vs_other_spectral(pool["dances"], pool["onsets"], fps),
                                          "coherence": own_vs_other(pool["dances"], pool["onsets"], fps)}
    for ov, rows in res["overlap_rows"].items():
        rows["median_period_s"] = float(np.median(list(rows.values())))
    res["wall_s"] = round(time.time() - t0, 1)
    txt = json.dumps(res, indent=1)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(txt + "\n")
    out = {k: res[k] for k in ("captures", "model_summary") if k in res}
    out["overlaps"] = {k: v["median_period_s"] for k, v in res["overlap_rows"].items()}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
