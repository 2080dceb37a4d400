"""Set the generation defaults stored in an exported generator (``diffusion.guidance``,
``sample_steps``, ``smooth``, ``smooth_root``, ``smooth_height``, ``eta``) without touching its weights.

These are sampling settings, not training ones: the bundled model's were chosen on two val songs
with ``benchmarks/validate_generator.py``-style motion statistics (docs/MODEL_CARD.md).

Usage: python benchmarks/set_generation_defaults.py IN.safetensors OUT.safetensors \
           [--guidance W] [--steps K] [--smooth S] [--smooth-root R] [--smooth-height H] [--eta E] [--foot-lock root|ik] [--hop H] [--genre-guidance G]
           [--tempo-ref REF.json | --no-tempo-ref]

``--tempo-ref``: reference tempi per genre (``benchmarks/tempo_reference.py`` writes them) for
tempo-normalised generation (``choreogen.audio.tempo_norm``); ``--hop``: default joint-sampling hop.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace

from choreogen.tasks.dance3d.checkpoint import load_generator, save_generator


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--guidance", type=float)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--smooth", type=float)
    ap.add_argument("--smooth-root", type=float)
    ap.add_argument("--smooth-height", type=float, help="sigma for the root's height alone (-1: as --smooth-root)")
    ap.add_argument("--eta", type=float)
    ap.add_argument("--foot-lock", choices=("root", "ik"), help="default foot lock: root shift or leg IK")
    ap.add_argument("--genre-guidance", type=float, help="default extra guidance towards the genre (genre-dropout models)")
    ap.add_argument("--hop", type=int, help="default joint-sampling hop in latent tokens (0 = sequential windows)")
    ap.add_argument("--tempo-ref", default=None, help="JSON {genre: BPM, '*': BPM} of reference tempi")
    ap.add_argument("--no-tempo-ref", action="store_true", help="remove the reference tempi (no tempo normalisation)")
    ap.add_argument("--half", action="store_true", help="store the weights as float16 (normalisers stay float32)")
    ap.add_argument("--model-id", default=None, help="provenance model_id (the name `generate` reports)")
    a = ap.parse_args()
    gen = load_generator(a.src)
    d = gen.config.diffusion
    new = {k: v for k, v in dict(guidance=a.guidance, sample_steps=a.steps, smooth=a.smooth,
                                  smooth_root=a.smooth_root, smooth_height=a.smooth_height, eta=a.eta, joint_hop=a.hop,
                                  genre_guidance=a.genre_guidance, foot_lock=a.foot_lock).items() if v is not None}
    cfg = replace(gen.config, diffusion=replace(d, **new))
    if a.tempo_ref or a.no_tempo_ref:
        ref = {} if a.no_tempo_ref else json.load(open(a.tempo_ref))
        ref = {str(k): float(v) for k, v in ref.get("reference", ref).items()}
        cfg = replace(cfg, tempo_ref=ref)
        new["tempo_ref"] = ref
    prov = {**(gen.provenance or {}), "generation_defaults": new}
    if a.model_id:
        prov["model_id"] = a.model_id
    save_generator(a.dst, gen.model, cfg, gen.normalizer, data=gen.data, provenance=prov, ae=gen.ae,
                   latent_normalizer=gen.latent_normalizer, half=a.half)
    print(f"wrote {a.dst}: {new}")


if __name__ == "__main__":
    main()
