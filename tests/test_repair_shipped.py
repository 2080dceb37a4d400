"""The shipped repair models (choreogen/assets/models/repair_*.safetensors) on real held-out data."""
from __future__ import annotations

import numpy as np
import pytest

from choreogen.repair import baselines, evaluate
from choreogen.repair.checkpoint import load_vae
from choreogen.repair.pipeline import ASSETS, SHIPPED


@pytest.mark.parametrize("layout", ["coco17", "smpl24"])
def test_shipped_models_load_small_and_safe(layout):
    p = ASSETS / SHIPPED[layout]
    assert p.stat().st_size < 2_000_000
    m, info = load_vae(p)
    assert info["skeleton"] == layout and info["masking"] is True and m.cfg.residual


def test_shipped_coco17_on_heldout_aist_view(shared_data):
    """AIST++ ch07 view 0 (never trained on), 10 % of present joints and 10-frame runs hidden."""
    from choreogen.data.formats import load_pickle_motion

    mo = load_pickle_motion(shared_data / "aistpp/keypoints2d/gBR_sBM_cAll_d04_mBR0_ch07.pkl", view=0)
    seqs = [(mo.joints[::2].astype(np.float64), mo.confidence[::2] >= 0.3)]
    model, _ = load_vae(ASSETS / SHIPPED["coco17"])
    res = evaluate.evaluate(seqs, {"vae": evaluate.vae_method(model), "linear": baselines.interpolate_linear},
                            [("random", 0.1, 0), ("frames", 0.1, 10)], with_fid=False)
    limits = {"random@0.1": 0.05, "frames-run10@0.1": 0.15}  # body heights
    for key, cond in res.items():
        assert cond["vae"]["mpjpe"] < limits[key]
        # interpolation at 30 fps is a strong baseline: the shipped VAE stays within 5 % of it
        assert cond["vae"]["mpjpe"] < 1.05 * cond["linear"]["mpjpe"]
