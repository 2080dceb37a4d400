"""Skeleton definitions: joint names, kinematic trees, rest offsets, left/right sides.

Kinematic skeletons (forward kinematics possible):

* ``smpl24``  -- SMPL body, 24 joints, parents and rest offsets as used by EDGE (metres, Y-up;
  each offset is relative to the parent joint; root offset 0).
* ``smplh52`` -- SMPL-H / FineDance layout: 22 body joints + 15 left-hand + 15 right-hand joints
  (parents from METRICS_SPEC section 12). Real rest offsets are non-commercially licensed, so they
  are loaded from a user-supplied file (:func:`load_smplh52_offsets`); without one a test skeleton
  with the same tree is used (body from ``smpl24``, synthetic fingers).

Keypoint layouts (2D or 3D points, no rotations; ``parents`` gives a drawing tree):

* ``coco17`` (COCO / AIST++ keypoints2d), ``body25`` (OpenPose BODY_25),
  ``openpose137`` (BODY_25 + 2 x 21 hand + 70 face keypoints), ``mediapipe33`` (BlazePose).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError

SMPL24_NAMES = [
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
]
SMPL24_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
# EDGE vis.py rest offsets (numeric facts; EDGE is MIT). Metres, Y-up, relative to the parent.
SMPL24_OFFSETS = [
    [0.0, 0.0, 0.0],
    [0.05858135, -0.08228004, -0.01766408],
    [-0.06030973, -0.09051332, -0.01354254],
    [0.00443945, 0.12440352, -0.03838522],
    [0.04345142, -0.38646945, 0.008037],
    [-0.04325663, -0.38368791, -0.00484304],
    [0.00448844, 0.1379564, 0.02682033],
    [-0.01479032, -0.42687458, -0.037428],
    [0.01905555, -0.4200455, -0.03456167],
    [-0.00226458, 0.05603239, 0.00285505],
    [0.04105436, -0.06028581, 0.12204243],
    [-0.03483987, -0.06210566, 0.13032329],
    [-0.0133902, 0.21163553, -0.03346758],
    [0.07170245, 0.11399969, -0.01889817],
    [-0.08295366, 0.11247234, -0.02370739],
    [0.01011321, 0.08893734, 0.05040987],
    [0.12292141, 0.04520509, -0.019046],
    [-0.11322832, 0.04685326, -0.00847207],
    [0.2553319, -0.01564902, -0.02294649],
    [-0.26012748, -0.01436928, -0.03126873],
    [0.26570925, 0.01269811, -0.00737473],
    [-0.26910836, 0.00679372, -0.00602676],
    [0.08669055, -0.01063603, -0.01559429],
    [-0.0887537, -0.00865157, -0.01010708],
]

_FINGERS = ["index", "middle", "pinky", "ring", "thumb"]
SMPLH52_NAMES = SMPL24_NAMES[:22] + [
    f"{side}_{finger}{k}" for side in ("left", "right") for finger in _FINGERS for k in (1, 2, 3)
]
SMPLH52_PARENTS = [
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,
    20, 22, 23, 20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35,
    21, 37, 38, 21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50,
]

COCO17_NAMES = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]
# drawing tree rooted at the nose (shoulders hang from the nose, hips from the shoulders)
COCO17_PARENTS = [-1, 0, 0, 1, 2, 0, 0, 5, 6, 7, 8, 5, 6, 11, 12, 13, 14]

BODY25_NAMES = [
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
    "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe",
    "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel",
]
BODY25_PARENTS = [1, -1, 1, 2, 3, 1, 5, 6, 1, 8, 9, 10, 8, 12, 13, 0, 0, 15, 16, 14, 19, 14, 11, 22, 11]

_HAND21_PARENTS = [-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19]
_HAND21_NAMES = ["wrist"] + [f"{f}{k}" for f in ("thumb", "index", "middle", "ring", "pinky") for k in range(1, 5)]


def _openpose137() -> tuple[list[str], list[int]]:
    names = list(BODY25_NAMES)
    parents = list(BODY25_PARENTS)
    for side, wrist in (("left", 7), ("right", 4)):
        base = len(names)
        names += [f"{side}_hand_{n}" for n in _HAND21_NAMES]
        parents += [wrist if p < 0 else base + p for p in _HAND21_PARENTS]
    base = len(names)
    names += [f"face_{i}" for i in range(70)]
    # face contour drawn as a chain from the nose; enough for rendering, not anatomy
    parents += [0 if i == 0 else base + i - 1 for i in range(70)]
    return names, parents


MEDIAPIPE33_NAMES = [
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
]
MEDIAPIPE33_PARENTS = [
    -1, 0, 1, 2, 0, 4, 5, 3, 6, 0, 0, 0, 0, 11, 12, 13, 14, 15, 16, 15, 16, 15, 16, 11, 12,
    23, 24, 25, 26, 27, 28, 27, 28,
]


@dataclass(frozen=True)
class Skeleton:
    """A named joint layout.

    Attributes:
        name: registry name (``smpl24``, ``smplh52``, ``coco17``, ...).
        joint_names: J names.
        parents: J parent indices (-1 for roots); for kinematic skeletons parents precede children.
        offsets: (J, 3) rest offsets in metres relative to the parent (Y-up), or None for keypoint
            layouts without a rest pose.
        kinematic: True if the layout carries rotations (SMPL family) and supports FK.
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray | None = field(default=None, compare=False, repr=False)
    kinematic: bool = False

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def index(self, name: str) -> int:
        return self.joint_names.index(name)

    def indices(self, *names: str) -> list[int]:
        return [self.joint_names.index(n) for n in names]

    @property
    def bones(self) -> list[tuple[int, int]]:
        """(parent, child) pairs for drawing."""
        return [(p, j) for j, p in enumerate(self.parents) if p >= 0]

    @property
    def sides(self) -> np.ndarray:
        """(J,) int: -1 right side, +1 left side, 0 centre (from the joint names)."""
        out = np.zeros(self.num_joints, dtype=np.int64)
        for j, n in enumerate(self.joint_names):
            if n.startswith("left") or "_left" in n:
                out[j] = 1
            elif n.startswith("right") or "_right" in n:
                out[j] = -1
        return out

    @property
    def mirror(self) -> np.ndarray:
        """(J,) index of each joint's left/right counterpart (itself for centre joints)."""
        idx = np.arange(self.num_joints)
        lookup = {n: j for j, n in enumerate(self.joint_names)}
        for j, n in enumerate(self.joint_names):
            for a, b in (("left", "right"), ("right", "left")):
                if a in n:
                    other = n.replace(a, b)
                    if other in lookup:
                        idx[j] = lookup[other]
                    break
        return idx

    def foot_indices(self) -> list[int]:
        """Ankle and toe joints (left ankle, right ankle, left toe, right toe) where defined."""
        table = {
            "smpl24": ["left_ankle", "right_ankle", "left_foot", "right_foot"],
            "smplh52": ["left_ankle", "right_ankle", "left_foot", "right_foot"],
            "coco17": ["left_ankle", "right_ankle"],
            "body25": ["left_ankle", "right_ankle", "left_big_toe", "right_big_toe"],
            "openpose137": ["left_ankle", "right_ankle", "left_big_toe", "right_big_toe"],
            "mediapipe33": ["left_ankle", "right_ankle", "left_foot_index", "right_foot_index"],
        }
        return self.indices(*table.get(self.name, []))


