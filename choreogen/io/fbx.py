"""FBX export through a headless Blender (``blender -b``): the motion is first written as glTF
(:func:`choreogen.io.gltf.save_glb`), Blender imports it and writes FBX with its own exporter
(baked animation, Y-up, scene fps = the motion's fps). Without ``blender`` on PATH this raises one
clear :class:`ConfigError` (the CLI exits 2)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ChoreogenError, ConfigError
from ..fileio import atomic_path
from ..motion.sequence import Motion

_SCRIPT = r'''
import sys, bpy
import numpy
if not hasattr(numpy, "bool"):  # Blender 3.4's FBX exporter still uses the alias numpy 1.24 removed
    numpy.bool = bool
src, out, fps = sys.argv[sys.argv.index("--") + 1:]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.context.scene.render.fps = int(round(float(fps)))
bpy.ops.import_scene.gltf(filepath=src)
bpy.ops.export_scene.fbx(filepath=out, bake_anim=True, add_leaf_bones=False, axis_forward="-Z", axis_up="Y")
'''


def blender_path() -> str | None:
    return shutil.which("blender")


def _blender_error(log: str) -> str:
    """The informative line of a failed Blender run (its last lines are often just ', exiting.')."""
    lines = [ln.strip() for ln in log.strip().splitlines() if ln.strip()]
    errs = [ln for ln in lines if "Error" in ln and not ln.startswith("Error: script failed")]
    msg = (errs or lines or ["no output"])[-1]
    if "No module named 'numpy'" in log:
        msg += "; Blender's Python needs numpy for glTF import (Debian: apt-get install python3-numpy)"
    return msg


def save_fbx(motion: Motion, path: str | os.PathLike, timeout_s: float = 300.0) -> Path:
    """Write ``motion`` as ``.fbx`` via headless Blender; needs ``poses``/``trans`` like glTF."""
    from .gltf import save_glb

    exe = blender_path()
    if exe is None:
        raise ConfigError("FBX export needs Blender: install it (e.g. apt-get install blender) so that `blender` "
                          "is on PATH, or export --format glb, which Blender, Unity and three.js import")
    with tempfile.TemporaryDirectory(prefix="choreogen_fbx_") as td:
        glb = save_glb(motion, Path(td) / "motion.glb")
        with atomic_path(path, suffix=".fbx") as tmp:
            r = subprocess.run([exe, "-b", "--factory-startup", "--python-exit-code", "1", "--python-expr", _SCRIPT, "--", str(glb), str(tmp),
                                str(motion.fps)], capture_output=True, text=True, timeout=timeout_s)
            if r.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
                raise ChoreogenError(f"Blender could not write the FBX ({_blender_error(r.stdout + r.stderr)})", path)
    return Path(path)


__all__ = ["blender_path", "save_fbx"]
