"""The latent generator (motion autoencoder + diffusion over its latents): representation, model,
training of both stages with tiny models, one-file checkpoint, generation, editing."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from choreogen.models.motion_ae import MotionAE, MotionAEConfig
from choreogen.motion.representation import root_from_velocity, root_to_velocity
from test_generator_train import _dance, _song, prepared  # noqa: F401  (module fixture)

TINY_AE = {"ae": {"latent_dim": 8, "widths": [16, 16, 16], "strides": [2, 3], "blocks": 1, "kernel": 3},
           "train": {"max_steps": 6, "batch_size": 8, "val_every": 3, "ckpt_every": 3, "limit_val_batches": 1,
                     "warmup_steps": 1, "lr": 1e-3}}


def test_root_velocity_round_trip():
    x = torch.randn(3, 40, 151, dtype=torch.float64)
    x[..., [4, 6]] -= x[:, :1, [4, 6]]  # recentred windows start at the origin
    v = root_to_velocity(x, 30.0)
    assert torch.allclose(v[:, 5, 4], (x[:, 6, 4] - x[:, 5, 4]) * 30.0)
    assert torch.equal(v[..., 7:], x[..., 7:]) and torch.equal(v[..., 5], x[..., 5])
    assert torch.allclose(root_from_velocity(v, 30.0), x, atol=1e-9)
    moved = x.clone()
    moved[..., [4, 6]] += torch.tensor([2.0, -1.0], dtype=x.dtype)
    assert torch.allclose(root_to_velocity(moved, 30.0), v, atol=1e-9)  # translation-invariant


def test_autoencoder_shapes_and_any_length():
    torch.manual_seed(0)
    ae = MotionAE(MotionAEConfig(**TINY_AE["ae"], motion_dim=151)).double().eval()
    z = ae.encode(torch.randn(2, 150, 151, dtype=torch.float64))
    assert z.shape == (2, 25, 8)
    assert ae.decode(z).shape == (2, 150, 151)
    assert ae.decode(torch.randn(1, 1000, 8, dtype=torch.float64)).shape == (1, 6000, 151)  # a whole song in one pass
    with pytest.raises(ValueError, match="multiple of the autoencoder factor 6"):
        ae.encode(torch.randn(1, 100, 151, dtype=torch.float64))
    # fully convolutional, no statistics over time: decoding a long track equals decoding its middle piece
    # away from the borders (float64: exact up to rounding on any BLAS)
    long = torch.randn(1, 60, 8, dtype=torch.float64)
    a = ae.decode(long)[0, 120:240]
    b = ae.decode(long[:, 10:50])[0, 60:180]
    assert torch.allclose(a, b, atol=1e-9)
    assert not torch.allclose(ae.decode(long)[0, :6], ae.decode(long[:, 1:])[0, :6], atol=1e-3)  # it is not constant


@pytest.fixture(scope="module")
def latent_ckpt(prepared, tmp_path_factory):  # noqa: F811
    from choreogen.tasks.dance3d.config import GeneratorConfig
    from choreogen.tasks.dance3d.latent_ae import train_ae
    from choreogen.tasks.dance3d.latent_module import train_latent_generator

    out = tmp_path_factory.mktemp("lat")
    ae_path = train_ae(prepared, out / "ae", TINY_AE)
    cfg = GeneratorConfig.from_dict({
        "model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "ff_mult": 2, "dropout": 0.0, "music_layers": 1},
        "diffusion": {"num_steps": 100, "sample_steps": 4, "guidance": 1.5},
        "train": {"batch_size": 8, "max_steps": 6, "val_every": 3, "ckpt_every": 3, "warmup_steps": 1, "lr": 1e-3,
                  "mirror_prob": 0.5}})
    return train_latent_generator(prepared, ae_path, out / "gen", cfg)


def test_latent_checkpoint_is_one_file_that_generates(latent_ckpt, tmp_path):
    from choreogen.tasks.dance3d.checkpoint import load_generator
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline

    gen = load_generator(latent_ckpt)
    assert gen.config.latent and gen.ae is not None and gen.ae.cfg.factor == 6
    assert gen.config.model.patch == 1 and gen.config.model.motion_dim == 8
    assert gen.config.model.music_dim == 6 * 80  # 80-D mel features stacked to the latent rate
    _song(tmp_path / "s.wav", 3.5)
    pipe = Dance3DPipeline(gen)
    a = pipe(tmp_path / "s.wav", seed=3).motion
    b = pipe(tmp_path / "s.wav", seed=3).motion
    c = pipe(tmp_path / "s.wav", seed=4).motion
    assert a.joints.shape == (105, 24, 3) and np.isfinite(a.joints).all()
    assert np.array_equal(a.joints, b.joints)
    assert not np.allclose(a.joints, c.joints)


def test_latent_editing_keeps_the_given_joints(latent_ckpt, tmp_path):
    from choreogen.tasks.dance3d.checkpoint import load_generator
    from choreogen.tasks.dance3d.editing import keep_joints
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline
    from choreogen.motion.sequence import Motion

    gen = load_generator(latent_ckpt)
    poses, trans = _dance(2.0, seed=7)
    ref = Motion(skeleton="smpl24", fps=30.0, poses=poses, trans=trans).canonical()
    _song(tmp_path / "s.wav", 2.0)
    con = keep_joints(ref, "lower")
    res = Dance3DPipeline(gen)(tmp_path / "s.wav", constraint=con, seed=0, seconds=2.0).motion
    kept = [0, 1, 2, 4, 5, 7, 8, 10, 11]  # pelvis, hips, knees, ankles, feet
    assert np.allclose(res.poses.reshape(-1, 24, 3)[:, kept], ref.poses.reshape(-1, 24, 3)[:60, kept], atol=1e-3)


def test_cli_trains_both_stages(prepared, tmp_path, run_cli):  # noqa: F811
    import json

    from choreogen.tasks.dance3d.checkpoint import load_generator

    (tmp_path / "ae.json").write_text(json.dumps(TINY_AE))
    code, out, err = run_cli(["train-ae", str(prepared), "--out", str(tmp_path / "ae"), "--config", str(tmp_path / "ae.json"),
                              "--max-steps", "2"])
    assert code == 0, err
    gen_cfg = {"model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "ff_mult": 2, "dropout": 0.0, "music_layers": 1},
               "diffusion": {"num_steps": 100, "sample_steps": 4},
               "train": {"batch_size": 8, "max_steps": 2, "val_every": 2, "ckpt_every": 2, "warmup_steps": 1}}
    (tmp_path / "gen.json").write_text(json.dumps(gen_cfg))
    code, out, err = run_cli(["train", str(prepared), "--out", str(tmp_path / "gen"), "--ae", str(tmp_path / "ae" / "ae.safetensors"),
                              "--config", str(tmp_path / "gen.json")])
    assert code == 0, err
    g = load_generator(tmp_path / "gen" / "model.safetensors")
    assert g.config.latent and g.provenance["steps"] == 2
    code, out, err = run_cli(["train", str(prepared), "--out", str(tmp_path / "bad"), "--ae", str(prepared / "manifest.json")])
    assert code == 2 and "error:" in err and "Traceback" not in err


def test_encoded_windows_are_cached_for_resume(latent_ckpt):
    from safetensors import safe_open

    from choreogen.tasks.dance3d.latent_module import _load_cache

    cache = latent_ckpt.parent / "latents.safetensors"
    with safe_open(str(cache), "pt") as f:
        key = f.metadata()["key"]
    tr, va, norm = _load_cache(cache, key)
    assert tr["latent"].shape[1:] == (5, 8) and tr["music"].shape[1:] == (5, 6 * 80)
    assert len(tr["latent"]) == len(tr["genre"]) == len(tr["music"]) and norm.lo.shape == (8,)
    assert abs(float(tr["latent"].mean())) < 0.2  # standardised
    assert _load_cache(cache, key + "-other-autoencoder") == (None, None, None)


def test_init_continues_a_latent_generator(latent_ckpt, prepared, tmp_path, run_cli):  # noqa: F811
    import json

    from choreogen.tasks.dance3d.checkpoint import load_generator

    (tmp_path / "c.json").write_text(json.dumps({"train": {"batch_size": 8, "max_steps": 1, "val_every": 1, "ckpt_every": 1,
                                                           "warmup_steps": 1, "lr": 1e-9},
                                                 "diffusion": {"genre_drop": 0.3, "guidance": 7.0}}))
    code, out, err = run_cli(["train", str(prepared), "--out", str(tmp_path / "c"), "--init", str(latent_ckpt),
                              "--config", str(tmp_path / "c.json")])
    assert code == 0, err
    a, b = load_generator(latent_ckpt), load_generator(tmp_path / "c" / "model.safetensors")
    assert b.config.latent and b.config.model == a.config.model
    # sampling defaults come from the init, the training-only genre dropout from the given config
    assert b.config.diffusion.guidance == a.config.diffusion.guidance and b.config.diffusion.genre_drop == 0.3
    assert np.array_equal(a.latent_normalizer.lo, b.latent_normalizer.lo)
    for k, v in a.ae.state_dict().items():
        assert torch.equal(v, b.ae.state_dict()[k])
    wa, wb = a.model.state_dict(), b.model.state_dict()
    assert max(float((wa[k] - wb[k]).abs().max()) for k in wa) < 1e-3  # one step at lr 1e-9 from the init weights


def test_bundled_latent_generator_dances_on_a_held_out_song(tang_dir):
    """The bundled "dance3d-latent" on a val song it never saw (bounds from docs/MODEL_CARD.md with a margin)."""
    from choreogen.eval.dance_stats import motion_stats
    from choreogen.io import load_motion
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline

    pipe = Dance3DPipeline.from_pretrained("dance3d-latent")
    assert pipe.config.latent and pipe.generator.provenance["steps"] >= 5000
    m = load_motion(tang_dir / "DANCE_W_10.npz")
    gt = motion_stats(m.canonical().resample(30).slice(0, 600).positions())
    d = pipe(m.music, genre="waltz", seconds=20, seed=0).motion
    j = d.positions()
    assert j.shape == (600, 24, 3) and np.isfinite(j).all() and j[..., 1].min() >= -1e-4
    s = motion_stats(j)
    assert s["frozen_share"] <= 0.2
    assert 0.5 * gt["speed_m_s"] < s["speed_m_s"] < 2.2 * gt["speed_m_s"]
    assert s["accel_m_s2"] < 3.0 * gt["accel_m_s2"]  # the feature-space model: < 10x (5.3x on this song)
    assert s["max_root_xz_m"] < 5.0


def test_anchor_root_joins_generated_stretches_to_both_given_ends():
    from choreogen.tasks.dance3d.latent_sampling import anchor_root

    T = 90
    gen = torch.zeros(1, T, 151)
    gen[0, :, 4] = torch.linspace(0, 0.9, T)  # generated root x drifts 0 -> 0.9 m
    known = torch.zeros(1, T, 151)
    known[0, :30, 4] = 2.0  # given: standing at x = 2 m for 1 s, then at x = 3 m from frame 60
    known[0, 60:, 4] = 3.0
    mask = torch.zeros(1, T, 151)
    mask[0, :30, [4, 6]] = 1
    mask[0, 60:, [4, 6]] = 1
    out = anchor_root(gen, known, mask)
    x = out[0, :, 4]
    assert torch.allclose(x[:30], known[0, :30, 4]) and torch.allclose(x[60:], known[0, 60:, 4])
    step = (x[1:] - x[:-1]).abs()
    assert float(step.max()) < 0.06  # no jump where the generated stretch meets the given ones (0.03 m/frame ramp)
    assert torch.equal(out[..., 5], gen[..., 5])  # height untouched
    assert torch.equal(anchor_root(gen, known, torch.zeros_like(mask)), gen)  # nothing given: unchanged


def test_contacts_from_motion_mark_the_still_low_foot():
    from choreogen.motion.representation import encode
    from choreogen.motion.skeleton import get_skeleton
    from choreogen.tasks.dance3d.latent_sampling import contacts_from_motion

    T = 60
    poses = np.zeros((T, 72), np.float32)
    poses[:, 5 * 3] = 0.6 * (np.arange(T) > 0)  # right knee bent: the right foot is lifted
    trans = np.zeros((T, 3), np.float32)
    trans[:, 1] = 0.95
    f = torch.as_tensor(encode(poses, trans, get_skeleton("smpl24")))
    c = contacts_from_motion(f, "smpl24", 30.0).numpy()
    assert c[5:, 0].mean() == 1.0 and c[5:, 2].mean() == 1.0  # left ankle / toe: planted throughout
    walk = f.clone()
    walk[:, 4] = torch.arange(T) * 0.05  # the whole body slides at 1.5 m/s: nothing is planted
    assert contacts_from_motion(walk, "smpl24", 30.0)[1:-1].sum() == 0


def test_latent_continuation_starts_where_the_given_dance_ends(latent_ckpt, tmp_path):
    from choreogen.motion.sequence import Motion
    from choreogen.tasks.dance3d.checkpoint import load_generator
    from choreogen.tasks.dance3d.editing import continue_from
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline

    poses, trans = _dance(1.0, seed=2)
    ref = Motion(skeleton="smpl24", fps=30.0, poses=poses, trans=trans).canonical()
    _song(tmp_path / "s.wav", 3.0)
    res = Dance3DPipeline(load_generator(latent_ckpt))(tmp_path / "s.wav", constraint=continue_from(ref), seed=0).motion
    assert res.num_frames == 90
    assert np.allclose(res.trans[:30, [0, 2]], ref.trans[:30, [0, 2]], atol=1e-4)
    assert np.abs(res.trans[30, [0, 2]] - res.trans[29, [0, 2]]).max() < 0.1  # joined, not teleported


def test_decoder_finetune_keeps_the_latent_space(latent_ckpt, prepared, tmp_path, run_cli):  # noqa: F811
    """train-ae --init GEN --freeze-encoder trains the decoder only; replace-decoder puts it into the generator,
    whose encoder, latent normaliser and denoiser stay bit-identical; a foreign autoencoder is refused."""
    import json

    from choreogen.tasks.dance3d.checkpoint import load_generator

    cfg = dict(TINY_AE, train=dict(TINY_AE["train"], max_steps=4, lr=1e-2), loss_weights={"foot_y": 100.0})
    (tmp_path / "d.json").write_text(json.dumps(cfg))
    code, out, err = run_cli(["train-ae", str(prepared), "--out", str(tmp_path / "d"), "--init", str(latent_ckpt),
                              "--freeze-encoder", "--config", str(tmp_path / "d.json")])
    assert code == 0, err
    code, out, err = run_cli(["replace-decoder", str(latent_ckpt), str(tmp_path / "d" / "ae.safetensors"),
                              "--out", str(tmp_path / "g.safetensors")])
    assert code == 0, err
    a, b = load_generator(latent_ckpt), load_generator(tmp_path / "g.safetensors")
    ea, eb = a.ae.encoder.state_dict(), b.ae.encoder.state_dict()
    assert all(torch.equal(ea[k], eb[k]) for k in ea)
    assert np.array_equal(a.latent_normalizer.lo, b.latent_normalizer.lo)
    wa, wb = a.model.state_dict(), b.model.state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)  # the same denoiser, same precision
    da, db = a.ae.decoder.state_dict(), b.ae.decoder.state_dict()
    assert max(float((da[k] - db[k]).abs().max()) for k in da) > 1e-3  # the decoder did train
    # an autoencoder trained from scratch has another encoder: refused, no file written
    code, out, err = run_cli(["train-ae", str(prepared), "--out", str(tmp_path / "s"), "--config", str(tmp_path / "d.json")])
    assert code == 0, err
    code, out, err = run_cli(["replace-decoder", str(latent_ckpt), str(tmp_path / "s" / "ae.safetensors"),
                              "--out", str(tmp_path / "bad.safetensors")])
    assert code != 0 and "encoder differs" in err and "Traceback" not in err
    assert not (tmp_path / "bad.safetensors").exists()
    code, out, err = run_cli(["train-ae", str(prepared), "--out", str(tmp_path / "f"), "--freeze-encoder"])
    assert code != 0 and "--init" in err


def test_genre_guidance_changes_only_genre_conditioned_dances(latent_ckpt, tmp_path):
    from choreogen.errors import ConfigError
    from choreogen.tasks.dance3d.checkpoint import load_generator
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline

    gen = load_generator(latent_ckpt)
    assert gen.config.diffusion.genre_guidance == 0.0 and gen.config.genres
    g = gen.config.genres[0]
    _song(tmp_path / "s.wav", 3.5)
    pipe = Dance3DPipeline(gen)
    base = pipe(tmp_path / "s.wav", genre=g, seed=3).motion
    same = pipe(tmp_path / "s.wav", genre=g, seed=3, genre_guidance=0.0).motion
    guided = pipe(tmp_path / "s.wav", genre=g, seed=3, genre_guidance=3.0).motion
    assert np.array_equal(base.joints, same.joints) and not np.allclose(base.joints, guided.joints)
    assert guided.meta["genre_guidance"] == 3.0 and "genre_guidance" not in base.meta
    none_a = pipe(tmp_path / "s.wav", seed=3).motion
    none_b = pipe(tmp_path / "s.wav", seed=3, genre_guidance=3.0).motion  # no genre: nothing to guide towards
    assert np.array_equal(none_a.joints, none_b.joints)
    with pytest.raises(ConfigError, match="genre-guidance"):
        pipe(tmp_path / "s.wav", genre=g, genre_guidance=-1.0)


def test_init_continues_a_genre_index_model_with_sentence_film(latent_ckpt, prepared, tmp_path, run_cli):  # noqa: F811
    """GCDance's C_E: a latent generator continued with model.text_dim takes its genre as the sentence
    embedding of "This is a {Genre} type of music." through FiLM; it starts at the mean genre embedding."""
    import json

    from choreogen.tasks.dance3d.checkpoint import load_generator
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline
    from choreogen.text.encoder import genre_embedding

    (tmp_path / "c.json").write_text(json.dumps({"model": {"text_dim": 384},
                                                 "train": {"batch_size": 8, "max_steps": 1, "val_every": 1,
                                                           "ckpt_every": 1, "warmup_steps": 1, "lr": 1e-9}}))
    code, out, err = run_cli(["train", str(prepared), "--out", str(tmp_path / "t"), "--init", str(latent_ckpt),
                              "--config", str(tmp_path / "c.json")])
    assert code == 0, err
    b = load_generator(tmp_path / "t" / "model.safetensors")
    assert b.config.model.text_dim == 384 and not hasattr(b.model, "genre_emb")
    table = b.model.genre_text.float()
    g0 = b.config.genres[0]
    from choreogen.text.prompts import load_prompt_set

    want = torch.as_tensor(genre_embedding(load_prompt_set().display_name(g0)))
    assert torch.allclose(table[0], want, atol=2e-3) and float(table[-1].abs().max()) == 0.0
    _song(tmp_path / "s.wav", 3.5)
    pipe = Dance3DPipeline(b)
    d = {g: pipe(tmp_path / "s.wav", genre=g, seed=1).motion.joints for g in b.config.genres[:2]}
    assert np.isfinite(d[g0]).all()
    if len(d) == 2:  # zero last-layer weights: every genre starts at the same (mean) embedding
        assert np.allclose(*d.values(), atol=1e-4)


def test_kinetic_loss_terms_measure_the_body_s_rise_fall_and_speeds():
    """root_y / root_v / energy (the decoder fine-tune of 2026-12-03): zero for a perfect reconstruction,
    and an attenuated vertical bounce of the whole body costs exactly what it removes."""
    from choreogen.tasks.dance3d.latent_ae import AE_WEIGHTS, rms_speeds

    v = torch.zeros(2, 30, 24, 3, dtype=torch.float64)
    v[..., 1] = 0.5                      # 0.5 m/s upwards
    v[0, :, :, 0], v[0, :, :, 2] = 0.3, 0.4  # and 0.5 m/s horizontally in the first window
    s = rms_speeds(v)
    assert s.shape == (2, 24, 2)
    assert torch.allclose(s[0], torch.tensor([0.5, 0.5], dtype=torch.float64).expand(24, 2))
    assert torch.allclose(s[1, :, 1], torch.full((24,), 0.5, dtype=torch.float64)) and float(s[1, :, 0].max()) < 1e-3
    assert all(AE_WEIGHTS[k] == 0.0 for k in ("root_y", "root_v", "energy"))  # off unless a config asks

    # the terms on a real representation: the same features -> 0; the root's height bounce halved -> > 0
    from choreogen.motion.skeleton import get_skeleton
    from choreogen.motion.representation import encode
    from choreogen.tasks.dance3d.latent_ae import MotionAEModule

    T = 60
    t = np.arange(T) / 30.0
    trans = np.stack([0.2 * t, 0.9 + 0.05 * np.sin(2 * np.pi * 2 * t), np.zeros(T)], 1)
    x = torch.from_numpy(encode(np.zeros((T, 72)), trans, get_skeleton("smpl24")))[None]
    m = MotionAEModule({"ae": {"latent_dim": 8, "widths": [16, 16, 16], "strides": [2, 3], "motion_dim": 151}})
    m.ae.decode = lambda z: m.normalizer.normalize(root_to_velocity(m._target, 30.0))  # a "decoder" returning _target
    m._target = x.clone().float()
    same = m.terms(x)
    assert max(float(same[k]) for k in ("root_y", "root_v", "energy")) < 1e-8
    flat = x.clone().float()
    flat[..., 5] = 0.9 + 0.5 * (flat[..., 5] - 0.9)  # half the vertical bounce of the root
    m._target = flat
    half = m.terms(x)
    assert float(half["root_y"]) == pytest.approx(float(((x[..., 5] - flat[..., 5]) ** 2).mean()), rel=1e-4)
    assert float(half["root_v"]) > 1e-3 and float(half["energy"]) > 1e-3


def test_decoded_kinetic_loss_trains_the_denoiser_only(latent_ckpt, prepared, tmp_path, run_cli):  # noqa: F811
    """train.kinetic_weight: the x0 prediction is decoded by the frozen autoencoder and its joints' RMS speeds
    are matched to the target's; zero for a perfect prediction, weighted by alpha_bar(t) (nothing at pure
    noise), and training with it changes the denoiser but not the autoencoder."""
    import json

    from choreogen.errors import ConfigError
    from choreogen.motion.skeleton import get_skeleton
    from choreogen.tasks.dance3d.checkpoint import load_generator
    from choreogen.tasks.dance3d.latent_module import LatentDiffusionModule

    (tmp_path / "k.json").write_text(json.dumps({"train": {"batch_size": 8, "max_steps": 2, "val_every": 2, "ckpt_every": 2,
                                                           "warmup_steps": 1, "lr": 1e-3, "kinetic_weight": 5.0}}))
    code, out, err = run_cli(["train", str(prepared), "--out", str(tmp_path / "k"), "--init", str(latent_ckpt),
                              "--config", str(tmp_path / "k.json")])
    assert code == 0, err
    a, b = load_generator(latent_ckpt), load_generator(tmp_path / "k" / "model.safetensors")
    assert b.config.train.kinetic_weight == 5.0
    for k, v in a.ae.state_dict().items():
        assert torch.equal(v, b.ae.state_dict()[k])
    wa, wb = a.model.state_dict(), b.model.state_dict()
    assert max(float((wa[k] - wb[k]).abs().max()) for k in wa) > 1e-6

    m = LatentDiffusionModule(b.config.to_dict())
    x0 = torch.randn(3, 150 // a.ae.cfg.factor, a.ae.cfg.latent_dim, generator=torch.Generator().manual_seed(0))
    t = torch.tensor([0, 0, m.schedule.num_steps - 1])
    with pytest.raises(ConfigError):
        m._loss(m.model, {"latent": x0, "music": torch.zeros(3, x0.shape[1], b.config.model.music_dim),
                          "genre": torch.zeros(3, dtype=torch.long)})
    m.attach_decoder(a.ae, a.normalizer, a.latent_normalizer, get_skeleton("smpl24"), 30.0)
    assert all(not p.requires_grad for p in a.ae.parameters()) and not any(k.startswith("ae.") for k in m.state_dict())
    assert float(m._kinetic(x0, x0, t).abs().max()) < 1e-10
    k = m._kinetic(x0 + 0.5 * torch.randn_like(x0), x0, t)
    assert float(k[0]) > 1e-6 and float(k[1]) > 1e-6 and float(k[2]) < 1e-6 * float(k[0])
    stats = m.kinetic_stats(x0)
    assert stats.shape == (3, 24, 3) and bool((stats > 0).all())


def test_kinetic_low_pass_keeps_the_dance_band_and_removes_jitter():
    """The kinetic loss's speeds come from a Gaussian low-pass (sigma 3 frames): a 1 Hz sway keeps its speed,
    frame-to-frame jitter of the same amplitude loses almost all of it."""
    from choreogen.tasks.dance3d.latent_module import KINETIC_SIGMA, gaussian_lowpass

    t = torch.arange(300, dtype=torch.float64) / 30.0
    sway = (0.1 * torch.sin(2 * torch.pi * 1.0 * t))[None, :, None]
    jitter = (0.1 * (-1.0) ** torch.arange(300, dtype=torch.float64))[None, :, None]
    def speed(x):
        return float(((x[:, 101:200] - x[:, 100:199]) * 30).pow(2).mean().sqrt())
    assert speed(gaussian_lowpass(sway, KINETIC_SIGMA)) == pytest.approx(speed(sway), rel=0.2)
    assert speed(gaussian_lowpass(jitter, KINETIC_SIGMA)) < 1e-3 * speed(jitter)
    assert gaussian_lowpass(sway, KINETIC_SIGMA).shape == sway.shape