def _test_smplh52_offsets() -> np.ndarray:
    """Same-tree 52-joint rest skeleton: SMPL body + synthetic fingers (NOT anatomical data)."""
    off = np.zeros((52, 3))
    off[:22] = np.asarray(SMPL24_OFFSETS[:22])
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for fi, finger in enumerate(_FINGERS):
            spread = (fi - 2) * 0.02
            for k in (1, 2, 3):
                j = SMPLH52_NAMES.index(f"{side}_{finger}{k}")
                if finger == "thumb":
                    off[j] = [sign * 0.025, -0.01, 0.025] if k == 1 else [sign * 0.02, 0.0, 0.015]
                else:
                    off[j] = [sign * (0.09 if k == 1 else 0.03), 0.0, spread if k == 1 else 0.0]
    return off


def load_smplh52_offsets(path: str | Path) -> np.ndarray:
    """Load 52-joint rest offsets from a user file.

    Accepts ``.npy``/``.npz``/``.json`` holding either (52, 3) offsets relative to the parents, or
    absolute rest joint positions of shape (52, 3) or (55, 3) (SMPL-X ``J``: jaw and eyes at
    22..24 are dropped) when the file/key says ``joints``. Absolute positions are converted to
    parent-relative offsets with the root offset set to 0.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("rest-offset file not found", p)
    try:
        if p.suffix == ".json":
            d = json.loads(p.read_text())
            arr = np.asarray(d.get("offsets", d.get("joints")), dtype=np.float64)
            absolute = "offsets" not in d
        else:
            d = np.load(p, allow_pickle=False)
            if isinstance(d, np.lib.npyio.NpzFile):
                absolute = "offsets" not in d.files
                arr = np.asarray(d["offsets"] if not absolute else d[d.files[0]], dtype=np.float64)
            else:
                arr = np.asarray(d, dtype=np.float64)
                absolute = True
    except Exception as e:  # noqa: BLE001 - any parse failure is a user error here
        raise InputError(f"cannot read rest offsets ({e.__class__.__name__})", p) from None
    if arr.shape == (55, 3):
        arr = np.concatenate([arr[:22], arr[25:]], axis=0)
    if arr.shape != (52, 3) or not np.isfinite(arr).all():
        raise InputError(f"expected (52, 3) or (55, 3) finite values, got {arr.shape}", p)
    if absolute:
        par = np.asarray(SMPLH52_PARENTS)
        off = arr - arr[np.maximum(par, 0)]
        off[0] = 0.0
        arr = off
    return arr


def _make(name, names, parents, offsets=None, kinematic=False) -> Skeleton:
    return Skeleton(
        name=name,
        joint_names=tuple(names),
        parents=tuple(parents),
        offsets=None if offsets is None else np.asarray(offsets, dtype=np.float64),
        kinematic=kinematic,
    )


_OP137_NAMES, _OP137_PARENTS = _openpose137()

SKELETONS: dict[str, Skeleton] = {
    "smpl24": _make("smpl24", SMPL24_NAMES, SMPL24_PARENTS, SMPL24_OFFSETS, kinematic=True),
    "smplh52": _make("smplh52", SMPLH52_NAMES, SMPLH52_PARENTS, _test_smplh52_offsets(), kinematic=True),
    "coco17": _make("coco17", COCO17_NAMES, COCO17_PARENTS),
    "body25": _make("body25", BODY25_NAMES, BODY25_PARENTS),
    "openpose137": _make("openpose137", _OP137_NAMES, _OP137_PARENTS),
    "mediapipe33": _make("mediapipe33", MEDIAPIPE33_NAMES, MEDIAPIPE33_PARENTS),
}


def get_skeleton(name: str, offsets_path: str | Path | None = None) -> Skeleton:
    """Look up a skeleton by name; ``offsets_path`` overrides the smplh52 rest offsets."""
    key = str(name).lower()
    if key not in SKELETONS:
        raise ConfigError(f"unknown joint layout '{name}' (known: {', '.join(SKELETONS)})")
    sk = SKELETONS[key]
    if offsets_path is not None:
        if key != "smplh52":
            raise ConfigError("custom rest offsets are only supported for smplh52")
        sk = _make("smplh52", SMPLH52_NAMES, SMPLH52_PARENTS, load_smplh52_offsets(offsets_path), True)
    return sk


def skeleton_for_joint_count(num_joints: int) -> Skeleton:
    """Guess the layout from a joint count (24, 52, 17, 25, 137, 33)."""
    table = {24: "smpl24", 52: "smplh52", 17: "coco17", 25: "body25", 137: "openpose137", 33: "mediapipe33"}
    if num_joints not in table:
        raise ConfigError(f"unknown joint layout with {num_joints} joints (known counts: {sorted(table)})")
    return SKELETONS[table[num_joints]]
