"""glTF 2.0 binary (``.glb``) export of a skinned skeleton with its animation (Unity, three.js, Blender).

What :func:`save_glb` writes (glTF is **Y-up, metres, right-handed**, like choreogen's canonical frame):

* one node per joint, named after the skeleton's joints, parented like the kinematic tree; a joint's
  rest ``translation`` is its rest offset from the parent (the root's is the first frame's ``trans``);
* a skin over those nodes with ``inverseBindMatrices`` = inverse rest world transforms (rest pose:
  all local rotations identity, so each is a pure translation by minus the joint's rest position);
* a mesh of bone-shaped geometry: one octahedron per bone (parent -> child, 6 vertices), every vertex
  weighted 1.0 to the parent joint, plus a small octahedron at each leaf; placed in the bind pose;
* one animation ``"dance"``: per joint a ``rotation`` channel (unit quaternions x, y, z, w, signs kept
  continuous over time) and for the root a ``translation`` channel (metres), LINEAR interpolation,
  keyframe times ``t / fps`` seconds (float32) for every frame t.

:func:`read_glb_animation` reads such a file back (used by tests and the web viewer's checks) and
:func:`glb_joint_positions` runs FK on the stored channels.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..errors import InputError
from ..fileio import atomic_path
from ..motion.sequence import Motion

_F32, _U16, _U32 = 5126, 5123, 5125
_ARRAY, _ELEMENTS = 34962, 34963
_BONE_WIDTH = 0.12  # octahedron half-width as a fraction of the bone length


def _rest_world(offsets: np.ndarray, parents) -> np.ndarray:
    w = np.zeros_like(offsets)
    for j, p in enumerate(parents):
        w[j] = offsets[j] + (w[p] if p >= 0 else 0.0)
    return w


def _octahedron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(6, 3) vertices of a bone octahedron from ``a`` to ``b`` (metres)."""
    d = b - a
    n = float(np.linalg.norm(d))
    if n < 1e-6:
        d, n = np.array([0.0, 0.03, 0.0]), 0.03
    u = d / n
    ref = np.array([1.0, 0.0, 0.0]) if abs(u[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    s = np.cross(u, ref)
    s /= np.linalg.norm(s)
    t = np.cross(u, s)
    mid = a + d * 0.2
    w = n * _BONE_WIDTH
    return np.stack([a, mid + s * w, mid + t * w, mid - s * w, mid - t * w, a + d])


_OCT_FACES = np.array([[0, 2, 1], [0, 3, 2], [0, 4, 3], [0, 1, 4], [5, 1, 2], [5, 2, 3], [5, 3, 4], [5, 4, 1]])


def _bone_mesh(rest: np.ndarray, parents, offsets: np.ndarray):
    verts, faces, joints = [], [], []
    kids = {p for p in parents if p >= 0}
    for j, p in enumerate(parents):
        segs = []
        if p >= 0:
            segs.append((p, rest[p], rest[j]))
        if j not in kids:  # leaf: a short tip along its own bone
            d = offsets[j] if np.linalg.norm(offsets[j]) > 1e-6 else np.array([0.0, 0.1, 0.0])
            segs.append((j, rest[j], rest[j] + d * 0.5))
        for owner, a, b in segs:
            base = len(verts) * 6
            verts.append(_octahedron(a, b))
            faces.append(_OCT_FACES + base)
            joints.append(np.full(6, owner))
    return (np.concatenate(verts).astype(np.float32), np.concatenate(faces).astype(np.uint32),
            np.concatenate(joints).astype(np.uint16))


def _continuous_quats(q: np.ndarray) -> np.ndarray:
    """(T, J, 4) quaternions with the sign flipped where needed so neighbours have dot >= 0."""
    q = q.copy()
    for t in range(1, len(q)):
        flip = np.sum(q[t] * q[t - 1], axis=-1) < 0
        q[t, flip] *= -1
    return q


class _Blob:
    def __init__(self, gltf):
        self.g, self.data = gltf, bytearray()

    def add(self, arr: np.ndarray, comp: int, typ: str, target: int | None = None, minmax: bool = False) -> int:
        import pygltflib as g

        arr = np.ascontiguousarray(arr)
        while len(self.data) % 4:
            self.data.append(0)
        off = len(self.data)
        self.data += arr.tobytes()
        self.g.bufferViews.append(g.BufferView(buffer=0, byteOffset=off, byteLength=arr.nbytes, target=target))
        count = arr.shape[0] if typ != "SCALAR" else arr.size
        acc = g.Accessor(bufferView=len(self.g.bufferViews) - 1, componentType=comp, count=int(count), type=typ)
        if minmax:
            flat = arr.reshape(count, -1)
            acc.min, acc.max = flat.min(0).tolist(), flat.max(0).tolist()
        self.g.accessors.append(acc)
        return len(self.g.accessors) - 1


def save_glb(motion: Motion, path: str | os.PathLike) -> Path:
    """Write ``motion`` (needs ``poses`` (T, J*3) axis-angle and ``trans`` (T, 3) m, Y-up) as ``.glb``."""
    import pygltflib as g

    from .bvh import require_rotations

    sk = motion.skel
    require_rotations(motion, "glTF")
    T, J = motion.num_frames, sk.num_joints
    parents = list(sk.parents)
    offsets = np.asarray(sk.offsets, np.float64)
    trans = np.asarray(motion.trans, np.float64)
    quats = Rotation.from_rotvec(np.asarray(motion.poses, np.float64).reshape(T * J, 3)).as_quat()
    quats = _continuous_quats(quats.reshape(T, J, 4))

    gl = g.GLTF2(asset=g.Asset(generator="choreogen", version="2.0"))
    blob = _Blob(gl)
    root = [j for j, p in enumerate(parents) if p < 0][0]
    for j in range(J):
        kids = [c for c, p in enumerate(parents) if p == j]
        tr = trans[0] if j == root else offsets[j]
        gl.nodes.append(g.Node(name=sk.joint_names[j], children=kids or None, translation=[float(x) for x in tr],
                               rotation=[float(x) for x in quats[0, j]]))
    rest = _rest_world(offsets, parents)
    ibm = np.tile(np.eye(4), (J, 1, 1))
    ibm[:, :3, 3] = -rest
    ibm_acc = blob.add(ibm.transpose(0, 2, 1).reshape(J, 16).astype(np.float32), _F32, "MAT4")  # column-major
    gl.skins.append(g.Skin(name=sk.name, joints=list(range(J)), skeleton=root, inverseBindMatrices=ibm_acc))

    verts, faces, vj = _bone_mesh(rest, parents, offsets)
    n = len(verts)
    pos_acc = blob.add(verts, _F32, "VEC3", _ARRAY, minmax=True)
    jnt_acc = blob.add(np.stack([vj, np.zeros(n, np.uint16), np.zeros(n, np.uint16), np.zeros(n, np.uint16)], 1),
                       _U16, "VEC4", _ARRAY)
    wts = np.zeros((n, 4), np.float32)
    wts[:, 0] = 1.0
    wts_acc = blob.add(wts, _F32, "VEC4", _ARRAY)
    idx_acc = blob.add(faces.reshape(-1), _U32, "SCALAR", _ELEMENTS)
    gl.materials.append(g.Material(name="bone", pbrMetallicRoughness=g.PbrMetallicRoughness(
        baseColorFactor=[0.85, 0.45, 0.2, 1.0], metallicFactor=0.0, roughnessFactor=0.7)))
    gl.meshes.append(g.Mesh(name="bones", primitives=[g.Primitive(
        attributes=g.Attributes(POSITION=pos_acc, JOINTS_0=jnt_acc, WEIGHTS_0=wts_acc), indices=idx_acc, material=0)]))
    gl.nodes.append(g.Node(name="body", mesh=0, skin=0))
    gl.scenes.append(g.Scene(name="dance", nodes=[root, J]))
    gl.scene = 0

    times = (np.arange(T, dtype=np.float64) / motion.fps).astype(np.float32)
    t_acc = blob.add(times, _F32, "SCALAR", minmax=True)
    samplers, channels = [], []
    for j in range(J):
        samplers.append(g.AnimationSampler(input=t_acc, output=blob.add(quats[:, j].astype(np.float32), _F32, "VEC4"),
                                           interpolation="LINEAR"))
        channels.append(g.AnimationChannel(sampler=len(samplers) - 1, target=g.AnimationChannelTarget(node=j, path="rotation")))
    samplers.append(g.AnimationSampler(input=t_acc, output=blob.add(trans.astype(np.float32), _F32, "VEC3"),
                                       interpolation="LINEAR"))
    channels.append(g.AnimationChannel(sampler=len(samplers) - 1, target=g.AnimationChannelTarget(node=root, path="translation")))
    gl.animations.append(g.Animation(name="dance", samplers=samplers, channels=channels))
    gl.extras = {"fps": float(motion.fps), "frames": int(T), "skeleton": sk.name}

    gl.buffers.append(g.Buffer(byteLength=len(blob.data)))
    gl.set_binary_blob(bytes(blob.data))
    with atomic_path(path, suffix=".glb") as tmp:
        gl.save_binary(str(tmp))
    return Path(path)


@dataclass
class GlbAnimation:
    """What a choreogen ``.glb`` stores: ``parents`` (J,), ``rest`` (J, 3) node translations (m),
    ``times`` (T,) s, ``rotations`` (T, J, 4) xyzw, ``root_translation`` (T, 3) m, ``root`` index."""

    names: list[str]
    parents: list[int]
    rest: np.ndarray
    times: np.ndarray
    rotations: np.ndarray
    root_translation: np.ndarray
    root: int


def _accessor(gl, blob: bytes, i: int) -> np.ndarray:
    acc = gl.accessors[i]
    bv = gl.bufferViews[acc.bufferView]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[acc.type]
    dt = {_F32: np.float32, _U16: np.uint16, _U32: np.uint32}[acc.componentType]
    start = (bv.byteOffset or 0) + (acc.byteOffset or 0)
    a = np.frombuffer(blob, dt, count=acc.count * width, offset=start)
    return a.reshape(acc.count, width) if width > 1 else a


def read_glb_animation(path: str | os.PathLike) -> GlbAnimation:
    """Read the skeleton and first animation of a ``.glb`` written by :func:`save_glb`."""
    import pygltflib as g

    try:
        gl = g.GLTF2().load_binary(str(path))
        blob = gl.binary_blob()
        skin = gl.skins[0]
        anim = gl.animations[0]
    except Exception as e:  # noqa: BLE001 - any parse failure is a bad file
        raise InputError(f"not a readable glTF binary with a skin and an animation ({e.__class__.__name__})", path) from None
    joints = list(skin.joints)
    index = {n: k for k, n in enumerate(joints)}
    parents = [-1] * len(joints)
    for k, n in enumerate(joints):
        for c in gl.nodes[n].children or []:
            if c in index:
                parents[index[c]] = k
    rest = np.array([gl.nodes[n].translation or [0, 0, 0] for n in joints], np.float64)
    root = parents.index(-1)
    times, rots, root_tr = None, None, None
    for ch in anim.channels:
        s = anim.samplers[ch.sampler]
        if times is None:
            times = _accessor(gl, blob, s.input).astype(np.float64)
        out = _accessor(gl, blob, s.output).astype(np.float64)
        if rots is None:
            rots = np.tile([0.0, 0.0, 0.0, 1.0], (len(out), len(joints), 1))
        k = index[ch.target.node]
        if ch.target.path == "rotation":
            rots[:, k] = out
        elif ch.target.path == "translation" and k == root:
            root_tr = out
    if root_tr is None:
        root_tr = np.tile(rest[root], (len(times), 1))
    return GlbAnimation([gl.nodes[n].name for n in joints], parents, rest, times, rots, root_tr, root)


def glb_joint_positions(anim: GlbAnimation) -> np.ndarray:
    """(T, J, 3) world joint positions (m) by FK of the stored channels (parents precede children)."""
    T, J = anim.rotations.shape[:2]
    R = Rotation.from_quat(anim.rotations.reshape(-1, 4)).as_matrix().reshape(T, J, 3, 3)
    pos = np.zeros((T, J, 3))
    glob = np.zeros((T, J, 3, 3))
    for j in range(J):
        p = anim.parents[j]
        if p < 0:
            pos[:, j], glob[:, j] = anim.root_translation, R[:, j]
        else:
            pos[:, j] = np.einsum("tab,b->ta", glob[:, p], anim.rest[j]) + pos[:, p]
            glob[:, j] = glob[:, p] @ R[:, j]
    return pos


__all__ = ["GlbAnimation", "glb_joint_positions", "read_glb_animation", "save_glb"]
