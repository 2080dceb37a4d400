"""Generation speed and memory benchmark (issue #4).

Measures, each in a FRESH process (imports, librosa/numba warm-up and model load all count):
1. `choreogen generate SONG --seconds 30 --no-video --no-bvh` wall time -> real-time factor;
2. real-time factor vs DDIM steps and vs window batch size (in-process, model already loaded);
3. peak RSS vs song length (1, 3, 10 minutes) for the full CLI run without video.

Usage: python benchmarks/bench_generate.py [--model PATH] [--quick] [--json out.json]
Songs: ../shared/data/music (sectoid War_of_freedom, etc.); the 10-minute song is the three songs
concatenated and looped into a temporary wav.
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
MUSIC = ROOT.parent / "shared" / "data" / "music"
EXE = Path(sys.executable).with_name("choreogen")


def run_cli(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one fresh `choreogen` process."""
    # a tiny wrapper process so ru_maxrss of its children is this run's peak alone
    wrapper = ("import resource, subprocess, sys, time; t=time.perf_counter(); "
               "r=subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode); "
               "sys.stderr.write(r.stderr[-2000:])")
    r = subprocess.run([sys.executable, "-c", wrapper, str(EXE), *args], capture_output=True, text=True)
    wall, peak_kib, rc = r.stdout.split()
    if int(rc) != 0:
        raise SystemExit(f"choreogen {' '.join(args)} failed:\n{r.stderr}")
    return float(wall), int(peak_kib) / 1024.0


def make_long_song(minutes: float, tmp: Path) -> Path:
    from choreogen.audio import load_audio
    import soundfile as sf

    parts = [load_audio(p, sr=22050)[0] for p in sorted(MUSIC.glob("*/*/song.ogg"))]
    y = np.concatenate(parts)
    n = int(minutes * 60 * 22050)
    y = np.tile(y, int(np.ceil(n / len(y))))[:n]
    out = tmp / f"song_{minutes:g}min.wav"
    sf.write(out, y, 22050)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    song = MUSIC / "sectoid" / "War_of_freedom" / "song.ogg"
    extra = ["--model", a.model] if a.model else []
    res: dict = {"machine": f"{platform.machine()} {os.cpu_count()} cores, torch threads default",
                 "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        # 1. fresh-process CLI, 30 s
        walls = []
        for i in range(1 if a.quick else 3):
            w, rss = run_cli(["generate", str(song), "--seconds", "30", "--no-video", "--no-bvh", "--out", str(tmp / f"c{i}"), *extra])
            walls.append(w)
        res["cli_30s"] = {"wall_s": walls, "best_rtf": 30.0 / min(walls), "median_rtf": 30.0 / float(np.median(walls))}
        print("CLI 30 s:", res["cli_30s"], flush=True)
        # 2. in-process sweeps
        from choreogen.tasks.dance3d.pipeline import generate_dance, get_generator

        get_generator(a.model)
        generate_dance(song, a.model, seconds=5)  # warm-up
        sweep = []
        for steps in ([10, 20] if a.quick else [5, 10, 20, 50]):
            for batch in ([None] if a.quick else [None, 4, 1]):
                r = generate_dance(song, a.model, seconds=30, steps=steps, batch=batch)
                sweep.append({"steps": steps, "batch": batch or "all", "sampling_s": r.timings["sampling"],
                              "features_s": r.timings["features"], "total_s": r.seconds_wall,
                              "rtf": 30.0 / r.seconds_wall, "windows": r.motion.meta["windows"]})
                print(sweep[-1], flush=True)
        res["sweep_30s"] = sweep
        # 3. memory vs song length (fresh process each)
        mem = []
        for minutes in ([1] if a.quick else [1, 3, 10]):
            s = make_long_song(minutes, tmp)
            w, rss = run_cli(["generate", str(s), "--no-video", "--no-bvh", "--batch", "16", "--out", str(tmp / f"m{minutes}"), *extra])
            mem.append({"minutes": minutes, "wall_s": w, "rtf": minutes * 60 / w, "peak_rss_mib": rss})
            print(mem[-1], flush=True)
        res["memory"] = mem
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
