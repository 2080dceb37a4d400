"""The latent-flow route (issue 16) with tiny models built here: shapes, warping, occlusion range,
checkpoint round trip, seeded determinism, long-form window continuity, pipeline and CLI errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from video_stick import stick_reference

from choreogen.api import example_song
from choreogen.errors import ConfigError, InputError
from choreogen.models.flow_ae import LatentFlowAE, LFAEConfig, base_grid, ssim_map, warp
from choreogen.models.flow_unet import FlowUNet, FlowUNetConfig
from choreogen.render.encoder import probe
from choreogen.tasks.flowvideo import checkpoint as ck
from choreogen.tasks.flowvideo.generate import make_sampler, music_cond, sample_flows
from choreogen.tasks.flowvideo.pipeline import FlowVideoPipeline
from choreogen.tasks.flowvideo.train_flow import mirror
from choreogen.video import flowrender as fr


def tiny_lfae(seed=0):
    torch.manual_seed(seed)
    return LatentFlowAE(LFAEConfig(latent_channels=4, width=8, flow_width=8)).eval()


def tiny_gen(seed=0):
    torch.manual_seed(seed)
    m = FlowUNet(FlowUNetConfig(latent_channels=4, music_dim=40, channels=8, emb=16, heads=2, frames=40)).eval()
    stats = {"flow_mean": torch.tensor([0.0, 0.0, 0.9]), "flow_std": torch.tensor([0.05, 0.05, 0.1]),
             "music_mean": torch.zeros(40), "music_std": torch.ones(40)}
    return ck.FlowGen(m, stats, {"window": 40, "fps": 10.0, "music_kind": "fast35+rhythm", "num_steps": 1000,
                                 "sample_steps": 4, "guidance": 2.0})


def test_warp_identity_and_one_pixel_shift():
    z = torch.randn(2, 3, 16, 16)
    assert torch.allclose(warp(z, torch.zeros(2, 2, 16, 16)), z, atol=1e-5)
    f = torch.zeros(2, 2, 16, 16)
    f[:, 0] = 2.0 / 16  # one pixel to the right: out(p) = z(p + 1 px)
    assert torch.allclose(warp(z, f)[..., :-1], z[..., 1:], atol=1e-5)
    g = base_grid(4, 4)
    assert g.shape == (1, 2, 4, 4) and float(g[0, 0, 0, 0]) == pytest.approx(-0.75)
    img = np.random.default_rng(0).integers(0, 255, (32, 32, 3)).astype(np.uint8)
    assert np.array_equal(fr.remap(img, np.zeros((2, 8, 8), np.float32)), img)
    shifted = fr.remap(img, np.stack([np.full((8, 8), 2.0 / 32), np.zeros((8, 8))]).astype(np.float32))
    assert np.array_equal(shifted[:, :-1], img[:, 1:])


def test_lfae_shapes_occlusion_range_and_initial_identity():
    m = tiny_lfae()
    x, y = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        o = m(x, y)
    assert o["out"].shape == (2, 3, 64, 64) and o["flow"].shape == (2, 2, 16, 16) and o["occ"].shape == (2, 1, 16, 16)
    assert float(o["flow"].abs().max()) == 0.0  # zero-initialised head: identity flow
    assert float(o["occ"].min()) > 0.9 and float(o["occ"].max()) < 1.0
    assert 0.0 <= float(o["out"].min()) and float(o["out"].max()) <= 1.0
    assert float(ssim_map(x, x)) == pytest.approx(1.0, abs=1e-5) and float(ssim_map(x, y)) < 0.2


def test_flow_unet_shapes_and_music_dropout():
    g = tiny_gen()
    with torch.no_grad():
        g.model.null_music.add_(1.0)
        x, t = torch.randn(2, 40, 3, 16, 16), torch.tensor([10, 900])
        ref, mus = torch.randn(2, 4, 16, 16), torch.randn(2, 40, 40)
        a = g.model(x, t, ref, mus)
        b = g.model(x, t, ref, mus, drop_cond=torch.tensor([True, False]))
    assert a.shape == (2, 40, 3, 16, 16)
    assert not torch.allclose(a[0], b[0]) and torch.allclose(a[1], b[1])
    fl = torch.randn(5, 3, 4, 4)
    assert torch.allclose(mirror(mirror(fl)), fl) and torch.allclose(mirror(fl)[:, 0], -fl[:, 0].flip(-1))


def test_checkpoint_round_trip_fp16(tmp_path):
    m, g = tiny_lfae(), tiny_gen()
    ck.save_lfae(m, tmp_path / "lfae.safetensors", {"steps": 3}, half=True)
    ck.save_flowgen(g, tmp_path / "gen.safetensors", half=True)
    m2, info = ck.load_lfae(tmp_path / "lfae.safetensors")
    g2 = ck.load_flowgen(tmp_path / "gen.safetensors")
    assert info["steps"] == 3 and g2.info["window"] == 40
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(m2.encoder(x), m.encoder(x), atol=2e-2)
    assert torch.equal(g2.stats["flow_std"], g.stats["flow_std"])  # statistics stay float32
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    with pytest.raises(InputError, match="bad.safetensors"):
        ck.load_flowgen(bad)
    with pytest.raises(InputError, match="flowvideo.lfae checkpoint, not a flowvideo.diffusion"):
        ck.load_flowgen(tmp_path / "lfae.safetensors")


def test_sampling_is_seeded_and_long_form_windows_agree_on_overlaps():
    g, z = tiny_gen(), torch.randn(4, 16, 16)
    mus = np.random.default_rng(0).normal(size=(100, 40)).astype(np.float32)
    a = sample_flows(g, z, mus, seed=3, steps=3)
    b = sample_flows(g, z, mus, seed=3, steps=3)
    c = sample_flows(g, z, mus, seed=4, steps=3)
    assert a.shape == (100, 3, 16, 16) and torch.equal(a, b) and not torch.allclose(a, c)
    assert float(a[:, 2].min()) >= 0.0 and float(a[:, 2].max()) <= 1.0
    gaps = {}
    for inpaint in (True, False):
        s = make_sampler(g, z, 100, overlap=10, inpaint=inpaint)
        assert s.plan.n_windows == 3 and s.plan.starts == [0, 30, 60]
        w, _ = s.sample_windows(music_cond(g, mus, s.plan.padded), 3, torch.Generator().manual_seed(0))
        # the fully constrained part of window k's overlap (first 6 of 10 frames) vs window k-1's frames
        gaps[inpaint] = float((w[1, :6] - w[0, 30:36]).abs().mean() + (w[2, :6] - w[1, 30:36]).abs().mean())
    assert gaps[False] > 1e-3 and gaps[True] < 1e-3 * gaps[False], gaps


def _pipe():
    return FlowVideoPipeline(tiny_lfae(), tiny_gen())


def test_pipeline_frames_and_mp4(tmp_path):
    pipe = _pipe()
    res = pipe(example_song(), stick_reference(), seconds=2.5, size=128, fps=10, steps=2)
    assert res.flows.shape == (25, 3, 16, 16) and len(res.frames) == 25 and res.frames[0].shape == (128, 128, 3)
    res30 = pipe(example_song(), stick_reference(), seconds=2.5, size=128, fps=30, steps=2, render="warp")
    assert res30.n_frames == 75 and len(res30.frames) == 75
    out = tmp_path / "flow.mp4"
    r = pipe(example_song(), stick_reference(), out, seconds=2.5, size=256, fps=10, steps=2)
    info = probe(out)
    assert r.path == out and info["video"] == ["h264"] and info["audio"] and info["size"] == (256, 256)
    assert info["duration"] == pytest.approx(2.5, abs=0.15)
    with pytest.raises(ConfigError, match="128 or 256"):
        pipe(example_song(), stick_reference(), size=512)
    with pytest.raises(ConfigError, match=".mp4"):
        pipe(example_song(), stick_reference(), tmp_path / "x.avi")


def test_pipeline_song_too_short(tmp_path):
    import soundfile as sf

    short = tmp_path / "blip.wav"
    sf.write(short, np.zeros(16000, np.float32), 16000)
    with pytest.raises(InputError, match="too short"):
        _pipe()(short, stick_reference(), tmp_path / "x.mp4")
    assert not list(tmp_path.glob("*.mp4*"))


def test_interpolate_time_and_compose():
    a = np.arange(4, dtype=np.float32)[:, None]
    assert np.allclose(fr.interpolate_time(a, 10, 20)[:, 0], [0, 0.5, 1, 1.5, 2, 2.5, 3, 3])
    ref = stick_reference(size=64)
    bg = fr.inpaint_background(ref.image, ref.mask)
    z = np.zeros((2, 16, 16), np.float32)
    out = fr.compose(ref.image, z, np.ones((16, 16), np.float32), ref.image, ref.mask, bg, "warp")
    assert out.shape == (64, 64, 3) and np.abs(out.astype(int) - ref.image).max() <= 1


def test_cli_flow_bad_inputs_exit_2_no_partial_mp4(tmp_path, run_cli, monkeypatch):
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really")
    out = tmp_path / "dance.mp4"
    lfae, gen = tmp_path / "lfae.safetensors", tmp_path / "gen.safetensors"
    ck.save_lfae(tiny_lfae(), lfae, {})
    monkeypatch.setattr(ck, "DEFAULT_LFAE", str(lfae))
    ck.save_flowgen(tiny_gen(), gen)
    code, _, err = run_cli(["video", example_song(), "--image", bad, "--out", out, "--method", "flow", "--model", gen])
    assert code == 2 and "error:" in err and "photo.jpg" in err and "not an image" in err
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"not a checkpoint")
    code, _, err = run_cli(["video", example_song(), "--image", bad, "--out", out, "--method", "flow",
                            "--model", corrupt])
    assert code == 2 and "corrupt.safetensors" in err and "Traceback" not in err
    code, _, err = run_cli(["video", example_song(), "--image", bad, "--out", out, "--method", "dance"])
    assert code == 2 and "--method" in err
    code, _, err = run_cli(["video", example_song(), "--image", bad, "--out", out, "--steps", "3"])
    assert code == 2 and "--method flow" in err
    code, _, err = run_cli(["video", example_song(), "--image", bad, "--out", out, "--tempo-norm"])
    assert code == 2 and "--method flow" in err and "Traceback" not in err
    code, _, err = run_cli(["video", example_song(), "--image", bad, "--out", out, "--method", "flow", "--model", gen,
                            "--tempo-norm"])  # the tiny model has no reference tempo
    assert code == 2 and "reference tempo" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.mp4*"))


def test_bundled_models_load_and_animate():
    from choreogen.checkpoints import BUNDLED

    if not (BUNDLED["flow-lfae"].path.is_file() and BUNDLED["flow-video"].path.is_file()):
        pytest.skip("bundled flow models not present")
    pipe = FlowVideoPipeline.from_pretrained()
    assert pipe.lfae.cfg.size == 64 and pipe.gen.info["window"] == 40
    res = pipe(example_song(), stick_reference(), seconds=2.0, size=128, fps=10, steps=5)
    f = res.flows
    assert f.shape == (20, 3, 16, 16) and torch.isfinite(f).all()
    assert 0.0 <= float(f[:, 2].min()) and float(f[:, 2].max()) <= 1.0
    assert float(f[:, :2].abs().mean()) < 0.5  # flows stay within the image (normalised units)


def _click_song(path, bpm, beats=16, sr=22050):
    """A click track of ``beats`` beats at ``bpm`` (accented downbeat every 4): the same piece at any tempo."""
    import soundfile as sf

    period = 60.0 / bpm
    y = np.zeros(int(beats * period * sr) + sr // 4, np.float32)
    t = np.arange(int(0.06 * sr)) / sr
    for b in range(beats):
        f, a = (880.0, 1.0) if b % 4 == 0 else (1320.0, 0.5)
        s = int(b * period * sr)
        y[s:s + len(t)] += a * np.sin(2 * np.pi * f * t) * np.exp(-t / 0.015)
    sf.write(path, y, sr)
    return path


def test_tempo_normalisation_plays_a_faster_song_faster(tmp_path):
    """With a reference tempo the same piece at 80 and 125 BPM is generated at the reference tempo (the same
    number of sampled frames, nearly the same flows) and played back at its own: 125/80 = 1.5625x as fast."""
    gen = tiny_gen()
    gen.info["tempo_ref"] = 100.0
    pipe = FlowVideoPipeline(tiny_lfae(), gen)
    z = torch.zeros(4, 16, 16)
    slow = pipe.flows(_click_song(tmp_path / "slow.wav", 80.0), z, seed=3, steps=3)
    fast = pipe.flows(_click_song(tmp_path / "fast.wav", 125.0), z, seed=3, steps=3)
    assert slow.tempo["tempo_bpm"] == pytest.approx(80.0, rel=0.03) and fast.tempo["tempo_bpm"] == pytest.approx(125.0, rel=0.03)
    assert slow.tempo["tempo_rate"] == pytest.approx(1.25, rel=0.03) and fast.tempo["tempo_rate"] == pytest.approx(0.8, rel=0.03)
    assert len(slow.flows) == pytest.approx(122, abs=2) and len(fast.flows) == pytest.approx(79, abs=2)  # the songs' 10 fps
    assert abs(len(slow.sampled) - len(fast.sampled)) <= 1  # both generated at 100 BPM
    n = min(len(slow.sampled), len(fast.sampled))
    d = (slow.sampled[:n] - fast.sampled[:n]).abs().mean() / slow.sampled[:n].std()
    assert d < 0.2, d
    # played back at the song's own time: the sampled flows re-timed by 10 / rate frames per second
    assert np.allclose(fast.flows.numpy(), fr.interpolate_time(fast.sampled.numpy(), 10.0 / fast.tempo["tempo_rate"], 10.0,
                                                               len(fast.flows)))
    plain = pipe.flows(tmp_path / "fast.wav", z, seed=3, steps=3, tempo_norm=False)
    assert plain.tempo == {} and len(plain.sampled) == len(plain.flows) == len(fast.flows)
    with pytest.raises(ConfigError, match="precomputed"):
        pipe.flows(tmp_path / "fast.wav", z, music=np.zeros((40, 40), np.float32), tempo_norm=True)
    del gen.info["tempo_ref"]
    with pytest.raises(ConfigError, match="reference tempo"):
        pipe.flows(tmp_path / "fast.wav", z, tempo_norm=True)


def test_bundled_flow_model_moves_faster_to_a_faster_song(tmp_path):
    """The bundled model with tempo normalisation: the 125 BPM version's flows at frame k are the 80 BPM
    version's at ~1.5 k (closer than at k), and the flow speed rises with the tempo (without it: ~1x)."""
    from choreogen.checkpoints import BUNDLED
    from choreogen.tasks.flowvideo.checkpoint import load_flowgen, load_lfae
    from choreogen.tasks.flowvideo.pipeline import _down

    if not (BUNDLED["flow-lfae"].path.is_file() and BUNDLED["flow-video"].path.is_file()):
        pytest.skip("bundled flow models not present")
    g0 = load_flowgen(None)
    assert g0.info.get("tempo_ref")
    pipe = FlowVideoPipeline(load_lfae(None)[0], ck.FlowGen(g0.model, g0.stats, dict(g0.info, tempo_ref=100.0)))
    z, _ = pipe.encode_photo(_down(stick_reference().image, 64))
    slow = pipe.flows(_click_song(tmp_path / "slow.wav", 80.0), z, seed=3, steps=5)
    fast = pipe.flows(_click_song(tmp_path / "fast.wav", 125.0), z, seed=3, steps=5)
    n = len(fast.flows)
    s_ = slow.flows.numpy()
    scale = np.abs(s_ - s_.mean(0)).mean()  # the flows' variation over time
    at = fr.interpolate_time(s_, 1.0, fast.tempo["tempo_rate"] / slow.tempo["tempo_rate"], n)
    err = float(np.abs(fast.flows.numpy() - at).mean() / scale)
    err_same = float(np.abs(fast.flows.numpy() - s_[:n]).mean() / scale)
    assert err < 0.6 * err_same, (err, err_same)

    def speed(f):
        return float(f[:, :2].diff(dim=0).abs().mean())

    assert 1.25 < speed(fast.flows) / speed(slow.flows) < 1.9


