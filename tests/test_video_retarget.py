"""Retargeting a driving motion onto the photo's body (synthetic cases, exact values)."""
from __future__ import annotations

import numpy as np
import pytest
from video_stick import stick_reference

from choreogen.motion import Motion
from choreogen.motion.skeleton import SMPL24_OFFSETS, SMPL24_PARENTS
from choreogen.video.body2d import IDX, neck, shoulder_width, torso_length
from choreogen.video.retarget import TREE, fit, project_3d


def _rest_smpl(yaw_deg: float = 0.0, scale: float = 1.0) -> np.ndarray:
    off = np.asarray(SMPL24_OFFSETS, np.float64) * scale
    j = np.zeros((24, 3))
    for i, p in enumerate(SMPL24_PARENTS):
        j[i] = off[i] if p < 0 else j[p] + off[i]
    j[:, 1] += 1.0
    a = np.deg2rad(yaw_deg)
    r = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    return j @ r.T


def _bone(k, a, b):
    from choreogen.video.retarget import _ext

    e = _ext(k)
    return np.linalg.norm(e[b] - e[a], axis=-1)


def test_3d_dance_first_frame_matches_photo_size_position_and_bones():
    ref = stick_reference()
    T = 20
    j = np.repeat(_rest_smpl(yaw_deg=70)[None], T, 0)
    j[:, :, 0] += np.linspace(0, 0.5, T)[:, None]  # walks 0.5 m to the side
    j[:, 18:, 1] += np.linspace(0, 0.3, T)[:, None]  # raises the left forearm and hand
    m = Motion(skeleton="smpl24", fps=30, joints=j.astype(np.float32))
    d = fit(m, ref.keypoints, ref.confidence)
    k0 = d.keypoints[0]
    assert torso_length(k0) == pytest.approx(torso_length(ref.keypoints), rel=1e-5)
    np.testing.assert_allclose(neck(k0), neck(ref.keypoints), atol=1e-3)
    # the camera looks at the dancer's front: the left shoulder is on the image's right
    assert k0[IDX["left_shoulder"], 0] > k0[IDX["right_shoulder"], 0]
    for par, ch in TREE[:13]:
        want = _bone(ref.keypoints.astype(np.float64), par, ch)
        np.testing.assert_allclose(_bone(d.keypoints.astype(np.float64), par, ch), want, rtol=1e-4)
    # trajectory: a 0.5 m walk along world x seen through the fixed camera (about 70 degrees off its axis)
    seen = project_3d(np.stack([j[0], j[0] + [0.5, 0, 0]]))
    moved = neck(d.keypoints[-1]) - neck(d.keypoints[0])
    np.testing.assert_allclose(moved, d.scale * (seen[1, 0] - seen[0, 0]), atol=1e-3)
    assert 0.3 < moved[0] / (d.scale * 0.5) < 0.4  # ~cos(70 degrees)


def test_projection_is_frontal_for_any_starting_yaw():
    for yaw in (0, 90, 180, -135):
        p = project_3d(_rest_smpl(yaw)[None])[0]
        np.testing.assert_allclose(p, project_3d(_rest_smpl(0)[None])[0], atol=1e-6)
        assert p[1, 0] > p[2, 0]  # left hip on the image's right


def test_2d_driver_is_scaled_to_photo_and_resampled():
    ref = stick_reference()
    drv = (ref.keypoints - 128) * 2.0 + 500  # the same body twice as large elsewhere
    T = 30
    k = np.repeat(drv[None], T, 0)
    k[:, :, 0] += np.arange(T)[:, None] * 4.0
    m = Motion(skeleton="coco17", fps=30, joints=k, confidence=np.ones((T, 17), np.float32))
    d = fit(m, ref.keypoints, ref.confidence, fps=15)
    assert d.scale == pytest.approx(0.5, rel=1e-6)
    assert len(d.keypoints) == 15 and d.fps == 15
    np.testing.assert_allclose(d.keypoints[0], ref.keypoints, atol=1e-3)
    np.testing.assert_allclose(neck(d.keypoints[1]) - neck(d.keypoints[0]), [4.0, 0.0], atol=1e-4)  # 2 frames * 4 px * 0.5


def test_upper_body_photo_uses_shoulder_width():
    ref = stick_reference(upper_body=True)
    k = (ref.keypoints.copy() - 128) * 3.0
    k[11:, 1] += 40.0  # driver with a longer torso
    m = Motion(skeleton="coco17", fps=30, joints=k[None], confidence=np.ones((1, 17), np.float32))
    d = fit(m, ref.keypoints, ref.confidence)
    assert shoulder_width(d.keypoints[0]) == pytest.approx(shoulder_width(ref.keypoints), rel=1e-5)
    assert d.scale == pytest.approx(1 / 3, rel=1e-6)


def test_mediapipe33_driver_maps_to_coco17():
    from choreogen.video.body2d import FROM_MEDIAPIPE33

    ref = stick_reference()
    k33 = np.zeros((2, 33, 2), np.float32)
    k33[:, FROM_MEDIAPIPE33] = ref.keypoints
    m = Motion(skeleton="mediapipe33", fps=30, joints=k33, confidence=np.ones((2, 33), np.float32))
    d = fit(m, ref.keypoints, ref.confidence)
    np.testing.assert_allclose(d.keypoints[1], ref.keypoints, atol=1e-3)
