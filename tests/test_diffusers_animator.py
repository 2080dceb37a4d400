"""DiffusersAnimator: a tiny random diffusers ControlNet pipeline built here, saved as safetensors, loaded
through the adapter; the OpenPose condition image; bad folders -> InputError naming the path; the CLI."""
from __future__ import annotations

import importlib.util
import json
import os

import numpy as np
import pytest
from video_stick import stick_reference

from choreogen.errors import ConfigError, InputError
from choreogen.video.openpose import COLOURS, LIMB_BRIGHTNESS, LIMBS, OPENPOSE18, pose_image, to_openpose18

need_diffusers = pytest.mark.skipif(
    importlib.util.find_spec("diffusers") is None or importlib.util.find_spec("transformers") is None,
    reason="diffusers + transformers (optional extra choreogen[diffusers]) not installed")
D = 16  # cross-attention width of the tiny models


def _tiny_parts():
    import torch
    from diffusers import AutoencoderKL, ControlNetModel, DDIMScheduler, UNet2DConditionModel

    torch.manual_seed(0)
    blocks = dict(block_out_channels=(8, 16), layers_per_block=1, cross_attention_dim=D, norm_num_groups=4,
                  attention_head_dim=2, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"))
    unet = UNet2DConditionModel(sample_size=8, in_channels=4, out_channels=4,
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), **blocks)
    cn = ControlNetModel(in_channels=4, conditioning_embedding_out_channels=(4, 8, 8, 8), **blocks)
    with torch.no_grad():  # ControlNet's zero convs start at zero and a random condition encoder barely
        for m in list(cn.controlnet_down_blocks) + [cn.controlnet_mid_block]:  # sees a thin skeleton:
            m.weight.normal_(0, 0.3)  # make the condition matter, as training would
        for w in cn.controlnet_cond_embedding.parameters():
            w.normal_(0, 0.4)
    vae = AutoencoderKL(in_channels=3, out_channels=3, block_out_channels=(4, 8, 8, 8), layers_per_block=1,
                        down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
                        latent_channels=4, norm_num_groups=4, sample_size=64)
    sch = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                        set_alpha_to_one=False, steps_offset=1)
    return unet, cn, vae, sch


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    """A ControlNet img2img pipeline folder (no text encoder) and, separately, a plain SD img2img folder +
    a ControlNet folder; all safetensors."""
    from diffusers import StableDiffusionControlNetImg2ImgPipeline, StableDiffusionImg2ImgPipeline

    root = tmp_path_factory.mktemp("tiny_diffusers")
    unet, cn, vae, sch = _tiny_parts()
    none = dict(text_encoder=None, tokenizer=None, safety_checker=None, feature_extractor=None, image_encoder=None,
                requires_safety_checker=False)
    StableDiffusionControlNetImg2ImgPipeline(vae=vae, unet=unet, controlnet=cn, scheduler=sch, **none).save_pretrained(
        root / "pipe", safe_serialization=True)
    StableDiffusionImg2ImgPipeline(vae=vae, unet=unet, scheduler=sch, **none).save_pretrained(
        root / "base", safe_serialization=True)
    cn.save_pretrained(root / "cn", safe_serialization=True)
    return root


def _pose(ref, arms=0.0):
    k = ref.keypoints.astype(np.float64).copy()
    k[7:11, 1] -= arms
    return k


def test_pose_image_puts_limb_colours_on_the_limbs():
    ref = stick_reference()
    img = pose_image(ref.keypoints, ref.confidence, 256)
    assert img.shape == (256, 256, 3) and img.dtype == np.uint8
    k18, c18 = to_openpose18(ref.keypoints, ref.confidence)
    assert np.allclose(k18[OPENPOSE18.index("neck")], 0.5 * (ref.keypoints[5] + ref.keypoints[6]))
    for i, (a, b) in enumerate(LIMBS):  # the midpoint of each limb is its colour at 60 %
        if np.hypot(*(k18[a] - k18[b])) < 12:
            continue  # face limbs shorter than the joint discs
        x, y = np.round(0.5 * (k18[a] + k18[b])).astype(int)
        want = (COLOURS[i].astype(float) * LIMB_BRIGHTNESS).astype(int)
        assert np.abs(img[y, x].astype(int) - want).max() <= 2, (OPENPOSE18[a], OPENPOSE18[b], img[y, x], want)
    for j in (OPENPOSE18.index("left_wrist"), OPENPOSE18.index("right_ankle")):  # joints in full colour
        x, y = np.round(k18[j]).astype(int)
        assert np.array_equal(img[y, x], COLOURS[j])
    assert img[5, 5].max() == 0 and img[128, 20].max() == 0  # black away from the body
    assert COLOURS[0].tolist() == [255, 0, 0] and COLOURS[1].tolist() == [255, 85, 0] and COLOURS[12].tolist() == [0, 0, 255]
    low = ref.confidence.copy()
    low[[9, 10]] = 0.1  # wrists not visible: no forearms, nothing at the wrists
    img2 = pose_image(ref.keypoints, low, 256)
    x, y = np.round(ref.keypoints[9]).astype(int)
    assert img2[y, x].max() == 0 and img[y, x].max() > 0
    big = pose_image(ref.keypoints * 2, ref.confidence, 512)  # stick width and discs scale with the frame
    assert (big.max(2) > 0).mean() == pytest.approx((img.max(2) > 0).mean(), rel=0.35)  # a fixed width would halve it


