"""The learned refiner of the photo animator: shapes, pass-through, determinism, training, checkpoints, CLI."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from video_stick import stick_reference

from choreogen.errors import InputError
from choreogen.models.refiner import IN_CHANNELS, Refiner, RefinerConfig, compose
from choreogen.video.animator import GeometricAnimator
from choreogen.video.refined_animator import RefinedAnimator, load_refiner, refiner_inputs, save_refiner

TINY = RefinerConfig(widths=(4, 8), res=32)


def _pose():
    ref = stick_reference()
    k = ref.keypoints.copy()
    k[7:11, 1] -= 25  # arms up
    k[:, 0] += 6
    return ref, k, np.ones(17, np.float32)


def test_refiner_shapes_and_initial_near_identity():
    torch.manual_seed(0)
    m = Refiner(TINY)
    x = torch.rand(2, IN_CHANNELS, 32, 32)
    r, lg = m(x)
    assert r.shape == (2, 3, 32, 32) and lg.shape == (2, 1, 32, 32)
    assert torch.all(r == 0) and torch.allclose(torch.sigmoid(lg), torch.tensor(0.0474), atol=1e-3)
    warp = torch.rand(2, 3, 64, 64)
    out, mask = compose(warp, torch.ones(2, 3, 32, 32), torch.zeros(2, 1, 32, 32))
    assert out.shape == (2, 3, 64, 64) and mask.shape == (2, 1, 64, 64)
    assert torch.allclose(out, (warp + 0.5).clamp(0, 1))


def test_closed_mask_passes_the_warp_through_and_frames_are_deterministic():
    ref, k, c = _pose()
    m = Refiner(TINY)
    with torch.no_grad():
        m.head.bias[3] = -60.0  # blend mask shut everywhere
        m.head.bias[:3] = 0.7  # a big residual that must not show
    anim = RefinedAnimator(m)
    anim.prepare(ref)
    geo = GeometricAnimator()
    geo.prepare(ref)
    f = anim.render(k, c)
    assert f.shape == (256, 256, 3) and f.dtype == np.uint8
    assert np.array_equal(f, geo.render(k, c))
    with torch.no_grad():
        m.head.bias[3] = 60.0  # mask open: the residual shows (+0.7 -> mostly white)
    g = anim.render(k, c)
    assert g.mean() > f.mean() + 60
    assert np.array_equal(g, anim.render(k, c))  # deterministic per frame


def test_gated_mask_touches_only_holes_near_the_body():
    ref, k, c = _pose()
    m = Refiner(RefinerConfig(widths=(4, 8), res=32, gate=True, grow=3))
    with torch.no_grad():
        m.head.bias[3] = 60.0  # mask wide open ...
        m.head.bias[:3] = 0.7
    anim = RefinedAnimator(m)
    anim.prepare(ref)
    out, mask, alpha = anim.refine(k, c)
    warp, _ = anim.geo.warp(k, c)
    covered = alpha == 1.0
    far = np.ones((256, 256), bool)
    far[12:, 50:210] = False  # the stick figure and its dilated surroundings lie inside
    assert covered.sum() > 3000 and np.array_equal(out[covered], warp[covered])  # ... but the photo passes
    assert np.array_equal(out[far], warp[far]) and mask[far].max() == 0
    hole = (alpha < 0.01) & (mask > 0.5)  # e.g. where the arm was: the refiner paints there
    assert hole.sum() > 200 and (out[hole] - warp[hole]).mean() > 0.3


def test_warp_alpha_covers_the_person():
    ref, k, c = _pose()
    geo = GeometricAnimator()
    geo.prepare(ref)
    frame, alpha = geo.warp(ref.keypoints, c)
    assert frame.dtype == np.float32 and alpha.shape == (256, 256)
    inside = ref.mask > 0.5
    assert alpha[inside].mean() > 0.95 and alpha[~inside].mean() < 0.02
    assert np.abs(frame * 255 - ref.image.astype(np.float32))[inside].mean() < 3


def _pair(res=32):
    ref, k, c = _pose()
    geo = GeometricAnimator()
    geo.prepare(ref)
    warp, alpha = geo.warp(k, c)
    from choreogen.video.refined_animator import downsample

    t = lambda a: torch.from_numpy(downsample(a, res).transpose(2, 0, 1).copy())[None]  # noqa: E731
    o = lambda a: torch.from_numpy(downsample(a, res))[None, None]  # noqa: E731
    target = warp.copy()
    target[alpha < 0.5] *= 0.5  # the "real" frame: a darker background than the warp's
    return (t(warp), o(alpha), torch.from_numpy(k)[None], torch.from_numpy(c)[None], t(ref.image / 255.0),
            o(ref.mask), t(target))


def test_a_few_training_steps_reduce_l1():
    from choreogen.tasks.posevideo.refiner_train import RefinerModule

    torch.manual_seed(0)
    warp, alpha, k, c, ref, rmask, target = _pair()
    module = RefinerModule(TINY.to_dict(), frame_size=256.0, ssim_w=0.0, mask_w=0.0)
    batch = {"warp": warp, "alpha": alpha, "keypoints": k, "confidence": c, "ref": ref, "ref_mask": rmask,
             "target": target, "target_mask": alpha}
    opt = torch.optim.Adam(module.model.parameters(), 1e-2)
    first = float(module.losses(batch, module.model)["l1"])
    for _ in range(40):
        loss = module.losses(batch, module.model)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    last = float(module.losses(batch, module.model)["l1"])
    assert first > 0.05 and last < 0.6 * first
    x = refiner_inputs(warp, alpha, k, c, 256.0, ref, rmask)
    assert x.shape == (1, IN_CHANNELS, 32, 32) and float(x[:, 4:14].max()) == pytest.approx(1.0)


def test_checkpoint_round_trip_and_bad_files(tmp_path):
    torch.manual_seed(1)
    m = Refiner(TINY)
    with torch.no_grad():
        m.head.weight.normal_(0, 0.1)
    p = save_refiner(m, tmp_path / "r.safetensors", {"steps": 3})
    back = load_refiner(p)
    x = torch.rand(1, IN_CHANNELS, 32, 32)
    with torch.no_grad():
        assert torch.allclose(back(x)[0], m(x)[0], atol=1e-6)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(InputError, match="bad.safetensors"):
        RefinedAnimator(bad)
    from choreogen import checkpoints

    env = checkpoints.read(p)
    env.config["model"]["widths"] = [4, 16]
    checkpoints.write(tmp_path / "mismatch.safetensors", env)
    with pytest.raises(InputError, match="mismatch.safetensors.*|do not match"):
        load_refiner(tmp_path / "mismatch.safetensors")
    with pytest.raises(InputError, match="missing.safetensors"):
        RefinedAnimator(tmp_path / "missing.safetensors")


def test_cli_animator_refined(tmp_path, run_cli):
    from choreogen.api import PoseVideoPipeline, RefinedAnimator as ApiRefined, example_song
    from choreogen.cli import cmd_video
    from choreogen.io import save_motion
    from choreogen.motion import Motion
    from choreogen.render.encoder import probe

    assert ApiRefined is RefinedAnimator
    ck = save_refiner(Refiner(TINY), tmp_path / "tiny.safetensors", {"steps": 0})
    anim = cmd_video._animator(f"refined:{ck}", None, "", "cpu", "pose")
    assert isinstance(anim, RefinedAnimator) and anim.model.cfg.widths == (4, 8)
    out = tmp_path / "d.mp4"
    code, _, err = run_cli(["video", example_song(), "--image", "x.png", "--out", out, "--animator",
                            f"refined:{tmp_path / 'nope.safetensors'}"])
    assert code == 2 and "error:" in err and "nope.safetensors" in err and not out.exists()
    code, _, err = run_cli(["video", example_song(), "--image", "x.png", "--out", out, "--animator", "refined",
                            "--animator-steps", "2"])
    assert code == 2 and "--animator-steps" in err
    ref = stick_reference()
    T = 6
    kp = np.repeat(ref.keypoints[None], T, 0)
    kp[:, 7:11, 1] -= np.linspace(0, 30, T, dtype=np.float32)[:, None]
    drv = Motion(skeleton="coco17", fps=30.0, joints=kp, confidence=np.ones((T, 17), np.float32))
    PoseVideoPipeline(lambda *a, **k: drv, anim)(example_song(), ref, out, motion=drv)
    assert probe(out)["size"] == (256, 256)
    if importlib.util.find_spec("mediapipe") is None or importlib.util.find_spec("skimage") is None:
        pytest.skip("mediapipe + scikit-image (optional extra choreogen[video]) not installed: no photo analysis")
    import skimage

    photo = Path(skimage.__file__).parent / "data" / "astronaut.png"
    save_motion(drv, tmp_path / "kp.npz")
    out2 = tmp_path / "cli.mp4"
    code, so, err = run_cli(["video", example_song(), "--image", photo, "--out", out2, "--keypoints",
                             tmp_path / "kp.npz", "--animator", f"refined:{ck}"])
    assert code == 0, err
    assert probe(out2)["size"] == (256, 256) and f"{T} frames" in so
