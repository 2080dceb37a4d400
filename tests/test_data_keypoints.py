"""2D keypoint readers: OpenPose JSON folders, COCO / MediaPipe JSON, MediaPipe CSV."""
from __future__ import annotations

import json

import numpy as np
import pytest

from choreogen.io.formats import load_keypoint_file, load_keypoint_folder
from choreogen.io.keypoints import COCO18_TO_BODY25
from choreogen.errors import InputError
from choreogen.io import load_motion

RNG = np.random.default_rng(7)


def _xyc(n):
    a = np.column_stack([RNG.uniform(0, 1920, n), RNG.uniform(0, 1080, n), RNG.uniform(0.05, 1.0, n)])
    return np.round(a, 3)


def _openpose_frame(path, body=None, lh=None, rh=None, face=None):
    people = []
    if body is not None:
        p = {"person_id": [-1], "pose_keypoints_2d": body.reshape(-1).tolist()}
        p["hand_left_keypoints_2d"] = [] if lh is None else lh.reshape(-1).tolist()
        p["hand_right_keypoints_2d"] = [] if rh is None else rh.reshape(-1).tolist()
        p["face_keypoints_2d"] = [] if face is None else face.reshape(-1).tolist()
        people.append(p)
    path.write_text(json.dumps({"version": 1.3, "people": people}))


def test_openpose_folder_137_with_empty_frame_and_gap(tmp_path):
    d = tmp_path / "op"
    d.mkdir()
    frames = {}
    for k in (0, 1, 2, 4):  # frame 3 missing on disk (gap); frame 2 has no person
        f = d / f"clip_{k:012d}_keypoints.json"
        if k == 2:
            _openpose_frame(f)
            continue
        frames[k] = (_xyc(25), _xyc(21), _xyc(21), _xyc(70))
        _openpose_frame(f, *frames[k])
    m = load_keypoint_folder(d, fps=25)
    assert (m.skeleton, m.fps, m.joints.shape) == ("openpose137", 25.0, (5, 137, 2))
    for k, (b, lh, rh, fa) in frames.items():
        want = np.concatenate([b, lh, rh, fa])
        assert np.allclose(m.joints[k], want[:, :2], atol=1e-3)
        assert np.allclose(m.confidence[k], want[:, 2], atol=1e-6)
    assert m.confidence[2].max() == 0 and m.confidence[3].max() == 0
    assert m.meta["frames_without_person"] == 2
    # load_motion on a folder dispatches here
    assert load_motion(d).joints.shape == (5, 137, 2)


def test_openpose_body_only_layouts(tmp_path):
    d25, d18, d17 = tmp_path / "b25", tmp_path / "c18", tmp_path / "c17"
    for d in (d25, d18, d17):
        d.mkdir()
    b25, b18, b17 = _xyc(25), _xyc(18), _xyc(17)
    _openpose_frame(d25 / "a_000000000000_keypoints.json", b25)
    _openpose_frame(d18 / "a_000000000000_keypoints.json", b18)
    _openpose_frame(d17 / "a_000000000000_keypoints.json", b17)
    m = load_keypoint_folder(d25)
    assert m.skeleton == "body25" and np.allclose(m.joints[0], b25[:, :2]) and m.fps == 30.0
    m = load_keypoint_folder(d18)
    assert m.skeleton == "body25"
    assert np.allclose(m.joints[0, COCO18_TO_BODY25], b18[:, :2])
    assert m.joints[0, 8].tolist() == [0, 0] and m.confidence[0, 8] == 0  # mid-hip absent in COCO-18
    assert m.confidence[0, 19:].max() == 0  # no feet in COCO-18
    assert m.confidence[0, 9] == pytest.approx(b18[8, 2])  # right hip: COCO-18 #8 -> BODY_25 #9
    m = load_keypoint_folder(d17)
    assert m.skeleton == "coco17" and np.allclose(m.joints[0], b17[:, :2])


def test_openpose_folder_errors(tmp_path):
    with pytest.raises(InputError, match="keypoint folder not found"):
        load_keypoint_folder(tmp_path / "none")
    d = tmp_path / "e"
    d.mkdir()
    with pytest.raises(InputError, match="no OpenPose \\*_keypoints.json files"):
        load_keypoint_folder(d)
    _openpose_frame(d / "x_000000000000_keypoints.json")
    with pytest.raises(InputError, match="no person detected in any frame"):
        load_keypoint_folder(d)
    _openpose_frame(d / "x_000000000001_keypoints.json", _xyc(20))
    with pytest.raises(InputError, match="unknown joint layout: pose_keypoints_2d has 60 numbers"):
        load_keypoint_folder(d)
    (d / "x_000000000001_keypoints.json").write_text("{not json")
    with pytest.raises(InputError, match="x_000000000001_keypoints.json: invalid JSON"):
        load_keypoint_folder(d)


