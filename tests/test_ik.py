"""Leg IK (choreogen.motion.ik) and the IK foot lock (choreogen.tasks.dance3d.postprocess.lock_feet_ik)."""
from __future__ import annotations

import numpy as np
import pytest

from choreogen.motion import get_skeleton
from choreogen.motion.fk import bone_lengths, fk_axis_angle
from choreogen.motion.ik import SMPL_LEGS, leg_ik

SK = get_skeleton("smpl24")


@pytest.fixture(scope="module")
def dance(tang_dir):
    from choreogen.io import load_motion

    return load_motion(tang_dir / "DANCE_W_1.npz").resample(30).canonical().slice(0, 300)


def _fk(poses, trans):
    return fk_axis_angle(poses, trans, SK)


def test_ik_with_the_current_ankle_as_target_changes_nothing(dance):
    j = _fk(dance.poses, dance.trans)
    new = leg_ik(dance.poses, dance.trans, SK, {"left": j[:, 7], "right": j[:, 8]})
    np.testing.assert_allclose(_fk(new, dance.trans), j, atol=1e-6)


def test_ik_reaches_a_target_and_keeps_everything_else(dance):
    j = _fk(dance.poses, dance.trans)
    shift = np.zeros((len(j), 3))
    shift[:, 0], shift[:, 2] = 0.04, -0.03  # 5 cm on the floor plane
    new = leg_ik(dance.poses, dance.trans, SK, {"left": j[:, 7] + shift}, soft=0.0)
    k = _fk(new, dance.trans)
    err = np.linalg.norm(k[:, 7] - (j[:, 7] + shift), axis=-1)
    straight = np.linalg.norm(j[:, 7] - j[:, 1], axis=-1) > 0.99 * 0.999 * (
        np.linalg.norm(j[:, 4] - j[:, 1], axis=-1) + np.linalg.norm(j[:, 7] - j[:, 4], axis=-1))
    assert np.median(err) < 1e-6 and err[~straight].max() < 1e-5  # reached (the reachable frames exactly)
    # the foot keeps its orientation: the toe moved by the ankle's shift
    np.testing.assert_allclose(k[:, 10] - k[:, 7], j[:, 10] - j[:, 7], atol=1e-5)
    others = [i for i in range(24) if i not in (4, 7, 10)]  # only the left knee, ankle and toe move
    np.testing.assert_allclose(k[:, others], j[:, others], atol=1e-6)
    np.testing.assert_allclose(bone_lengths(k, SK), bone_lengths(j, SK), atol=1e-6)


def test_unreachable_target_is_approached_on_the_floor_not_lifted(dance):
    j = _fk(dance.poses, dance.trans)
    far = j[:, 8] + np.array([2.0, 0.0, 0.0])  # 2 m away on the floor: out of any leg's reach
    k = _fk(leg_ik(dance.poses, dance.trans, SK, {"right": far}, soft=0.0), dance.trans)
    h, kn, a = SMPL_LEGS["right"]
    leg = np.linalg.norm(j[:, kn] - j[:, h], axis=-1) + np.linalg.norm(j[:, a] - j[:, kn], axis=-1)
    assert np.all(np.linalg.norm(k[:, a] - k[:, h], axis=-1) <= np.maximum(0.9991 * leg, np.linalg.norm(j[:, a] - j[:, h], axis=-1)) + 1e-6)
    np.testing.assert_allclose(k[:, a, 1], j[:, a, 1], atol=1e-5)  # the same height: it moved along the floor
    assert np.all(k[:, a, 0] >= j[:, a, 0] - 1e-6)  # and towards the target
    soft = _fk(leg_ik(dance.poses, dance.trans, SK, {"right": far}), dance.trans)  # default soft reach
    assert np.abs(soft[:, a, 1] - j[:, a, 1]).max() < 0.03 * 0.9 + 1e-3  # at most the soft zone short of it


def test_soft_reach_keeps_the_knee_from_popping(dance):
    """A target pulled steadily away: with soft reach the knee straightens smoothly, not in one frame."""
    j = _fk(dance.poses, dance.trans)
    away = j[:, 7] + np.linspace(0, 0.4, len(j))[:, None] * np.array([1.0, 0.0, 0.0])

    def max_bend_step(soft):
        k = _fk(leg_ik(dance.poses, dance.trans, SK, {"left": away}, soft=soft), dance.trans)
        u, v = k[:, 4] - k[:, 1], k[:, 7] - k[:, 4]
        ang = np.degrees(np.arccos(np.clip((u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1), -1, 1)))
        return np.abs(np.diff(ang)).max()

    assert max_bend_step(0.03) < 0.7 * max_bend_step(0.0)


def test_plant_corrections_pin_a_sliding_foot():
    from choreogen.tasks.dance3d.postprocess import plant_corrections

    T = 40
    ankle = np.zeros((T, 3))
    ankle[:, 1] = 0.05
    ankle[:, 0] = 0.3 * np.arange(T) / 30  # sliding at 0.3 m/s on the floor
    ankle[:10, 1] = ankle[30:, 1] = 0.3  # in the air before and after
    toe = ankle + [0.0, -0.03, 0.1]
    ones = np.ones(T)
    d = plant_corrections(ankle, toe, ones, ones, 30.0, blend=3)
    fixed = ankle[:, [0, 2]] + d
    assert np.ptp(fixed[10:30, 0]) < 1e-9  # held still through the planted run
    assert np.all(d[:6] == 0) and np.all(d[34:] == 0)  # nothing beyond the fades
    assert 0 < abs(d[9, 0]) < abs(d[10, 0])  # faded in, not popped
    none = plant_corrections(ankle, toe, 0 * ones, 0 * ones, 30.0)  # never labelled: untouched
    assert not none.any()


