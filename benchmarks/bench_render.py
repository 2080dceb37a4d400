"""Benchmark: wall time, CPU time and peak memory of rendering a dance to mp4 with its music.

Usage (from the repository root)::

    python benchmarks/bench_render.py                       # 60 s of Tang2018 DANCE_C_2 + its mp3
    python benchmarks/bench_render.py --seconds 240 --preset veryfast --width 1280 --height 720

Goal (issue #3): at least 60 video frames per second of wall time on the 2-core CPU machine, i.e. a
60 s dance (1800 frames at 30 fps) in at most 30 s. Without ../shared/data a synthetic dance and
no music are used. Prints one JSON line and a Markdown table row for docs/BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class ChildPeak:
    """Samples the peak resident memory (VmHWM) of this process's child processes (ffmpeg)."""

    def __init__(self, every: float = 0.05):
        import threading

        self.peak_kb, self.every, self._stop = 0, every, False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop:
            try:
                kids = set()
                for task in os.listdir(f"/proc/{me}/task"):
                    with open(f"/proc/{me}/task/{task}/children") as f:
                        kids.update(f.read().split())
                for pid in kids:
                    with open(f"/proc/{pid}/status") as f:
                        for line in f:
                            if line.startswith("VmHWM:"):
                                self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(self.every)

    def stop(self) -> float:
        self._stop = True
        self._t.join()
        return self.peak_kb / 1024


def synthetic(seconds: float):
    from choreogen.motion import Motion

    fps, T = 30.0, int(seconds * 30)
    t = np.arange(T) / fps
    rng = np.random.default_rng(0)
    poses = (0.3 * np.sin(t[:, None] * rng.uniform(1, 4, 72) + rng.uniform(0, 6, 72))).astype(np.float32)
    trans = np.stack([np.sin(t / 7) * 3, 0.95 + 0.03 * np.sin(t * 4), np.cos(t / 9) * 3], 1).astype(np.float32)
    return Motion(skeleton="smpl24", fps=fps, poses=poses, trans=trans, name="synthetic")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dance", default=str(ROOT.parent / "shared" / "data" / "tang2018" / "DANCE_C_2.npz"))
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--preset", default="superfast")
    ap.add_argument("--keep", help="also copy the video here")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from choreogen.io import load_motion
    from choreogen.render import render_motion, resolve_music

    if Path(args.dance).exists():
        m = load_motion(args.dance)
        n = int(round(args.seconds * m.fps))
        if m.num_frames < n:
            raise SystemExit(f"{args.dance} is only {m.duration:.1f} s long")
        m = m.slice(0, n)
        music, source = resolve_music(m), Path(args.dance).name
    else:
        m, music, source = synthetic(args.seconds), None, "synthetic"
    m.positions()
    base_rss = rss_mb()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp) / "bench.mp4"
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak = ChildPeak()
        t0 = time.perf_counter()
        render_motion(m, out, music, width=args.width, height=args.height, fps=args.fps, preset=args.preset)
        wall = time.perf_counter() - t0
        ffmpeg_peak = peak.stop()
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        size_mb = out.stat().st_size / 1e6
    load1 = os.getloadavg()
    frames = int(round(m.num_frames * args.fps / m.fps))
    res = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "source": source, "music": music is not None, "seconds": round(m.duration, 2), "frames": frames,
        "size": f"{args.width}x{args.height}@{args.fps:g}", "preset": args.preset,
        "wall_s": round(wall, 2), "video_fps": round(frames / wall, 1), "realtime_x": round(m.duration / wall, 2),
        "cpu_python_s": round(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, 2),
        "cpu_ffmpeg_s": round(c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime, 2),
        "peak_rss_python_mb": round(r1.ru_maxrss / 1024, 1), "rss_before_render_mb": round(base_rss, 1),
        "peak_rss_ffmpeg_mb": round(ffmpeg_peak, 1), "mp4_mb": round(size_mb, 2),
        "loadavg_1min_before_after": [round(load0[0], 2), round(load1[0], 2)],
    }
    print(json.dumps(res))
    print(f"| {res['date']} | {res['source']} {res['seconds']} s, music {'yes' if res['music'] else 'no'} | "
          f"{res['size']} {res['preset']} | {res['wall_s']} s | {res['video_fps']} | "
          f"{res['cpu_python_s']} + {res['cpu_ffmpeg_s']} s | {res['peak_rss_python_mb']} MB "
          f"(before render {res['rss_before_render_mb']}) / {res['peak_rss_ffmpeg_mb']} MB | {res['mp4_mb']} MB | "
          f"{res['loadavg_1min_before_after'][0]} / {res['loadavg_1min_before_after'][1]} |")


if __name__ == "__main__":
    main()
