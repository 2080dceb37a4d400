"""PoseVideoPipeline and `choreogen video`: mp4 with the song, bad input -> exit 2 and no partial mp4."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from video_stick import stick_reference

from choreogen.api import PoseVideoPipeline, example_song
from choreogen.errors import ConfigError, InputError
from choreogen.io import save_motion
from choreogen.motion import Motion
from choreogen.render.encoder import probe
from choreogen.tasks.posevideo import PoseVideoPipeline as TaskPipeline

need_mp = pytest.mark.skipif(importlib.util.find_spec("mediapipe") is None or importlib.util.find_spec("skimage") is None,
                             reason="mediapipe + scikit-image (optional extra choreogen[video]) not installed")


def _sway(T=45, fps=30.0):
    ref = stick_reference()
    k = np.repeat(ref.keypoints[None].astype(np.float64), T, 0)
    t = np.arange(T) / fps
    k[:, 7:11, 1] -= 30 * np.sin(2 * np.pi * t)[:, None]  # arms wave
    k[:, :, 0] += 10 * np.sin(2 * np.pi * t)[:, None]
    return Motion(skeleton="coco17", fps=fps, joints=k.astype(np.float32), confidence=np.ones((T, 17), np.float32))


def test_api_frames_from_a_reference_and_a_2d_driver():
    pipe = TaskPipeline()
    res = pipe(example_song(), stick_reference(), motion=_sway(), seconds=1.0)
    assert len(res.frames) == 30 and res.frames[0].shape == (256, 256, 3)
    assert not np.array_equal(res.frames[0], res.frames[7])
    assert PoseVideoPipeline.from_pretrained is not TaskPipeline.from_pretrained  # api plugs in the dancer


def test_api_writes_mp4_with_audio_and_refuses_bad_options(tmp_path):
    out = tmp_path / "d.mp4"
    res = TaskPipeline()(example_song(), stick_reference(), out, motion=_sway(60))
    info = probe(out)
    assert res.path == out and info["video"] == ["h264"] and info["audio"] and info["size"] == (256, 256)
    assert info["duration"] == pytest.approx(2.0, abs=0.1)
    with pytest.raises(ConfigError, match="--size"):
        TaskPipeline()(example_song(), stick_reference(), motion=_sway(), size=300)
    with pytest.raises(ConfigError, match="no driving motion"):
        TaskPipeline()(example_song(), stick_reference())


def test_song_too_short(tmp_path):
    import soundfile as sf

    short = tmp_path / "blip.wav"
    sf.write(short, np.zeros(4000, np.float32), 16000)
    with pytest.raises(InputError, match="too short"):
        TaskPipeline()(short, stick_reference(), tmp_path / "x.mp4", motion=_sway())
    assert not list(tmp_path.glob("*.mp4"))


def test_cli_bad_photo_exit_2_no_partial_mp4(tmp_path, run_cli):
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really")
    out = tmp_path / "dance.mp4"
    code, _, err = run_cli(["video", example_song(), "--image", bad, "--out", out, "--seconds", "1"])
    assert code == 2 and "error:" in err and "photo.jpg" in err and "not an image" in err
    assert not list(tmp_path.glob("*.mp4*"))


@need_mp
def test_cli_keypoints_and_default_dancer(tmp_path, run_cli):
    import os

    import skimage

    photo = os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png")
    kp = tmp_path / "kp.npz"
    save_motion(_sway(30), kp)
    out = tmp_path / "kp.mp4"
    code, so, err = run_cli(["video", example_song(), "--image", photo, "--out", out, "--keypoints", kp])
    assert code == 0, err
    assert probe(out)["duration"] == pytest.approx(1.0, abs=0.1)
    out2 = tmp_path / "gen.mp4"
    code, so, err = run_cli(["video", example_song(), "--image", photo, "--out", out2, "--seconds", "1"])
    assert code == 0, err
    assert probe(out2)["duration"] == pytest.approx(1.0, abs=0.1) and "30 frames" in so
