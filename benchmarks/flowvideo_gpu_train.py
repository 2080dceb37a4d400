"""One call that trains the latent-flow route (issue 16) on a lent GPU, then writes the bundled fp16 files.

    PYTHONPATH=. python benchmarks/flowvideo_gpu_train.py [--minutes 12] [--data data_prepared/flowvideo]
    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/flowvideo_gpu_train.py --cpu-smoke   # a few steps, checks the wiring

Steps: (1) the paired data, if ``--data`` has no train.npz (benchmarks/flowvideo_prepare.py, CPU, ~5 min
on 2 cores, faster on 16); (2) the LFAE: batch 64, bf16, half the minutes; (3) the flow diffusion:
batch 32, bf16, the other half (flows extracted on the GPU first). Both resumable in ``--out``.
``--ship`` writes choreogen/assets/models/flow_{lfae,diffusion}.safetensors (fp16) at the end.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data_prepared/flowvideo")
    ap.add_argument("--out", default="runs/flowvideo_gpu")
    ap.add_argument("--minutes", type=float, default=12.0)
    ap.add_argument("--ship", action="store_true")
    ap.add_argument("--cpu-smoke", action="store_true", help="3 steps each on the CPU (for tests of the wiring)")
    a = ap.parse_args()
    import torch

    from choreogen.checkpoints import ASSET_DIR
    from choreogen.tasks.flowvideo import checkpoint as ck
    from choreogen.tasks.flowvideo.train_flow import train_flow
    from choreogen.tasks.flowvideo.train_lfae import train_lfae

    data, out = Path(a.data), Path(a.out)
    if not (data / "train.npz").is_file():
        subprocess.run([sys.executable, str(ROOT / "benchmarks/flowvideo_prepare.py"), "--out", str(data),
                        "--passes", "2"], check=True)
    smoke = a.cpu_smoke
    gpu = {} if smoke else {"accelerator": "gpu", "devices": 1, "precision": "bf16-mixed"}
    steps_l, steps_f = (3, 3) if smoke else (20000, 20000)
    t0 = time.time()

    def export_lfae(trainer, module):
        module.model.eval()
        ck.save_lfae(module.model, out / "lfae/model.safetensors",
                     {"steps": int(trainer.global_step), "hardware": "gpu" if not smoke else "cpu"})
        module.model.train()

    train_lfae(data, out / "lfae", steps=steps_l, minutes=None if smoke else a.minutes / 2, batch=8 if smoke else 64,
               export=export_lfae, run_kw=dict(gpu, ckpt_every=2 if smoke else 1000, val_every=None if smoke else 1000),
               workers=0 if smoke else 8)

    def export_flow(trainer, module):
        ck.save_flowgen(module.flowgen(), out / "flow/model.safetensors")

    train_flow(data, out / "lfae/model.safetensors", out / "flow", steps=steps_f,
               minutes=None if smoke else a.minutes / 2, batch=2 if smoke else 32, export=export_flow,
               max_clips=4 if smoke else None,
               run_kw=dict(gpu, ckpt_every=2 if smoke else 1000, val_every=None if smoke else 1000),
               workers=0 if smoke else 8)
    if a.ship:
        lf, info = ck.load_lfae(out / "lfae/model.safetensors")
        ck.save_lfae(lf, ASSET_DIR / "flow_lfae.safetensors", info, half=True)
        ck.save_flowgen(ck.load_flowgen(out / "flow/model.safetensors"), ASSET_DIR / "flow_diffusion.safetensors",
                        half=True)
    print(f"done in {(time.time() - t0) / 60:.1f} min; torch {torch.__version__}")


if __name__ == "__main__":
    main()
