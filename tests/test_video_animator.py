"""The geometric animator on a drawn stick figure: identity, translation, a bent limb, determinism."""
from __future__ import annotations

import numpy as np
from video_stick import stick_reference

from choreogen.video.animator import GeometricAnimator, similarity


def _anim(upper=False):
    ref = stick_reference(upper_body=upper)
    a = GeometricAnimator()
    a.prepare(ref)
    return ref, a


def test_similarity_maps_segment_endpoints():
    m = similarity(np.array([0.0, 0]), np.array([10.0, 0]), np.array([5.0, 5]), np.array([5.0, 25]))
    np.testing.assert_allclose(m @ [10, 0, 1], [5, 25], atol=1e-9)
    np.testing.assert_allclose(m @ [0, 0, 1], [5, 5], atol=1e-9)


def test_rest_pose_reproduces_the_photo():
    ref, a = _anim()
    f = a.render(ref.keypoints, np.ones(17))
    m = ref.mask > 0.5
    err = np.abs(f.astype(int) - ref.image.astype(int))[m].mean()
    assert err < 3.0
    assert a.parts == ["torso", "head", "l_upper_arm", "r_upper_arm", "l_forearm", "r_forearm", "l_thigh",
                       "r_thigh", "l_shin", "r_shin"]


def test_translated_skeleton_moves_the_person_and_reveals_inpainted_background():
    ref, a = _anim()
    f = a.render(ref.keypoints + [30, 0], np.ones(17))
    shifted = np.roll(ref.image, 30, axis=1)
    m = np.roll(ref.mask > 0.5, 30, axis=1)
    m[:, :30] = False
    assert np.abs(f.astype(int) - shifted.astype(int))[m].mean() < 4.0
    # the torso's old left edge is now background: no red torso left there
    old = (ref.mask > 0.5) & ~np.roll(ref.mask > 0.5, 30, axis=1)
    red = (f[..., 0] > 180) & (f[..., 1] < 80) & (f[..., 2] < 80)
    assert red[old].mean() < 0.02


def test_bent_forearm_follows_its_bone():
    ref, a = _anim()
    k = ref.keypoints.copy()
    k[9] = k[7] + [40, 0]  # left wrist: forearm now horizontal to the image's right
    f = a.render(k, np.ones(17))
    colour = np.array([0, 120, 255])  # the left forearm's colour
    tip = f[int(k[7, 1]) - 2:int(k[7, 1]) + 3, int(k[7, 0]) + 25:int(k[7, 0]) + 32].reshape(-1, 3)
    assert np.abs(tip.astype(int) - colour).sum(1).min() < 40
    old = f[150:158, 168:172].reshape(-1, 3)  # where the forearm was
    assert np.abs(old.astype(int) - colour).sum(1).min() > 100


def test_frames_are_deterministic_and_missing_joints_follow_the_parent():
    ref, a = _anim()
    k = ref.keypoints + [5, -3]
    c = np.ones(17)
    c[9] = 0.0  # left wrist undetected
    f1, f2 = a.render(k, c), a.render(k, c)
    assert np.array_equal(f1, f2)
    m = a.transforms(k, c)
    np.testing.assert_allclose(m["l_forearm"], m["l_upper_arm"])


def test_upper_body_reference_has_no_leg_parts():
    ref, a = _anim(upper=True)
    assert not any(p.endswith(("thigh", "shin")) for p in a.parts)
    f = a.render(ref.keypoints + [0, 10], np.ones(17))
    assert f.shape == (256, 256, 3) and f.dtype == np.uint8