def test_generated_driver_pairs_a_generated_dance_with_the_played_faster_song(tmp_path, monkeypatch):
    """SDGPip's second driver (flowvideo.data.generated_sequence): the dancer hears the song played 1.25x as
    fast (0.8x as long), and every chunk pairs its frames with the features of that faster song."""
    import soundfile as sf

    from choreogen.motion import Motion
    from choreogen.tasks.flowvideo import data as D

    song = _click_song(tmp_path / "song.wav", 100.0, beats=40)  # 24.25 s
    heard = []

    def dancer(wav):
        info = sf.info(str(wav))
        heard.append(info.frames / info.samplerate)
        n = int(heard[-1] * 30)
        return Motion(poses=np.zeros((n, 72), np.float32), trans=np.zeros((n, 3), np.float32), fps=30.0, skeleton="smpl24")

    monkeypatch.setattr(D, "render_chunk", lambda m, ref: np.zeros((int(round(m.duration * D.FPS)), 64, 64, 3), np.uint8))
    items = D.generated_sequence(song, 1.25, [(3, None)], np.random.default_rng(0), dancer)
    assert heard[0] == pytest.approx(24.25 / 1.25, abs=0.1)
    assert [it[0] for it in items] == ["song@1.25x~gen@0s", "song@1.25x~gen@12s"] and all(it[1] == 3 for it in items)
    assert sum(len(it[2]) for it in items) == pytest.approx(heard[0] * D.FPS, abs=2)
    for _, _, frames, music in items:
        assert music.shape == (len(frames), D.MUSIC_DIM) and float(music.std()) > 0
