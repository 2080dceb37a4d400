"""Our glb and our FBX (written through Blender) imported back in real Blender (runs only where
``blender`` is on PATH): scene fps, the action's frame range and every bone head's world position.
Blender is Z-up: our Y-up (x, y, z) is Blender's (x, -z, y)."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from choreogen.io import load_motion
from choreogen.io.export import export_motion
from choreogen.motion.frames import yup_to_zup

BLENDER = shutil.which("blender")
pytestmark = pytest.mark.skipif(BLENDER is None, reason="blender is not installed")

SCRIPT = r'''
import json, sys
import bpy
import numpy
if not hasattr(numpy, "bool"):  # Blender 3.4's importers still use the alias numpy 1.24 removed
    numpy.bool = bool
path, out, fps, frames = sys.argv[sys.argv.index("--") + 1:]
bpy.ops.wm.read_factory_settings(use_empty=True)
sc = bpy.context.scene
sc.render.fps = int(fps)
if path.endswith(".glb"):
    bpy.ops.import_scene.gltf(filepath=path)
else:
    bpy.ops.import_scene.fbx(filepath=path, use_anim=True)
arm = [o for o in sc.objects if o.type == "ARMATURE"][0]
act = arm.animation_data.action
res = {"fps": sc.render.fps / sc.render.fps_base, "action_range": list(act.frame_range), "pos": {}}
for k in map(int, frames.split(",")):  # offsets from the first keyframe
    sc.frame_set(int(round(act.frame_range[0])) + k)
    res["pos"][k] = {pb.name: list(arm.matrix_world @ pb.head) for pb in arm.pose.bones}
with open(out, "w") as fh:
    json.dump(res, fh)
'''


@pytest.mark.parametrize("fmt", ["glb", "fbx"])
def test_blender_imports_glb_and_fbx(tang_dir, tmp_path, fmt):
    m = load_motion(tang_dir / "DANCE_W_1.npz").canonical()
    m = m.copy(poses=m.poses[:100], trans=m.trans[:100], joints=m.positions()[:100])
    path = export_motion(m, fmt, tmp_path / f"w1.{fmt}", canonical=False)  # the slice keeps its frame
    (tmp_path / "check.py").write_text(SCRIPT)
    res_path = tmp_path / "res.json"
    r = subprocess.run([BLENDER, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(tmp_path / "check.py"),
                        "--", str(path), str(res_path), "25", "0,50,99"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = json.loads(res_path.read_text())
    assert res["fps"] == pytest.approx(25.0)
    lo, hi = res["action_range"]
    assert hi - lo + 1 == pytest.approx(100, abs=1)  # 100 keyframes at 25 fps
    names = m.skel.joint_names
    for k in (0, 50, 99):
        got = np.array([res["pos"][str(k)][n] for n in names])
        err = np.abs(got - yup_to_zup(m.positions()[k]))
        assert err.max() < 1e-4, (fmt, k, err.max())


def test_blender_failure_message_names_the_cause():
    from choreogen.io.fbx import _blender_error

    log = ("Blender 3.4.1\nError: Python: Traceback (most recent call last):\n  File x, line 4\n"
           "ModuleNotFoundError: No module named 'numpy'\nError: script failed, file: 'x.py', exiting.\n")
    msg = _blender_error(log)
    assert msg.startswith("ModuleNotFoundError: No module named 'numpy'") and "python3-numpy" in msg
    assert _blender_error("") == "no output"