def test_ik_foot_lock_stops_sliding_and_keeps_the_travel(dance):
    """A real dance with an added 0.5 m/s root slide: the IK lock pins planted feet, the root travels on."""
    from choreogen.motion.representation import foot_contacts
    from choreogen.tasks.dance3d.postprocess import lock_feet, lock_feet_ik

    labels = foot_contacts(dance.positions(), SK)  # EDGE labels of the clean dance
    idx = SK.foot_indices()

    def planted_speed(mm):
        f = mm.positions()[:, idx]
        v = np.linalg.norm(np.diff(f[..., [0, 2]], axis=0), axis=-1) * 30
        return float(v[(labels[1:] > 0.5) & (labels[:-1] > 0.5)].mean())

    slid = dance.copy()
    slid.trans = dance.trans.copy()
    slid.trans[:, 0] += 0.5 * np.arange(300) / 30  # the root slides with the poses unchanged
    slid.joints = None
    slid.joints = slid.positions()
    clean, before = planted_speed(dance), planted_speed(slid)
    assert before > clean + 0.35
    fixed = lock_feet_ik(slid, np.zeros((300, 4)), root_share=0.0)  # geometric source: no labels needed
    assert planted_speed(fixed) < 0.65 * before  # measured 0.30 vs 0.52 (clean 0.11): reach limits the rest
    np.testing.assert_array_equal(fixed.trans, slid.trans)  # the root travels as generated
    np.testing.assert_allclose(fixed.positions()[:, :4], slid.positions()[:, :4], atol=1e-5)  # pelvis, hips, spine
    np.testing.assert_allclose(bone_lengths(fixed.positions(), SK), bone_lengths(slid.positions(), SK), atol=1e-5)
    assert fixed.positions()[..., 1].min() > -0.005  # no foot pushed through the floor
    assert fixed.meta["foot_lock"] == "ik"
    root = lock_feet(slid, labels)  # the root lock instead shortens the travel
    assert np.ptp(root.trans[:, 0]) < np.ptp(fixed.trans[:, 0]) - 1.0
    mixed = lock_feet_ik(slid, labels)  # default: 35 % of the slide taken from the root, the rest by IK
    assert np.ptp(root.trans[:, 0]) < np.ptp(mixed.trans[:, 0]) < np.ptp(fixed.trans[:, 0])
    assert planted_speed(mixed) < planted_speed(fixed)


def test_foot_lock_mode_bad_value(tmp_path):
    from choreogen.errors import ConfigError
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline

    with pytest.raises(ConfigError, match="foot-lock-mode"):
        Dance3DPipeline.__call__(object.__new__(Dance3DPipeline), tmp_path / "x.wav", foot_lock="sideways")


def test_cli_foot_lock_mode_bad_value(run_cli, tmp_path, tang_dir):
    out = tmp_path / "out"
    code, _, err = run_cli(["generate", tang_dir / "DANCE_W_1.mp3", "--out", out, "--foot-lock-mode", "sideways"])
    assert code == 2 and "--foot-lock-mode must be 'root' or 'ik'" in err and "Traceback" not in err
    assert not out.exists()


def test_bundled_generator_ik_lock_stays_consistent(tang_dir):
    """The IK lock on the bundled default (whose own default is the root lock): poses, root and joints agree."""
    from choreogen.tasks.dance3d.pipeline import generate_dance

    song = tang_dir / "DANCE_W_15.mp3"
    ik = generate_dance(song, seconds=6, seed=1, foot_lock="ik").motion
    root = generate_dance(song, seconds=6, seed=1).motion
    assert ik.meta["foot_lock"] == "ik" and root.meta["foot_lock"] is True
    np.testing.assert_allclose(_fk(ik.poses, ik.trans), ik.joints, atol=1e-5)
    assert ik.joints[..., 1].min() > -0.005
    assert not np.allclose(ik.poses, root.poses)  # the legs were re-bent, not only the root moved


def test_cli_foot_lock_mode_ik_end_to_end(run_cli, tmp_path, tang_dir):
    """`generate --foot-lock-mode ik` on a real song writes a dance whose legs differ from the root lock's."""
    from choreogen.io import load_motion

    song = tang_dir / "DANCE_W_15.mp3"
    outs = {}
    for mode in ("ik", "root"):
        out = tmp_path / mode
        code, _, err = run_cli(["generate", song, "--out", out, "--seconds", "4", "--foot-lock-mode", mode,
                                "--no-video", "--no-bvh"])
        assert code == 0, err
        outs[mode] = load_motion(out / "DANCE_W_15.npz")
    ik, root = outs["ik"], outs["root"]
    assert ik.num_frames == root.num_frames == 120
    np.testing.assert_allclose(_fk(ik.poses, ik.trans), ik.positions(), atol=1e-4)
    assert np.abs(ik.poses - root.poses).max() > 1e-3  # legs re-bent