@need_diffusers
def test_frames_deterministic_and_follow_the_pose(tiny_folder):
    from choreogen.video.diffusers_animator import DiffusersAnimator

    ref = stick_reference(size=64)
    ref.keypoints[:] = ref.keypoints * 0.25
    a = DiffusersAnimator.from_pretrained(tiny_folder / "pipe", steps=4, strength=0.75, guidance=2.0, init="reference")
    a.prepare(ref)
    f1 = a.render(_pose(ref), ref.confidence)
    f2 = a.render(_pose(ref), ref.confidence)
    f3 = a.render(_pose(ref, arms=8), ref.confidence)
    assert f1.shape == (64, 64, 3) and f1.dtype == np.uint8 and f1.std() > 1
    assert np.array_equal(f1, f2)  # same skeleton -> the same frame
    assert np.abs(f1.astype(int) - f3).mean() > 0.5  # the pose reaches the model through the ControlNet only
    frames = list(a.animate(type("D", (), {"keypoints": [_pose(ref), _pose(ref, 8)],
                                            "confidence": [ref.confidence] * 2})()))
    assert np.array_equal(frames[0], f1) and np.array_equal(frames[1], f3)
    b = DiffusersAnimator(a.pipe, steps=4, strength=0.75, guidance=2.0, init="reference", seed=1)
    b.prepare(ref)
    assert not np.array_equal(b.render(_pose(ref), ref.confidence), f1)  # the seed is the noise
    from choreogen.api import DiffusersAnimator as Public

    g = Public(a.pipe, steps=2, strength=0.5, guidance=1.0)  # default init: the geometric frame
    g.prepare(ref)
    g1, g3 = g.render(_pose(ref), ref.confidence), g.render(_pose(ref, 8), ref.confidence)
    assert g1.shape == (64, 64, 3) and not np.array_equal(g1, f1) and np.abs(g1.astype(int) - g3).mean() > 0.5


@need_diffusers
def test_base_pipeline_plus_separate_controlnet(tiny_folder):
    from choreogen.video.diffusers_animator import DiffusersAnimator

    ref = stick_reference(size=64)
    ref.keypoints[:] = ref.keypoints * 0.25
    a = DiffusersAnimator.from_pretrained(tiny_folder / "pipe", steps=2, strength=1.0, guidance=1.0, init="reference")
    b = DiffusersAnimator.from_pretrained(tiny_folder / "base", controlnet=tiny_folder / "cn", steps=2, strength=1.0,
                                          guidance=1.0, init="reference")
    a.prepare(ref)
    b.prepare(ref)
    assert np.array_equal(a.render(_pose(ref), ref.confidence), b.render(_pose(ref), ref.confidence))  # same weights


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