def test_coco_json_list_and_results(tmp_path):
    f = tmp_path / "coco.json"
    fr = [_xyc(17), None, _xyc(17)]
    f.write_text(json.dumps([x.reshape(-1).tolist() if x is not None else [] for x in fr]))
    m = load_keypoint_file(f, fps=24)
    assert (m.skeleton, m.fps, m.joints.shape) == ("coco17", 24.0, (3, 17, 2))
    assert np.allclose(m.joints[2], fr[2][:, :2]) and m.confidence[1].max() == 0
    # COCO ground-truth visibility flags {0, 1, 2} -> confidence {0, 1, 1}
    gt = _xyc(17)
    gt[:, 2] = np.tile([0, 1, 2], 6)[:17]
    f2 = tmp_path / "gt.json"
    f2.write_text(json.dumps({"fps": 50, "frames": [{"keypoints": gt.reshape(-1).tolist()}]}))
    m = load_keypoint_file(f2)
    assert m.fps == 50.0 and m.confidence[0].tolist() == [float(v > 0) for v in gt[:, 2]]
    # COCO results: several people per image_id -> the best score; missing image ids -> empty frames
    a, b, c = _xyc(17), _xyc(17), _xyc(17)
    res = [{"image_id": 3, "keypoints": a.reshape(-1).tolist(), "score": 0.4},
           {"image_id": 3, "keypoints": b.reshape(-1).tolist(), "score": 0.9},
           {"image_id": 5, "keypoints": c.reshape(-1).tolist(), "score": 0.5}]
    f3 = tmp_path / "res.json"
    f3.write_text(json.dumps(res))
    m = load_keypoint_file(f3)
    assert m.num_frames == 3 and np.allclose(m.joints[0], b[:, :2]) and m.confidence[1].max() == 0
    assert np.allclose(m.joints[2], c[:, :2]) and m.meta["format"] == "coco-json"


def _landmarks(n=33):
    return [{"x": float(x), "y": float(y), "z": float(z), "visibility": float(v)}
            for x, y, z, v in RNG.uniform(0, 1, size=(n, 4))]


def test_mediapipe_json(tmp_path):
    frames = [_landmarks(), [], {"pose_landmarks": _landmarks()}]
    f = tmp_path / "mp.json"
    f.write_text(json.dumps({"fps": 15, "width": 640, "height": 480, "frames": frames}))
    m = load_keypoint_file(f)
    assert (m.skeleton, m.fps, m.meta["units"]) == ("mediapipe33", 15.0, "pixels")
    want0 = np.array([[lm["x"] * 640, lm["y"] * 480] for lm in frames[0]])
    assert np.allclose(m.joints[0], want0, atol=1e-3)
    assert np.allclose(m.confidence[2], [lm["visibility"] for lm in frames[2]["pose_landmarks"]])
    assert m.confidence[1].max() == 0
    f2 = tmp_path / "mp2.json"
    f2.write_text(json.dumps(frames))
    m = load_keypoint_file(f2)
    assert m.meta["units"] == "normalized" and np.allclose(m.joints[0, :, 0], [lm["x"] for lm in frames[0]])


@pytest.mark.parametrize("per,header,time_col", [(4, True, True), (3, False, False), (4, False, True)])
def test_mediapipe_csv(tmp_path, per, header, time_col):
    T = 6
    vals = RNG.uniform(0, 1, size=(T, 33, per))
    vals[2, 5, -1] = 0.0  # one invisible landmark
    rows = vals.reshape(T, -1)
    f = tmp_path / "mp.csv"
    lines = []
    if header:
        names = ["x", "y", "z", "visibility"] if per == 4 else ["x", "y", "visibility"]
        lines.append(",".join((["time"] if time_col else []) + [f"{n}{i}" for i in range(33) for n in names]))
    for t, r in enumerate(rows):
        lines.append(",".join(([f"{t / 25:.4f}"] if time_col else []) + [f"{v:.6f}" for v in r]))
    f.write_text("\n".join(lines) + "\n")
    m = load_keypoint_file(f)
    assert m.skeleton == "mediapipe33" and m.joints.shape == (T, 33, 2)
    assert np.allclose(m.joints, vals[..., :2], atol=1e-6)
    assert np.allclose(m.confidence, vals[..., -1], atol=1e-6) and m.confidence[2, 5] == 0
    # the time column gives the frame rate when it is named (header); otherwise the default 30
    assert m.fps == pytest.approx(25.0 if (header and time_col) else 30.0)


def test_keypoint_file_errors(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(InputError, match="bad.csv: MediaPipe CSV needs 33 x"):
        load_keypoint_file(f)
    f = tmp_path / "odd.json"
    f.write_text(json.dumps([[1, 2, 3, 4]]))
    with pytest.raises(InputError, match="frame 0: 4 numbers is not a multiple of 3"):
        load_keypoint_file(f)
    f.write_text(json.dumps([_xyc(12).reshape(-1).tolist()]))
    with pytest.raises(InputError, match="unknown joint layout with 12 keypoints"):
        load_keypoint_file(f)
    f.write_text(json.dumps([_xyc(17).reshape(-1).tolist(), _xyc(25).reshape(-1).tolist()]))
    with pytest.raises(InputError, match="frame 1 has 25 keypoints, frame 0 has 17"):
        load_keypoint_file(f)
    f.write_text("[]")
    with pytest.raises(InputError, match="no keypoints in any frame"):
        load_keypoint_file(f)
