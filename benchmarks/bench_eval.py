"""Benchmark: kinetic + geometric features of 1,000 sequences x 1,200 frames x 24 joints.

Goal (issue #5): under 10 s on 2 CPU cores. Run from the repository root:

    python benchmarks/bench_eval.py [--n 1000] [--frames 1200] [--chunk 4] [--workers 2] [--repeat 3]

Input: seeded random walks (float32, metres, Y-up), generated before timing. Prints the best
and median wall time of ``choreogen.eval.features.extract_features(..., origin="zero_start")``
and, for scale, of a FID + Div on the resulting features. Results go in docs/BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from choreogen.eval.features import extract_features  # noqa: E402
from choreogen.eval.fid import diversity, fid  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=1200)
    ap.add_argument("--chunk", type=int, default=4)
    ap.add_argument("--workers", type=int, default=None, help="threads (default: up to 2)")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.3, (1, 24, 3)).astype(np.float32)
    seqs = [base + np.cumsum(rng.normal(0, 0.01, (a.frames, 24, 3)).astype(np.float32), axis=0)
            for _ in range(a.n)]
    load0 = os.getloadavg()
    times, cpu = [], []
    for _ in range(a.repeat):
        t, c = time.perf_counter(), time.process_time()
        k, g = extract_features(seqs, origin="zero_start", chunk=a.chunk, workers=a.workers)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    t = time.perf_counter()
    half = a.n // 2
    f = fid(k[:half], k[half:]).value + fid(g[:half], g[half:]).value
    d = diversity(k[:half], k[half:]) + diversity(g[:half], g[half:])
    t_fid = time.perf_counter() - t
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numpy {np.__version__}, python {platform.python_version()}, "
          f"load average before {load0[0]:.1f} / after {os.getloadavg()[0]:.1f}")
    print(f"features of {a.n} x {a.frames} frames x 24 joints (chunk {a.chunk}, workers {a.workers or 2}): "
          f"wall best {min(times):.2f} s, median {float(np.median(times)):.2f} s; "
          f"CPU time (all threads) best {min(cpu):.2f} s over {a.repeat} runs")
    print(f"FID_k + FID_g + Div_k + Div_g ({half} vs {a.n - half} samples): {t_fid:.2f} s "
          f"(values {f:.3f}, {d:.3f})")


if __name__ == "__main__":
    main()
