"""Training/evaluation sequences for the repair model and the damaged-window dataset.

A *sequence* here is ``(joints (T, J, D) float32, valid (T, J) bool, fps)``: ``valid`` marks the
joints that exist in the ground truth (detector confidence above :data:`CONF_PRESENT` for real 2D
keypoints; everything for motion capture). Sources:

* AIST++ keypoints2d (real detector output, 60 fps, 9 views, COCO-17, pixels):
  :func:`aist_sequences`. Held-out sequences: :data:`AIST_HELDOUT` (ch07, ch08, all views).
* Tang2018 SMPL dances -> 3D SMPL-24 joints by forward kinematics, 30 fps, canonical frame
  (metres, Y-up, floor at 0): :func:`tang_sequences`, split by ``choreogen/data/splits/tang2018.json``.
* The same 3D dances seen by random perspective cameras as 2D COCO-17 (pixels):
  :func:`project_coco17` (face points placed from the SMPL head orientation).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ...motion.skeleton import Skeleton
from .baselines import interpolate_body, interpolate_cubic
from .damage import DamageConfig, body_scale, simulate
from .normalize import normalize, window_center

CONF_PRESENT = 0.3  # AIST++ detector confidence below this = missing
AIST_HELDOUT = ("ch07", "ch08")


@dataclass
class Sequence:
    """One clean sequence. joints (T, J, D) float32; valid (T, J) bool; fps; name."""

    joints: np.ndarray
    valid: np.ndarray
    fps: float
    name: str


# ---------------------------------------------------------------------------------- AIST++ 2D
def aist_sequences(folder: str | Path, heldout: bool = False, min_conf: float = CONF_PRESENT) -> list[Sequence]:
    """All views of the AIST++ keypoints2d pickles in ``folder`` (train or held-out part).

    Uses :func:`choreogen.io.formats.load_pickle_motion` (one call per view). Joints are pixels;
    ``valid`` = confidence >= ``min_conf``.
    """
    from ...io.formats import load_pickle_motion

    out = []
    for p in sorted(Path(folder).glob("*.pkl")):
        if any(h in p.stem for h in AIST_HELDOUT) != heldout:
            continue
        for v in range(9):
            m = load_pickle_motion(p, view=v)
            conf = m.confidence if m.confidence is not None else np.ones(m.joints.shape[:2], np.float32)
            out.append(Sequence(np.asarray(m.joints, np.float32), conf >= min_conf, m.fps, f"{p.stem}_view{v}"))
    return out


# ---------------------------------------------------------------------------------- Tang2018 3D
def tang_split(split: str) -> list[str]:
    """Sequence names of the fixed Tang2018 split (``train`` or ``val``; :func:`choreogen.data.splitting.fixed_split`)."""
    from ...data.splitting import fixed_split

    return fixed_split("tang2018")[split]


def tang_sequences(folder: str | Path, split: str, fps: float = 30.0, with_rotations: bool = False):
    """Tang2018 dances of ``split`` as canonical SMPL-24 joints at ``fps`` (metres, Y-up).

    With ``with_rotations`` also returns the (T, 24, 3, 3) world rotations per sequence (for
    :func:`project_coco17`).
    """
    from ...io import load_motion
    from ...motion.fk import forward_kinematics
    from ...motion.rotations import axis_angle_to_matrix, wrap_axis_angle_np

    seqs, rots = [], []
    for name in tang_split(split):
        m = load_motion(Path(folder) / f"{name}.npz")
        m.poses = wrap_axis_angle_np(m.poses.reshape(-1, 24, 3)).reshape(-1, 72).astype(np.float32)
        m = m.resample(fps).canonical()
        j = m.positions().astype(np.float32)
        seqs.append(Sequence(j, np.ones(j.shape[:2], bool), fps, name))
        if with_rotations:
            aa = torch.as_tensor(m.poses.reshape(-1, 24, 3), dtype=torch.float64)
            _, g = forward_kinematics(axis_angle_to_matrix(aa), torch.as_tensor(m.trans, dtype=torch.float64),
                                      m.skel, return_global=True)
            rots.append(g.numpy().astype(np.float32))
    return (seqs, rots) if with_rotations else seqs


# SMPL-24 joint feeding each COCO-17 keypoint, and the offset (metres, in the head's local frame:
# +x body-left, +y up, +z forward) for face points.
_COCO_FROM_SMPL = [15, 15, 15, 15, 15, 16, 17, 18, 19, 20, 21, 1, 2, 4, 5, 7, 8]
_FACE_OFFSETS = {0: (0.0, 0.02, 0.10), 1: (0.03, 0.05, 0.08), 2: (-0.03, 0.05, 0.08),
                 3: (0.075, 0.03, 0.0), 4: (-0.075, 0.03, 0.0)}


def smpl_to_coco17_3d(joints: np.ndarray, global_rots: np.ndarray) -> np.ndarray:
    """(T, 24, 3) SMPL joints + (T, 24, 3, 3) world rotations -> (T, 17, 3) COCO-17 points (metres)."""
    out = joints[:, _COCO_FROM_SMPL].astype(np.float64)
    for k, off in _FACE_OFFSETS.items():
        out[:, k] = joints[:, 15] + global_rots[:, 15] @ np.asarray(off)
    return out


def random_camera_projection(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Project (T, J, 3) Y-up world points (metres) with a random perspective camera to pixels.

    The camera looks at the dancer's mean position from a random azimuth, 3.5-8 m away, 0.5-2 m
    high, focal length 900-2000 px, principal point at a random spot of a 1920 x 1080 image.
    Image coordinates: x right, y down.
    """
    target = points.reshape(-1, 3).mean(0)
    az = rng.uniform(0, 2 * np.pi)
    dist = rng.uniform(3.5, 8.0)
    cam = target + np.array([dist * np.sin(az), 0.0, dist * np.cos(az)])
    cam[1] = rng.uniform(0.5, 2.0)
    fwd = target - cam
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    R = np.stack([right, down, fwd])  # world -> camera (x right, y down, z forward)
    pc = (points - cam) @ R.T
    f = rng.uniform(900, 2000)
    c = np.array([rng.uniform(700, 1220), rng.uniform(400, 680)])
    return (f * pc[..., :2] / np.maximum(pc[..., 2:3], 0.1) + c).astype(np.float32)


