"""Set the sampling defaults stored in a flow-diffusion checkpoint (``info``: ``tempo_ref``, ``guidance``,
``sample_steps``) without touching its weights (their dtype is kept: the bundled file stays fp16).

Usage: python benchmarks/set_flow_defaults.py IN.safetensors OUT.safetensors [--tempo-ref BPM | --no-tempo-ref]
           [--guidance W] [--steps K]

``--tempo-ref``: the reference tempo of tempo-normalised generation (:class:`FlowVideoPipeline`: the song is
stretched to it, the flows generated and played back at the song's tempo). The bundled model's 86.8 BPM is the
``"*"`` entry of docs/results/tempo_reference.json: the octave-circular mean of the Tang2018 train songs, the
songs the flow model was trained on.
"""
from __future__ import annotations

import argparse

from choreogen import checkpoints
from choreogen.tasks.flowvideo.checkpoint import DIFFUSION


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--tempo-ref", type=float)
    ap.add_argument("--no-tempo-ref", action="store_true")
    ap.add_argument("--guidance", type=float)
    ap.add_argument("--steps", type=int)
    a = ap.parse_args()
    env = checkpoints.read(a.src)
    if env.task != DIFFUSION:
        raise SystemExit(f"{a.src}: a {env.task} checkpoint, not {DIFFUSION}")
    info = env.config.setdefault("info", {})
    new = {k: v for k, v in dict(tempo_ref=a.tempo_ref, guidance=a.guidance, sample_steps=a.steps).items() if v is not None}
    info.update(new)
    if a.no_tempo_ref:
        info.pop("tempo_ref", None)
    env.provenance["sampling_defaults"] = dict(new, **({"tempo_ref": None} if a.no_tempo_ref else {}))
    checkpoints.write(a.dst, env)
    print(f"wrote {a.dst}: {new}{' (tempo_ref removed)' if a.no_tempo_ref else ''}")


if __name__ == "__main__":
    main()
