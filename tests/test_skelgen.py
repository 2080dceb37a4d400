"""Audio-driven skeleton generation (latent diffusion, issue #6): tiny models built here, seconds on CPU."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from choreogen.errors import ConfigError, InputError
from choreogen.models.denoiser import DanceDenoiser, DenoiserConfig
from choreogen.models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig
from choreogen.tasks.skeleton import generate_skeleton
from choreogen.tasks.skeleton.generate import (
    ASSETS, IMAGE_SIZE, SkelGen, generate_latent_windows, load_skelgen, sample_latents, save_skelgen,
    stitch_windows, window_starts,
)

SR = 22050


def _song(path, seconds=3.0, bpm=120.0, silent=False):
    t = np.arange(int(seconds * SR)) / SR
    y = 0.2 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    for b in np.arange(0, seconds, 60.0 / bpm):  # clicks on the beats
        i = int(b * SR)
        y[i:i + 400] += 0.8 * np.exp(-np.arange(len(y[i:i + 400])) / 60.0)
    sf.write(path, np.zeros_like(y) if silent else y.astype(np.float32), SR)
    return path


def _tiny(layout="smpl24", window=16, overlap=4, seed=0) -> SkelGen:
    torch.manual_seed(seed)
    J, D = (24, 3) if layout == "smpl24" else (17, 2)
    vae = SkeletonVAE(SkeletonVAEConfig(num_joints=J, dim=D, d_model=16, n_heads=2, spatial_layers=1, temporal_layers=1,
                                        decoder_layers=1, latent_dim=4, max_frames=window, residual=False))
    den = DanceDenoiser(DenoiserConfig(motion_dim=4, music_dim=35, d_model=16, n_layers=1, n_heads=2, dropout=0.0))
    torch.nn.init.normal_(den.out.weight, std=0.3)  # zero-initialised output: give it a signal
    for blk in den.blocks:
        torch.nn.init.normal_(blk.film.weight, std=0.3)
    stats = {"music_mean": torch.zeros(35), "music_std": torch.ones(35) * 5,
             "latent_mean": torch.zeros(4), "latent_std": torch.ones(4)}
    info = {"skeleton": layout, "dim": D, "fps": 30.0, "window": window, "overlap": overlap, "music_kind": "baseline35",
            "num_steps": 100, "schedule": "cosine", "guidance": 2.0}
    return SkelGen(vae.eval(), den.eval(), stats, info)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("skelgen")
    out = {"song": _song(d / "song.wav"), "silent": _song(d / "silent.wav", silent=True),
           "short": _song(d / "short.wav", seconds=0.4), "long": _song(d / "long.wav", seconds=6.0)}
    for layout in ("smpl24", "coco17"):
        out[layout] = save_skelgen(_tiny(layout), d / f"{layout}.safetensors")
    return out


def test_checkpoint_round_trip(tmp_path):
    g = _tiny()
    p = save_skelgen(g, tmp_path / "g.safetensors")
    h = load_skelgen(p)
    assert h.info == g.info
    for a, b in zip(g.denoiser.state_dict().values(), h.denoiser.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(g.vae.state_dict().values(), h.vae.state_dict().values()):
        assert torch.equal(a, b)
    assert torch.equal(h.stats["music_std"], g.stats["music_std"])


def test_3d_shapes_units_and_determinism(files):
    m = generate_skeleton(files["song"], model="skeleton3d", seed=3, steps=5, checkpoint=files["smpl24"])
    assert m.skeleton == "smpl24" and m.fps == 30.0
    assert m.joints.shape == (90, 24, 3)  # 3 s at 30 fps
    assert np.isfinite(m.joints).all()
    assert abs(m.joints[..., 1].min()) < 1e-5  # floor at y = 0
    assert np.allclose(m.joints[0, 0, [0, 2]], 0, atol=1e-5)  # root at the xz origin at frame 0
    again = generate_skeleton(files["song"], model="skeleton3d", seed=3, steps=5, checkpoint=files["smpl24"])
    assert np.array_equal(m.joints, again.joints)
    other = generate_skeleton(files["song"], model="skeleton3d", seed=4, steps=5, checkpoint=files["smpl24"])
    assert np.abs(other.joints - m.joints).max() > 1e-3
    short = generate_skeleton(files["song"], model="skeleton3d", seconds=1.5, seed=3, steps=5, checkpoint=files["smpl24"])
    assert short.joints.shape == (45, 24, 3)


def test_2d_pixels_centred(files):
    m = generate_skeleton(files["song"], model="skeleton2d", seed=0, steps=5, checkpoint=files["coco17"])
    assert m.skeleton == "coco17" and m.joints.shape == (90, 17, 2)
    assert m.meta["image_size"] == [IMAGE_SIZE, IMAGE_SIZE]
    c = m.joints.mean(1)  # the follow camera keeps the body centre near the image centre
    assert np.abs(c - IMAGE_SIZE / 2).max() < IMAGE_SIZE / 4
    assert m.confidence.shape == (90, 17) and (m.confidence == 1).all()


def test_music_conditions_the_latents():
    g = _tiny(window=16, overlap=4)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 35)).astype(np.float32) * 5
    b = rng.normal(size=(40, 35)).astype(np.float32) * 5
    la, _ = generate_latent_windows(g, a, seed=1, steps=4)
    lb, _ = generate_latent_windows(g, b, seed=1, steps=4)
    assert np.abs(la - lb).max() > 1e-3  # other music, other dance
    ua, _ = generate_latent_windows(g, a, seed=1, steps=4, guidance=0.0)
    ub, _ = generate_latent_windows(g, b, seed=1, steps=4, guidance=0.0)
    np.testing.assert_allclose(ua, ub, atol=1e-5)  # guidance 0 = unconditional: music is ignored


def test_overlap_latents_are_shared():
    g = _tiny()
    W, O, K = 16, 6, 4
    seen = {}

    def denoise(x, t):
        seen["calls"] = seen.get("calls", 0) + 1
        return torch.tanh(x) * 0.5 + torch.arange(K, dtype=x.dtype)[:, None, None]  # windows disagree

    from choreogen.diffusion.schedule import NoiseSchedule

    z = sample_latents(denoise, K, W, O, 4, NoiseSchedule(100), steps=5, generator=torch.Generator().manual_seed(0),
                       inpaint=True)
    S = W - O
    for k in range(K - 1):  # window k+1's first O frames are exactly window k's last O frames
        assert torch.equal(z[k + 1, :O], z[k, S:S + O])
    assert seen["calls"] == 5 and g is not None


def test_stitch_recovers_a_trajectory_known_answer():
    rng = np.random.default_rng(0)
    T, W, O, J = 100, 20, 8, 5
    t = np.arange(T)[:, None, None]
    truth = np.concatenate([np.sin(t / 7.0 + np.arange(J)[None, :, None]) + 0.03 * t,
                            np.cos(t / 5.0) + 0 * np.arange(J)[None, :, None], 0.02 * t + 0 * np.arange(J)[None, :, None]], -1)
    starts = window_starts(T, W, O)
    padded = np.concatenate([truth, np.repeat(truth[-1:], starts[-1] + W - T, 0)])
    local = np.stack([padded[s:s + W] for s in starts]).copy()
    local[..., [0, 2]] -= local[..., [0, 2]].mean((1, 2), keepdims=True)  # each window centred in x/z
    local[..., [0, 2]] += rng.normal(size=(len(starts), 1, 1, 2))
    out = stitch_windows(local, starts, T, shift_axes=(0, 2))
    assert out.shape == (T, J, 3)
    shift = (truth - out)[..., [0, 2]].reshape(-1, 2)
    np.testing.assert_allclose(shift, np.broadcast_to(shift[0], shift.shape), atol=1e-9)  # only a global shift
    np.testing.assert_allclose(out[..., 1], truth[..., 1], atol=1e-12)


def test_long_song_has_no_seams(files):
    m = generate_skeleton(files["long"], model="skeleton3d", seed=0, steps=5, checkpoint=files["smpl24"])
    W, O = m.meta["window"], m.meta["overlap"]
    assert m.meta["windows"] == len(window_starts(180, W, O)) > 10
    jump = np.linalg.norm(np.diff(m.joints, axis=0), axis=-1).mean(1)  # (T-1,) mean joint step per frame
    S = W - O
    boundary = [s + d for s in range(S, 180 - 1, S) for d in range(O) if s + d < len(jump)]
    inside = np.setdiff1d(np.arange(len(jump)), boundary)
    assert jump[boundary].max() <= 1.5 * np.percentile(jump[inside], 99)
    # window starts (where a new window's own frame begins to weigh) are no rougher than elsewhere
    starts = [s for s in range(S, 180 - 1, S)]
    assert jump[starts].mean() <= 1.5 * jump[inside].mean()


def test_bad_inputs(files, tmp_path):
    ck = files["smpl24"]
    with pytest.raises(InputError, match="not found|does not exist|no such"):
        generate_skeleton(tmp_path / "nope.wav", model="skeleton3d", checkpoint=ck)
    with pytest.raises(InputError):
        generate_skeleton(files["short"], model="skeleton3d", checkpoint=ck)
    with pytest.raises(InputError, match="silent"):
        generate_skeleton(files["silent"], model="skeleton3d", checkpoint=ck)
    with pytest.raises(InputError, match="checkpoint not found"):
        generate_skeleton(files["song"], model="skeleton3d", checkpoint=tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="safetensors"):
        generate_skeleton(files["song"], model="skeleton3d", checkpoint=bad)
    with pytest.raises(InputError, match="coco17"):
        generate_skeleton(files["song"], model="skeleton3d", checkpoint=files["coco17"])
    with pytest.raises(ConfigError):
        generate_skeleton(files["song"], model="skeleton4d", checkpoint=ck)
    with pytest.raises(ConfigError, match="steps"):
        generate_skeleton(files["song"], model="skeleton3d", steps=0, checkpoint=ck)
    with pytest.raises(ConfigError, match="seconds"):
        generate_skeleton(files["song"], model="skeleton3d", seconds=-1, checkpoint=ck)


SHIPPED = [("skeleton2d", "coco17"), ("skeleton3d", "smpl24")]


@pytest.mark.parametrize("model,layout", SHIPPED)
def test_shipped_models(files, model, layout):
    if not (ASSETS / f"skelgen_{layout}.safetensors").exists():
        pytest.skip("shipped skeleton generation model not present")
    m = generate_skeleton(files["long"], model=model, seed=0)
    j = m.joints
    assert np.isfinite(j).all() and j.shape[0] == 180
    step = np.linalg.norm(np.diff(j, axis=0), axis=-1).mean(1)  # (T-1,) mean joint step per frame
    speed = step.mean()
    # no jump where windows join (with overlap W/2 every later frame is in a cross-fade): the largest
    # frame-to-frame step stays within a few times the typical one
    assert step.max() <= 4 * np.percentile(step, 90), (step.max(), np.percentile(step, 90))
    if layout == "coco17":
        assert (j >= 0).all() and (j <= IMAGE_SIZE).all()  # within the frame
        height = np.percentile(j[..., 1].max(1) - j[..., 1].min(1), 50)
        assert 0.3 * IMAGE_SIZE < height < 0.8 * IMAGE_SIZE
        assert speed > 0.5  # pixels per frame: it moves
    else:
        assert abs(j[..., 1].min()) < 1e-4
        height = np.percentile(j[..., 1].max(1) - j[..., 1].min(1), 50)
        assert 1.2 < height < 2.1  # metres: a standing person
        assert speed > 2e-3  # metres per frame: it moves


def test_decoder_finetune_keeps_the_latent_space_and_learns(tang_dir):
    """Decoder-only fine-tuning: encoder (so latents and the denoiser's data) bit-identical, loss falls."""
    from choreogen.io import load_motion
    from choreogen.tasks.skeleton.normalize import normalize, window_center
    from choreogen.tasks.skeleton.skelgen_decoder import DECODER_PARTS, DecoderFinetune, rms_speed

    gen = _tiny("smpl24")
    j = load_motion(tang_dir / "DANCE_W_1.npz").resample(30).canonical().positions()[:160].astype(np.float64)
    xs = []
    for a in range(0, 160 - 16 + 1, 16):
        x = j[a:a + 16]
        xs.append(normalize(x, window_center(x, np.ones(x.shape[:2], bool)), 1.0))
    batch = {"x": torch.tensor(np.stack(xs), dtype=torch.float32), "valid": torch.ones(len(xs), 16, 24, dtype=torch.bool)}
    m = DecoderFinetune(gen, latent_noise=0.0, energy=1.0)
    enc0 = {k: v.clone() for k, v in m.vae.state_dict().items() if k.split(".")[0] not in DECODER_PARTS}
    dec0 = {k: v.clone() for k, v in m.vae.state_dict().items() if k.split(".")[0] in DECODER_PARTS}
    with torch.no_grad():
        mu0, _ = gen.vae.encode(batch["x"], batch["valid"])
    opt = torch.optim.Adam([p for p in m.vae.parameters() if p.requires_grad], lr=3e-3)
    m.train()
    torch.manual_seed(0)
    first = m.losses(batch)["loss"].item()
    for _ in range(60):
        opt.zero_grad()
        m.losses(batch)["loss"].backward()
        opt.step()
    m.eval()
    assert m.losses(batch)["loss"].item() < 0.7 * first
    sd = m.vae.state_dict()
    assert all(torch.equal(sd[k], v) for k, v in enc0.items())  # encoder untouched
    assert any(not torch.equal(sd[k], v) for k, v in dec0.items())  # decoder trained
    with torch.no_grad():
        mu1, _ = m.vae.encode(batch["x"], batch["valid"])
    torch.testing.assert_close(mu0, mu1, rtol=0, atol=1e-6)  # the same weights, the same latents
    assert m.vae is not gen.vae  # the (cached) loaded generator is never trained in place
    # rms_speed: 0.1 units per frame at 30 fps = 3 units/s
    track = torch.arange(10, dtype=torch.float32)[None, :, None, None].expand(1, 10, 2, 3) * torch.tensor([0.1, 0.0, 0.0])
    np.testing.assert_allclose(rms_speed(track).numpy(), 3.0, rtol=1e-5)


def test_cli_decoder_finetune_refuses_the_wrong_layout(run_cli, tmp_path, files):
    out = tmp_path / "run"
    code, _, err = run_cli(["train-skeleton", "--layout", "coco17", "--data", tmp_path, "--out", out,
                            "--decoder-of", files["smpl24"]])
    assert code == 2 and "is for 'smpl24', not coco17" in err and "Traceback" not in err
    assert not out.exists()
    code, _, err = run_cli(["train-skeleton", "--layout", "smpl24", "--data", tmp_path, "--out", out,
                            "--decoder-of", tmp_path / "missing.safetensors"])
    assert code == 2 and "generator not found" in err and not out.exists()


def test_latent_diffusion_exports_the_ema_denoiser():
    from choreogen.tasks.skeleton.train_skelgen import LatentDiffusionModule

    g = _tiny("smpl24")
    vae_cfg, den_cfg = g.vae.cfg.to_dict(), g.denoiser.cfg.to_dict()
    m = LatentDiffusionModule(vae_cfg, den_cfg, ema_decay=0.5)
    p0 = [p.detach().clone() for p in m.denoiser.parameters()]
    m.on_train_batch_end(None, None, 0)  # the first update copies the weights
    with torch.no_grad():
        for p in m.denoiser.parameters():
            p.add_(1.0)
    m.on_train_batch_end(None, None, 1)  # then ema = 0.5 ema + 0.5 new
    exported = m.export_denoiser()
    assert exported is not m.denoiser
    for a, b in zip(exported.parameters(), p0):
        torch.testing.assert_close(a, b + 0.5)
    raw = LatentDiffusionModule(vae_cfg, den_cfg, ema_decay=0.0)
    assert raw.export_denoiser() is raw.denoiser
