"""Train the two models of the latent-flow route (issue 16) on CPU, resumable, one thread.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/flowvideo_train.py lfae --minutes 40 --steps 4000
    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/flowvideo_train.py flow --minutes 40 --steps 4000 \
        [--lfae runs/flowvideo/lfae/model.safetensors] [--extra train_gen.npz]
    # --ship: also write the fp16 bundled files choreogen/assets/models/flow_{lfae,diffusion}.safetensors

Data: ``data_prepared/flowvideo`` from benchmarks/flowvideo_prepare.py. Outputs: ``runs/flowvideo/<job>/``
(``last.ckpt`` resume state; ``model.safetensors`` the envelope). Run the same command again to resume.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.checkpoints import ASSET_DIR  # noqa: E402
from choreogen.tasks.flowvideo import checkpoint as ck  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("job", choices=["lfae", "flow"])
    ap.add_argument("--data", default="data_prepared/flowvideo")
    ap.add_argument("--out", default=None)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--minutes", type=float, default=None)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--lfae", default="runs/flowvideo/lfae/model.safetensors")
    ap.add_argument("--ship", action="store_true", help="write the bundled fp16 file at every export")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-clips", type=int, default=None, help="flow job: train clips whose flows are extracted")
    ap.add_argument("--extra", action="append", default=[], help="flow job: another training split of --data, "
                    "all its clips (e.g. train_gen.npz from flowvideo_prepare.py --generated)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = Path(a.out or f"runs/flowvideo/{a.job}")
    t0 = time.time()
    base = {"data": "tang2018 train x 18 appearances (pose route, 64x64, 10 fps) + 10 real clips"
            + "".join(f" + {x}" for x in a.extra),
            "hardware": f"{platform.machine()} CPU, {a.threads} thread(s)", "date": time.strftime("%Y-%m-%d")}

    if a.job == "lfae":
        from choreogen.tasks.flowvideo.train_lfae import train_lfae

        def export(trainer, module):
            info = dict(base, steps=int(trainer.global_step), minutes=round((time.time() - t0) / 60, 1),
                        size=module.model.cfg.size, fps=10)
            model = module.model.eval()
            ck.save_lfae(model, out / "model.safetensors", info)
            if a.ship:
                ck.save_lfae(model, ASSET_DIR / "flow_lfae.safetensors", info, half=True)
            module.model.train()

        train_lfae(a.data, out, steps=a.steps, minutes=a.minutes, batch=a.batch or 8, export=export)
    else:
        from choreogen.tasks.flowvideo.train_flow import train_flow

        def export(trainer, module):
            info = dict(base, steps=int(trainer.global_step), minutes=round((time.time() - t0) / 60, 1),
                        **module.info)
            gen = module.flowgen()
            ck.save_flowgen(gen, out / "model.safetensors")
            if a.ship:
                ck.save_flowgen(ck.FlowGen(gen.model, gen.stats, info), ASSET_DIR / "flow_diffusion.safetensors",
                                half=True)

        train_flow(a.data, a.lfae, out, steps=a.steps, minutes=a.minutes, batch=a.batch or 4, export=export,
                   max_clips=a.max_clips, extra=tuple(a.extra))
    print(f"done in {(time.time() - t0) / 60:.1f} min -> {out}")


if __name__ == "__main__":
    main()
