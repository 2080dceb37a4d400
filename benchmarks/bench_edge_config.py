"""Side-by-side speed: the project's denoiser at EDGE's configuration vs the default generator (issue #12).

One script, one run, same process, same song, 30 s of dance:

* **EDGE configuration**: :class:`choreogen.models.denoiser.DanceDenoiser` with EDGE's size (width 512, 8 blocks,
  8 heads, MLP 1024, per-frame tokens, Jukebox-sized 4800-D music input: 49 M parameters; EDGE: about 47 M), DDIM 50
  steps with 2 guidance passes (batched), 11 windows of 5 s (2.5 s overlap) denoised together: the
  denoiser calls of the long-form sampler. Random weights (speed does not depend on them); music
  features are the project's (the cost of Jukebox feature extraction, minutes per song, is not counted,
  which favours EDGE).
* **default**: the full ``Dance3DPipeline`` call of the default checkpoint (features, sampling, decoding,
  post-processing) for the same 30 s, model already loaded.

With ``--measure-steps N`` (default 50 = all) only N of EDGE's 50 steps are timed and the time is scaled
by 50 / N (stated in the output). Usage:
    OMP_NUM_THREADS=2 python benchmarks/bench_edge_config.py [--model PATH] [--measure-steps 50] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SONG = ROOT.parent / "shared" / "data" / "music" / "sectoid" / "War_of_freedom" / "song.ogg"


def edge_denoiser():
    from choreogen.models.denoiser import DanceDenoiser, DenoiserConfig

    cfg = DenoiserConfig(motion_dim=151, music_dim=4800, d_model=512, n_layers=8, n_heads=8, ff_mult=2, dropout=0.0,
                         patch=1, n_genres=0, music_layers=1)
    return DanceDenoiser(cfg).eval()


def time_edge(measure_steps: int, windows: int = 11, frames: int = 150, steps: int = 50) -> dict:
    from choreogen.diffusion.sampler import guided_denoiser
    from choreogen.diffusion.schedule import NoiseSchedule

    torch.manual_seed(0)
    model = edge_denoiser()
    n_params = sum(p.numel() for p in model.parameters())
    music = torch.randn(windows, frames, 4800)
    schedule = NoiseSchedule(1000, "cosine")
    t0 = time.perf_counter()
    with torch.no_grad():
        tokens = model.encode_music(music)
        null = model.null_music.expand_as(tokens)
        kv = model.memory_kv(torch.cat([tokens, null]))
        cond = {"music_kv": [(k[:windows], v[:windows]) for k, v in kv]}
        uncond = {"music_kv": [(k[windows:], v[windows:]) for k, v in kv]}

        def model_fn(x, t, drop_cond, **c):
            return model(x, t, dict(c, drop_cond=drop_cond))

        den = guided_denoiser(model_fn, cond, 2.0, uncond)
        calls = {"n": 0}

        def counted(x, t):
            calls["n"] += 1
            return den(x, t)

        g = torch.Generator().manual_seed(0)
        _partial(counted, windows, frames, schedule, steps, measure_steps, g)
    wall = time.perf_counter() - t0
    return {"params_M": round(n_params / 1e6, 1), "steps": steps, "measured_steps": measure_steps,
            "guidance_passes": 2, "windows": windows, "tokens_per_window": frames,
            "denoiser_calls": calls["n"], "seconds_measured": round(wall, 2),
            "seconds": round(wall * steps / measure_steps, 2)}


def _partial(den, windows, frames, schedule, steps, measure_steps, g):
    """DDIM over the first ``measure_steps`` steps of a ``steps``-step grid (same per-step cost)."""
    from choreogen.diffusion.sampler import timestep_grid

    ts = timestep_grid(schedule.num_steps, steps)[:measure_steps]
    x = torch.randn((windows, frames, 151), generator=g)
    ab = schedule.alpha_bar
    for i, t in enumerate(ts):
        tt = torch.full((windows,), int(t), dtype=torch.long)
        x0 = den(x, tt)
        a = ab[int(t)]
        eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
        a_next = ab[int(ts[i + 1])] if i + 1 < len(ts) else torch.tensor(1.0)
        x = a_next.sqrt() * x0 + (1 - a_next).sqrt() * eps
    return x


def time_default(model: str | None, seconds: float = 30.0, repeats: int = 3) -> dict:
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline

    pipe = Dance3DPipeline.from_pretrained(model)
    pipe(SONG, seconds=5.0, seed=0)  # warm-up (librosa/numba)
    walls = []
    for r in range(repeats):
        t0 = time.perf_counter()
        res = pipe(SONG, seconds=seconds, seed=r)
        walls.append(time.perf_counter() - t0)
    m = res.motion.meta
    n_params = sum(p.numel() for p in pipe.generator.model.parameters())
    if pipe.generator.ae is not None:
        n_params += sum(p.numel() for p in pipe.generator.ae.parameters())
    return {"model": str(pipe.generator.path), "params_M": round(n_params / 1e6, 2), "latent": pipe.config.latent,
            "steps": m["steps"], "guidance": m["guidance"], "windows": m["windows"], "seconds": round(min(walls), 3),
            "all_seconds": [round(w, 3) for w in walls]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--measure-steps", type=int, default=50)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    edge = time_edge(max(1, min(50, a.measure_steps)))
    ours = time_default(a.model)
    out = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()} x{os.cpu_count()}",
           "torch_threads": torch.get_num_threads(), "dance_seconds": 30.0, "edge_config": edge, "default": ours,
           "speedup": round(edge["seconds"] / ours["seconds"], 1)}
    print(json.dumps(out, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