def project_coco17(seqs: list[Sequence], rots: list[np.ndarray], n_cameras: int, seed: int = 0) -> list[Sequence]:
    """Each 3D SMPL-24 sequence seen by ``n_cameras`` random cameras as a COCO-17 2D sequence."""
    rng = np.random.default_rng(seed)
    out = []
    for s, g in zip(seqs, rots):
        pts = smpl_to_coco17_3d(s.joints, g)
        for c in range(n_cameras):
            uv = random_camera_projection(pts, rng)
            out.append(Sequence(uv, np.ones(uv.shape[:2], bool), s.fps, f"{s.name}_cam{c}"))
    return out


# ---------------------------------------------------------------------------------- dataset
class DamagedWindows(torch.utils.data.Dataset):
    """Random windows of clean sequences with simulated damage, normalised for the model.

    Item ``i`` of epoch ``e`` is drawn from ``np.random.default_rng((seed, e, i))`` (reproducible).
    Each item is a dict of float32/bool tensors:
        x (W, J, D) damaged input (0 where hidden), present (W, J) observed mask,
        target (W, J, D) clean joints, valid (W, J) joints that exist in the ground truth.
    All in normalised units (:mod:`choreogen.tasks.skeleton.normalize`); 2D windows are randomly mirrored
    (x flipped, left/right swapped), 3D windows randomly rotated about the vertical axis.
    ``strides`` picks a temporal subsampling per window (e.g. (1, 2) turns 60 fps data into 60
    and 30 fps examples).

    With ``base="cubic"`` each item also has ``base`` (W, J, D): the Akima interpolation
    (:func:`choreogen.tasks.skeleton.baselines.interpolate_cubic`) of the damaged joints, computed over
    the window plus ``margin`` damaged frames on each side and then cropped -- as at repair time,
    where it is computed over the whole sequence, so gaps may cross the window border.
    """

    def __init__(self, seqs: list[Sequence], skeleton: Skeleton, window: int, length: int,
                 damage: DamageConfig | None = None, strides: tuple[int, ...] = (1,), seed: int = 0,
                 base: str = "linear", margin: int = 0, reference: str = "akima"):
        self.base, self.margin, self.reference = base, margin if base == "cubic" else 0, reference
        self.seqs = [s for s in seqs if len(s.joints) >= (window + 2 * self.margin) * max(strides)]
        if not self.seqs:
            raise ValueError("no sequence is long enough for one window")
        self.skeleton = skeleton
        self.window, self.length, self.strides, self.seed = window, length, strides, seed
        self.damage = damage or DamageConfig()
        self.scales = [body_scale(s.joints, s.valid) if s.joints.shape[-1] == 2 else 1.0 for s in self.seqs]
        w = np.array([len(s.joints) for s in self.seqs], np.float64)
        self.p = w / w.sum()
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng((self.seed, self.epoch, i))
        k = int(rng.choice(len(self.seqs), p=self.p))
        s, scale = self.seqs[k], self.scales[k]
        stride = int(rng.choice(self.strides))
        full = self.window + 2 * self.margin
        span = full * stride
        t0 = int(rng.integers(0, len(s.joints) - span + 1))
        clean = s.joints[t0:t0 + span:stride].astype(np.float64)
        valid = s.valid[t0:t0 + span:stride].copy()
        D = clean.shape[-1]
        if D == 2 and rng.random() < 0.5:
            clean = clean[:, self.skeleton.mirror]
            valid = valid[:, self.skeleton.mirror]
            clean[..., 0] *= -1
        if D == 3:
            a = rng.uniform(0, 2 * np.pi)
            ca, sa = np.cos(a), np.sin(a)
            Ry = np.array([[ca, 0, sa], [0, 1, 0], [-sa, 0, ca]])
            clean = clean @ Ry.T
        x, obs = simulate(clean, valid, self.skeleton, rng, self.damage, scale=scale)
        a, b = self.margin, self.margin + self.window
        ref = None
        if self.base == "cubic":
            ref = interpolate_cubic(x, obs)
            if self.reference == "body":
                ref = interpolate_body(x, obs, self.skeleton.parents, base=ref)
            ref = ref[a:b]
        x, obs, clean, valid = x[a:b], obs[a:b], clean[a:b], valid[a:b]
        c = window_center(x, obs)
        item = {
            "x": torch.from_numpy(np.where(obs[..., None], normalize(x, c, scale), 0.0).astype(np.float32)),
            "present": torch.from_numpy(obs),
            "target": torch.from_numpy(normalize(np.where(valid[..., None], clean, 0.0), c, scale)),
            "valid": torch.from_numpy(valid),
        }
        if ref is not None:
            item["base"] = torch.from_numpy(normalize(ref, c, scale))
        return item
