"""Add the zero-initialised output filter (``out_smooth``) to an exported generator, unchanged in
behaviour (the filter starts as identity), so training can continue from it with ``--init``.

Usage: python benchmarks/add_out_smooth.py IN.safetensors OUT.safetensors [--kernel 9]
"""
from __future__ import annotations

import argparse
from dataclasses import replace

from choreogen.models.denoiser import DanceDenoiser
from choreogen.tasks.dance3d.checkpoint import load_generator, save_generator


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--kernel", type=int, default=9)
    a = ap.parse_args()
    gen = load_generator(a.src)
    cfg = replace(gen.config, model=replace(gen.config.model, out_smooth=a.kernel))
    model = DanceDenoiser(cfg.model)
    missing, unexpected = model.load_state_dict(gen.model.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("smooth.") for k in missing), (missing, unexpected)
    save_generator(a.dst, model, cfg, gen.normalizer, data=gen.data,
                   provenance={**(gen.provenance or {}), "added": f"out_smooth={a.kernel}"})
    print(f"wrote {a.dst}")


if __name__ == "__main__":
    main()
