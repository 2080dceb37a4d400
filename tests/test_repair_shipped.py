"""The shipped repair models (choreogen/assets/models/repair_*.safetensors) on real held-out data.

Values, not shapes: on fixed held-out windows (never trained on) the VAE's error on the hidden
joints must be clearly below linear interpolation's (the baseline of issue #6); in 3D also below
the cubic (Akima) spline the model corrects, in 2D within a few per cent of it.
"""
from __future__ import annotations

import numpy as np
import pytest

from choreogen.tasks.skeleton import baselines, evaluate
from choreogen.tasks.skeleton.checkpoint import load_vae
from choreogen.tasks.skeleton.repair import ASSETS, SHIPPED

# VAE error / baseline error must stay below these on the fixed held-out windows (docs/REPAIR.md):
# 3D: 0.4-0.6 x linear; 2D on a real detector view 0.78-0.88 x linear and ~1.0 x Akima (the
# detector's own jitter in the ground truth sets a floor both reach).
RATIO_3D = {"linear": 0.75}  # vs the Akima spline: per condition in the 3D tests
RATIO_2D = {"linear": 0.92, "cubic": 1.06}


@pytest.mark.parametrize("layout", ["coco17", "smpl24"])
def test_shipped_models_load_small_and_safe(layout):
    p = ASSETS / SHIPPED[layout]
    assert p.stat().st_size < 2_000_000
    m, info = load_vae(p)
    assert info["skeleton"] == layout and info["masking"] is True and m.cfg.residual
    assert m.cfg.base == "cubic" and info["steps"] >= 800


def _compare(seqs, model, conditions):
    methods = {"vae": evaluate.vae_method(model), "linear": baselines.interpolate_linear,
               "cubic": baselines.interpolate_cubic}
    return evaluate.evaluate(seqs, methods, conditions, with_fid=False)


def _w10(tang_dir):
    from choreogen.tasks.skeleton import data

    seq = next(s for s in data.tang_sequences(tang_dir, "val") if s.name == "DANCE_W_10")
    return [(seq.joints[:900], seq.valid[:900])]


def test_shipped_smpl24_beats_the_spline_on_limb_gaps(tang_dir):
    """The shipped 3D model (the issue-13 body-frame model, shipped 2026-12-03 with the rigid-fit guard)
    on DANCE_W_10 (val, first 30 s). Measured 2026-12-02: random 10 % 1.04x Akima (0.90x over all 9 val
    dances), 10/20-frame runs 0.95x / 0.98x, 1 s / 2 s runs of a whole arm or leg 0.49x / 0.48x."""
    model, _ = load_vae(ASSETS / SHIPPED["smpl24"])
    assert model.cfg.reference == "body" and model.cfg.long_scale > 0
    res = _compare(_w10(tang_dir), model, [("random", 0.1, 0), ("frames", 0.1, 10), ("frames", 0.1, 20),
                                           ("limb", 0.1, 30), ("limb", 0.1, 60)])
    cubic = {"random@0.1": 1.06, "frames-run10@0.1": 1.0, "frames-run20@0.1": 1.0,
             "limb-run30@0.1": 0.6, "limb-run60@0.1": 0.6}
    for key, r in res.items():
        assert r["vae"]["mpjpe"] < RATIO_3D["linear"] * r["linear"]["mpjpe"], key
        assert r["vae"]["mpjpe"] < cubic[key] * r["cubic"]["mpjpe"], key


def test_shipped_smpl24_does_not_throw_a_hidden_foot(tang_dir):
    """The Table-3 condition that once threw a foot 1.03 m off (DANCE_W_16, 0.5 s runs of a whole limb,
    seed of benchmarks/repair_table3.py): the rigid-fit guard keeps every hidden joint within 0.3 m
    (unguarded: 1.03 m; the Akima spline's worst there: 0.06 m)."""
    from choreogen.motion.skeleton import get_skeleton
    from choreogen.tasks.skeleton import data

    seq = next(s for s in data.tang_sequences(tang_dir, "val") if s.name == "DANCE_W_16")
    j, v = seq.joints.astype(np.float64), seq.valid
    obs = evaluate.damage_condition(v, "limb", 0.1, 4000 + 5, 15, get_skeleton("smpl24"))
    model, _ = load_vae(ASSETS / SHIPPED["smpl24"])
    x = np.where(obs[..., None], j, 0.0)
    body = baselines.interpolate_body(x, obs, get_skeleton("smpl24").parents)
    rep = evaluate.vae_method(model)(x, obs)
    hid = ~obs & v
    assert hid.sum() > 500
    assert np.linalg.norm(body - j, axis=-1)[hid].max() < 0.3
    assert np.linalg.norm(rep - j, axis=-1)[hid].max() < 0.3


def test_shipped_coco17_beats_interpolation_on_heldout_aist_view(shared_data):
    """AIST++ ch07 view 0 (never trained on), 10 % of present joints and 10-frame runs hidden."""
    from choreogen.io.formats import load_pickle_motion

    mo = load_pickle_motion(shared_data / "aistpp/keypoints2d/gBR_sBM_cAll_d04_mBR0_ch07.pkl", view=0)
    seqs = [(mo.joints[::2].astype(np.float64), mo.confidence[::2] >= 0.3)]
    model, _ = load_vae(ASSETS / SHIPPED["coco17"])
    res = _compare(seqs, model, [("random", 0.1, 0), ("frames", 0.1, 10)])
    for key, r in res.items():
        assert r["vae"]["mpjpe"] < RATIO_2D["linear"] * r["linear"]["mpjpe"], key
        assert r["vae"]["mpjpe"] < RATIO_2D["cubic"] * r["cubic"]["mpjpe"], key
