"""Our BVH in real Blender (runs only where ``blender`` is on PATH, e.g. after apt-get install blender).

Blender 3.4's BVH importer opens files with mode 'rU', which Python 3.11 rejects; the headless script
below drops the 'U'. It imports the file with the default options (Y-up -> Blender Z-up, scale 1),
then reports the scene fps, the action's frame range and the world positions of every bone head.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from choreogen.io.bvh import save_bvh
from choreogen.io import load_motion
from choreogen.motion.frames import yup_to_zup

BLENDER = shutil.which("blender")
pytestmark = pytest.mark.skipif(BLENDER is None, reason="blender is not installed")

SCRIPT = r'''
import builtins, json, sys
_open = builtins.open
builtins.open = lambda file, mode="r", *a, **k: _open(file, mode.replace("U", ""), *a, **k)
import bpy
path, out, frames = sys.argv[sys.argv.index("--") + 1:]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_anim.bvh(filepath=path, update_scene_fps=True, update_scene_duration=True)
sc = bpy.context.scene
arm = [o for o in sc.objects if o.type == "ARMATURE"][0]
act = arm.animation_data.action
res = {"fps": sc.render.fps / sc.render.fps_base, "action_range": list(act.frame_range), "pos": {}}
for f in map(int, frames.split(",")):
    sc.frame_set(f)
    res["pos"][f] = {pb.name: list(arm.matrix_world @ pb.head) for pb in arm.pose.bones}
with _open(out, "w") as fh:
    json.dump(res, fh)
'''


def test_blender_imports_bvh_with_right_length_fps_scale_and_axes(tang_dir, tmp_path):
    m = load_motion(tang_dir / "DANCE_W_1.npz").canonical()
    bvh = save_bvh(m, tmp_path / "w1.bvh")
    (tmp_path / "check.py").write_text(SCRIPT)
    T = m.num_frames
    frames = [1, 100, T]
    r = subprocess.run([BLENDER, "-b", "--factory-startup", "--python-exit-code", "1", "--python",
                        str(tmp_path / "check.py"), "--", str(bvh), str(tmp_path / "res.json"),
                        ",".join(map(str, frames))], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = json.loads((tmp_path / "res.json").read_text())
    assert res["fps"] == pytest.approx(25.0)
    assert res["action_range"] == [1.0, float(T)]  # T keyframes: the full dance, no truncation
    assert (res["action_range"][1] - res["action_range"][0] + 1) / res["fps"] == pytest.approx(m.duration, abs=0.1)
    names = m.skel.joint_names
    for f in frames:
        got = np.array([res["pos"][str(f)][n] for n in names])
        # Blender frame f = our frame f - 1; Blender is Z-up: (x, y, z) -> (x, -z, y); metres kept
        assert np.abs(got - yup_to_zup(m.positions()[f - 1])).max() < 1e-4
    # scale and up axis in Blender's own terms: standing head height ~1.6 m, feet near z = 0
    head_z = res["pos"]["1"]["head"][2]
    assert 1.3 < head_z < 1.9
    assert min(res["pos"]["1"][n][2] for n in ("left_foot", "right_foot")) < 0.15


def test_blender_imports_52_joint_bvh_with_every_finger(tmp_path):
    """A FineDance-format (52 joints: 22 body + 30 finger) dance exported to BVH opens in Blender with all
    52 bones, the full length, and every joint where our FK puts it (issue #14)."""
    from test_hands52 import _finedance_seq

    np.save(tmp_path / "001.npy", _finedance_seq(90, 3))
    m = load_motion(tmp_path / "001.npy").canonical()
    assert m.skeleton == "smplh52"
    bvh = save_bvh(m, tmp_path / "hands.bvh")
    (tmp_path / "check.py").write_text(SCRIPT)
    r = subprocess.run([BLENDER, "-b", "--factory-startup", "--python-exit-code", "1", "--python",
                        str(tmp_path / "check.py"), "--", str(bvh), str(tmp_path / "res.json"), "1,45,90"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = json.loads((tmp_path / "res.json").read_text())
    names = m.skel.joint_names
    assert len(names) == 52 and set(names) <= set(res["pos"]["1"])
    assert res["action_range"] == [1.0, 90.0] and res["fps"] == pytest.approx(30.0)
    for f in (1, 45, 90):
        got = np.array([res["pos"][str(f)][n] for n in names])
        assert np.abs(got - yup_to_zup(m.positions()[f - 1])).max() < 1e-4
    # the fingers move relative to the wrist (they are animated, not a rest pose copied)
    tip = names.index(names[-1])
    assert np.linalg.norm(np.subtract(res["pos"]["1"][names[tip]], res["pos"]["90"][names[tip]])) > 1e-3
