"""Dataset file formats: AIST++ pickles (SMPL + keypoints2d), FineDance npy, safe unpickling,
AIST++ / FineDance dataset layouts (splits, ignore list, music, genres)."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import soundfile as sf
import torch

from choreogen.data.datasets import get_split, iter_dataset, list_sources
from choreogen.io.formats import (
    SMPLX_NEUTRAL_PELVIS, axis_angle_to_finedance_sixd, finedance_sixd_to_axis_angle, load_finedance_npy,
    load_pickle_motion,
)
from choreogen.errors import InputError
from choreogen.io import load_motion
from choreogen.motion.rotations import axis_angle_to_matrix, matrix_to_sixd

torch.set_num_threads(1)
AIST_NAME = "gBR_sBM_cAll_d04_mBR0_ch01"


def _tang_slice(tang_dir, frames=40, name="DANCE_C_2"):
    return load_motion(tang_dir / f"{name}.npz").slice(0, frames)


def _wav(path, seconds=1.0, sr=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr)
    return path


def _write_aist_pkl(path, motion60, scaling=93.5):
    path.parent.mkdir(parents=True, exist_ok=True)
    d = {
        "smpl_poses": motion60.poses.astype(np.float64),
        "smpl_trans": (motion60.trans.astype(np.float64) * scaling).astype(np.float32),
        "smpl_scaling": np.array([scaling], dtype=np.float32),
    }
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=4)


# ------------------------------------------------------------------------------------ AIST++
def test_aistpp_pkl_joints_equal_source_fk(tang_dir, tmp_path):
    src = _tang_slice(tang_dir, 51).resample(60)  # 2 s at 60 fps, as AIST++ stores it
    root = tmp_path / "aist"
    _write_aist_pkl(root / "motions" / f"{AIST_NAME}.pkl", src)
    wav = _wav(root / "wav" / "mBR0.wav")
    m = load_pickle_motion(root / "motions" / f"{AIST_NAME}.pkl")
    assert (m.skeleton, m.fps, m.genre) == ("smpl24", 60.0, "break")
    assert m.music == str(wav)
    assert m.meta["smpl_scaling"] == pytest.approx(93.5)
    # trans = smpl_trans / smpl_scaling, and FK joints equal the source's FK
    assert np.abs(m.trans - src.trans).max() < 1e-5
    assert np.abs(m.positions() - src.positions()).max() < 1e-5
    # load_motion dispatches .pkl here too
    assert np.array_equal(load_motion(root / "motions" / f"{AIST_NAME}.pkl").poses, m.poses)


def test_aistpp_fragment_without_scaling(shared_data):
    m = load_pickle_motion(shared_data / "aistpp" / "smpl_fragments" / "smpl_to_fbx_sample.pkl")
    assert m.poses.shape == (127, 72) and m.fps == 60.0 and m.meta["smpl_scaling"] == 1.0
    assert m.trans[0] == pytest.approx([-0.24930426, 1.8577764, -0.12041052], abs=1e-6)


def test_aistpp_keypoints2d_real(shared_data):
    path = shared_data / "aistpp" / "keypoints2d" / f"{AIST_NAME}.pkl"
    with open(path, "rb") as f:
        raw = pickle.load(f)["keypoints2d"]  # trusted shared file: reference values
    for view in (0, 5):
        m = load_pickle_motion(path, view=view)
        assert m.skeleton == "coco17" and m.fps == 60.0 and m.joints.shape == (720, 17, 2)
        assert np.array_equal(m.joints, raw[view, :, :, :2])
        c = m.confidence
        assert c.min() >= 0.0 and c.max() <= 1.0
        assert np.allclose(c, np.clip(raw[view, :, :, 2], 0, 1))
        low = float((c < 0.3).mean())
        assert 0.0 < low < 0.3  # some joints unreliable, most fine
    # measured: view 0 has 195 raw confidences above 1 (clipped to 1); low-confidence fraction 5.0%,
    # view 5 (a side camera) 24.0%
    assert (load_pickle_motion(path, view=0).confidence == 1.0).sum() == 195
    assert float((load_pickle_motion(path, view=0).confidence < 0.3).mean()) == pytest.approx(0.0503, abs=5e-4)
    assert float((load_pickle_motion(path, view=5).confidence < 0.3).mean()) == pytest.approx(0.2400, abs=5e-4)
    assert load_pickle_motion(path).genre == "break"
    with pytest.raises(InputError, match="view 9 out of range"):
        load_pickle_motion(path, view=9)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo should-not-run",))


def test_pickle_is_loaded_safely(tmp_path):
    bad = tmp_path / "evil.pkl"
    bad.write_bytes(pickle.dumps({"smpl_poses": _Evil()}))
    with pytest.raises(InputError, match="unsafe pickle.*system"):
        load_pickle_motion(bad)
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"\x80\x04not a pickle at all")
    with pytest.raises(InputError, match="junk.pkl: not a readable pickle"):
        load_pickle_motion(junk)
    wrong = tmp_path / "wrong.pkl"
    wrong.write_bytes(pickle.dumps({"smpl_poses": np.zeros((5, 69)), "smpl_trans": np.zeros((5, 3))}))
    with pytest.raises(InputError, match=r"smpl_poses must have shape \(N, 72\), got \(5, 69\)"):
        load_pickle_motion(wrong)
    nan = tmp_path / "nan.pkl"
    p = np.zeros((5, 72))
    p[2, 7] = np.nan
    nan.write_bytes(pickle.dumps({"smpl_poses": p, "smpl_trans": np.zeros((5, 3))}))
    with pytest.raises(InputError, match="NaN"):
        load_pickle_motion(nan)


def _aist_layout(tmp_path, tang_dir):
    root = tmp_path / "aist"
    src = _tang_slice(tang_dir, 26).resample(60)
    names = {
        "gBR_sBM_cAll_d04_mBR0_ch01": "train", "gPO_sBM_cAll_d10_mPO1_ch02": "val",
        "gKR_sBM_cAll_d30_mKR2_ch02": "test", "gJB_sFM_cAll_d08_mJB3_ch03": "ignored",
        "gHO_sFM_cAll_d20_mHO4_ch04": None,
    }
    for n in names:
        _write_aist_pkl(root / "motions" / f"{n}.pkl", src)
    for mus in ("mBR0", "mPO1", "mKR2", "mJB3"):  # mHO4 missing on purpose
        _wav(root / "music" / f"{mus}.wav", 0.5)
    sp = root / "splits"
    sp.mkdir()
    (sp / "crossmodal_train.txt").write_text("gBR_sBM_cAll_d04_mBR0_ch01\ngJB_sFM_cAll_d08_mJB3_ch03\n")
    (sp / "crossmodal_val.txt").write_text("gPO_sBM_cAll_d10_mPO1_ch02\n")
    (sp / "crossmodal_test.txt").write_text("gKR_sBM_cAll_d30_mKR2_ch02\n")
    (sp / "ignore_list.txt").write_text("gJB_sFM_cAll_d08_mJB3_ch03\n")
    return root


def test_aistpp_dataset_splits_ignore_and_music(tang_dir, tmp_path):
    root = _aist_layout(tmp_path, tang_dir)
    split = get_split("aistpp", root)
    assert split == {"train": ["gBR_sBM_cAll_d04_mBR0_ch01"], "val": ["gPO_sBM_cAll_d10_mPO1_ch02"],
                     "test": ["gKR_sBM_cAll_d30_mKR2_ch02"]}
    sources, skipped = list_sources(root, "aistpp")
    assert skipped == [("gJB_sFM_cAll_d08_mJB3_ch03", "in the AIST++ ignore list")]
    out = {n: (m, e) for n, m, e in iter_dataset(root, "aistpp")}
    assert "gJB_sFM_cAll_d08_mJB3_ch03" not in out
    assert set(out) == {"gBR_sBM_cAll_d04_mBR0_ch01", "gPO_sBM_cAll_d10_mPO1_ch02", "gKR_sBM_cAll_d30_mKR2_ch02",
                        "gHO_sFM_cAll_d20_mHO4_ch04"}
    m, e = out["gKR_sBM_cAll_d30_mKR2_ch02"]
    assert e is None and m.genre == "krump" and m.music.endswith("music/mKR2.wav") and m.fps == 60
    m, e = out["gHO_sFM_cAll_d20_mHO4_ch04"]
    assert m is None and "no music file" in e and "gHO_sFM_cAll_d20_mHO4_ch04.pkl" in e
    assert {out[n][0].genre for n in out if out[n][0]} == {"break", "pop", "krump"}


def test_missing_dataset_folders(tmp_path):
    with pytest.raises(InputError, match="nope: dataset folder not found"):
        list(iter_dataset(tmp_path / "nope", "tang2018"))
    (tmp_path / "aist").mkdir()
    with pytest.raises(InputError, match="motions: AIST\\+\\+ motions folder not found"):
        list(iter_dataset(tmp_path / "aist", "aistpp"))
    with pytest.raises(InputError, match="motion: FineDance motion folder not found"):
        list(iter_dataset(tmp_path / "aist", "finedance"))
    from choreogen.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown dataset format 'bvhzoo'"):
        list(iter_dataset(tmp_path, "bvhzoo"))


# ------------------------------------------------------------------------------------ FineDance
def test_finedance_sixd_convention_is_rows():
    rng = np.random.default_rng(0)
    aa = rng.normal(size=(64, 3)) * 1.2
    R = axis_angle_to_matrix(torch.as_tensor(aa)).numpy()
    d6 = axis_angle_to_finedance_sixd(aa)
    # pytorch3d matrix_to_rotation_6d: the first two ROWS, flattened
    assert np.allclose(d6, R[:, :2, :].reshape(-1, 6))
    back = axis_angle_to_matrix(torch.as_tensor(finedance_sixd_to_axis_angle(d6))).numpy()
    assert np.abs(back - R).max() < 1e-10
    # choreogen's own 6D (columns) is a different layout: reading it as FineDance's gives R^T-ish junk
    ours = matrix_to_sixd(torch.as_tensor(R)).numpy()
    wrong = axis_angle_to_matrix(torch.as_tensor(finedance_sixd_to_axis_angle(ours))).numpy()
    assert np.abs(wrong - R).max() > 0.5


def _finedance_file(path, src, contacts=False):
    T = src.num_frames
    aa = np.zeros((T, 52, 3))
    aa[:, :22] = src.poses.reshape(T, 24, 3)[:, :22]  # body; fingers at rest (zero rotations)
    d6 = axis_angle_to_finedance_sixd(aa).reshape(T, 312)
    transl = src.trans - np.asarray(SMPLX_NEUTRAL_PELVIS)
    arr = np.concatenate([transl, d6], axis=1)
    if contacts:
        arr = np.concatenate([np.zeros((T, 4)), arr], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, arr.astype(np.float32))


@pytest.mark.parametrize("contacts", [False, True])
def test_finedance_npy_roundtrip_body_fk(tang_dir, tmp_path, contacts):
    src = _tang_slice(tang_dir, 30, "DANCE_R_3").resample(30)
    root = tmp_path / "fd"
    _finedance_file(root / "motion" / "012.npy", src, contacts)
    wav = _wav(root / "music_wav" / "012.wav", 0.5)
    (root / "label_json").mkdir()
    (root / "label_json" / "012.json").write_text('{"name": "x", "style1": "Classic", "style2": "Chinese"}')
    m = load_finedance_npy(root / "motion" / "012.npy")
    assert (m.skeleton, m.fps, m.num_frames) == ("smplh52", 30.0, 35)
    assert m.poses.shape == (35, 156) and m.music == str(wav) and m.genre == "chinese"
    # body joints (FK) equal the source's; finger rotations are zero
    assert np.abs(m.positions()[:, :22] - src.positions()[:, :22]).max() < 2e-5
    assert np.abs(m.poses[:, 66:]).max() < 1e-6
    ds = list(iter_dataset(root, "finedance"))
    assert [(n, e) for n, _, e in ds] == [("012", None)]


def test_finedance_bad_inputs(tmp_path):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((10, 300), np.float32))
    with pytest.raises(InputError, match=r"bad.npy: FineDance motion must have shape \(T, 315\) or \(T, 319\), got \(10, 300\)"):
        load_finedance_npy(bad)
    a = np.tile(np.r_[np.zeros(3), np.tile([1.0, 0, 0, 0, 1, 0], 52)], (5, 1))
    a[3, 100] = np.nan
    np.save(bad, a)
    with pytest.raises(InputError, match="NaN or infinite values \\(first at frame 3\\)"):
        load_finedance_npy(bad)
    np.save(bad, np.zeros((5, 315)))
    with pytest.raises(InputError, match="zero vectors"):
        load_finedance_npy(bad)
    (tmp_path / "trunc.npy").write_bytes(b"\x93NUMPY\x01\x00garbage")
    with pytest.raises(InputError, match="trunc.npy: not a readable .npy"):
        load_finedance_npy(tmp_path / "trunc.npy")


def test_finedance_dataset_split_and_ignore_list(tang_dir, tmp_path):
    src = _tang_slice(tang_dir, 10, "DANCE_W_1").resample(30)
    root = tmp_path / "fd"
    for n in ("001", "012", "116", "120"):  # 012 test, 116 ignored, 120 in both lists (ignored)
        _finedance_file(root / "motion" / f"{n}.npy", src)
        _wav(root / "music_wav" / f"{n}.wav", 0.3)
    sources, skipped = list_sources(root, "finedance")
    assert [s.name for s in sources] == ["001", "012"]
    assert skipped == [("116", "in the FineDance ignore list"), ("120", "in the FineDance ignore list")]
    assert get_split("finedance", root) == {"train": ["001"], "test": ["012"]}
    assert [m.genre for _, m, _ in iter_dataset(root, "finedance")] == [None, None]  # no label_json