@need_diffusers
def test_bad_folders_name_the_path(tiny_folder, tmp_path):
    from choreogen.video.diffusers_animator import DiffusersAnimator

    load = DiffusersAnimator.from_pretrained
    cases = [(tmp_path / "nope", None, "not found")]  # (folder to load, path the message names, problem)
    (tmp_path / "empty").mkdir()
    cases.append((tmp_path / "empty", None, "no model_index.json"))
    (tmp_path / "model.ckpt").write_bytes(b"x" * 10)
    cases.append((tmp_path / "model.ckpt", None, "single checkpoint file"))
    pk = _copy(tiny_folder / "pipe", tmp_path / "pickle")
    w = pk / "unet" / "diffusion_pytorch_model.safetensors"
    w.rename(w.with_suffix(".bin"))
    cases.append((pk, pk / "unet", "pickle format (diffusion_pytorch_model.bin)"))
    nw = _copy(tiny_folder / "pipe", tmp_path / "noweights")
    (nw / "vae" / "diffusion_pytorch_model.safetensors").unlink()
    cases.append((nw, nw / "vae", "no vae weights"))
    cc = _copy(tiny_folder / "pipe", tmp_path / "custom")
    idx = json.loads((cc / "model_index.json").read_text())
    idx["unet"] = ["my_code", "MyUNet"]
    (cc / "model_index.json").write_text(json.dumps(idx))
    cases.append((cc, None, "no custom code"))
    cases.append((tiny_folder / "base", None, "no ControlNet"))
    bj = _copy(tiny_folder / "pipe", tmp_path / "badjson")
    (bj / "model_index.json").write_text("{ not json")
    cases.append((bj, bj / "model_index.json", "not valid JSON"))
    cl = _copy(tiny_folder / "pipe", tmp_path / "sdxl")
    idx = json.loads((cl / "model_index.json").read_text())
    idx["_class_name"] = "StableDiffusionXLControlNetPipeline"
    (cl / "model_index.json").write_text(json.dumps(idx))
    cases.append((cl, None, "unsupported pipeline class"))
    bc = _copy(tiny_folder / "pipe", tmp_path / "badconfig")
    (bc / "unet" / "config.json").write_text("{ broken")
    cases.append((bc, None, "cannot load the diffusers pipeline"))
    tr = _copy(tiny_folder / "pipe", tmp_path / "truncated")
    w = tr / "unet" / "diffusion_pytorch_model.safetensors"
    w.write_bytes(w.read_bytes()[:1000])
    cases.append((tr, None, "cannot load the diffusers pipeline"))
    for path, named, what in cases:
        with pytest.raises(InputError) as e:
            load(path)
        assert str(e.value).startswith(f"{named or path}: ") and what in str(e.value), (path, str(e.value))
    with pytest.raises(InputError, match="not a diffusers ControlNet folder"):
        load(tiny_folder / "base", controlnet=tmp_path / "empty")
    with pytest.raises(ConfigError, match="no text encoder"):
        load(tiny_folder / "pipe", prompt="a dancer")
    with pytest.raises(ConfigError, match="steps"):
        load(tiny_folder / "pipe", steps=0)
    with pytest.raises(ConfigError, match="unknown device"):
        load(tiny_folder / "pipe", device="gpu7")


def test_missing_diffusers_is_a_clear_error(monkeypatch):
    import sys

    from choreogen.video import diffusers_animator as da

    monkeypatch.setitem(sys.modules, "diffusers", None)
    monkeypatch.setitem(sys.modules, "diffusers.utils.logging", None)
    with pytest.raises(ConfigError, match=r"pip install 'choreogen\[diffusers\]'"):
        da._diffusers()


@need_diffusers
def test_cli_animator_diffusers(tiny_folder, tmp_path, run_cli):
    from choreogen.api import example_song
    from choreogen.io import save_motion
    from choreogen.motion import Motion
    from choreogen.render.encoder import probe

    need_mp = importlib.util.find_spec("mediapipe") is None or importlib.util.find_spec("skimage") is None
    out = tmp_path / "d.mp4"
    code, _, err = run_cli(["video", example_song(), "--image", "x.png", "--out", out, "--animator", "diffusers:"
                            + str(tmp_path / "missing")])
    assert code == 2 and "error:" in err and "missing" in err and "not found" in err
    code, _, err = run_cli(["video", example_song(), "--image", "x.png", "--out", out, "--animator", "geometric",
                            "--animator-steps", "3"])
    assert code == 2 and "--animator-steps" in err
    if need_mp:
        pytest.skip("mediapipe + scikit-image (optional extra choreogen[video]) not installed: no photo analysis")
    import skimage

    photo = os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png")
    ref = stick_reference()
    T = 8
    k = np.repeat(ref.keypoints[None].astype(np.float32), T, 0)
    k[:, 7:11, 1] -= np.linspace(0, 30, T, dtype=np.float32)[:, None]
    save_motion(Motion(skeleton="coco17", fps=30.0, joints=k, confidence=np.ones((T, 17), np.float32)), tmp_path / "kp.npz")
    code, so, err = run_cli(["video", example_song(), "--image", photo, "--out", out, "--keypoints", tmp_path / "kp.npz",
                             "--animator", f"diffusers:{tiny_folder / 'pipe'}", "--animator-steps", "2"])
    assert code == 0, err
    info = probe(out)
    assert info["video"] == ["h264"] and info["size"] == (256, 256) and "8 frames" in so
