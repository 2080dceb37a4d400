"""Evaluate a generated set against a ground-truth set under a protocol.

:func:`evaluate_motions` is the one entry point (the CLI and the trainer's validation both use it):
it prepares clips (:mod:`choreogen.eval.prepare`), extracts features, computes every requested
metric for the generated set *and* for the ground truth itself, adds percentile bootstrap
confidence intervals over samples, and caches ground-truth per-sample values (features, BAS,
physics) on disk under a key made of :data:`EVAL_VERSION`, the protocol's GT hash, the motions'
content hashes and the music files' hashes.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError
from ..fileio import atomic_path
from . import beats as B
from . import physics
from .features import extract_features
from .fid import constant_dims, diversity, fid
from .prepare import Clip, find_music, make_clips
from .protocols import ALL_METRICS, Protocol, get_protocol

EVAL_VERSION = "choreogen-eval-1"   # bump when any per-sample value would change
_MEM_CACHE: dict[str, dict] = {}


# ------------------------------------------------------------------------------ per-sample values
def _music_beats(path: str, proto: Protocol, memo: dict) -> np.ndarray:
    """Music beats of a file for the protocol's variant, cached in memory and (if a cache folder
    is set) on disk, keyed by the audio's content hash, variant, fps and librosa version."""
    import librosa

    key = (path, proto.bas_variant, proto.bas_fps)
    if key in memo:
        return memo[key]
    cache_dir = memo.get("__cache_dir__")
    f = None
    if cache_dir:
        h = _hash_file(path, memo.setdefault("__file_hashes__", {})).hex()[:24]
        f = Path(cache_dir) / f"beats-{h}-{proto.bas_variant}-{proto.bas_fps:g}-librosa{librosa.__version__}.npy"
        if f.is_file():
            try:
                memo[key] = np.load(f)
                return memo[key]
            except (OSError, ValueError):
                pass
    memo[key] = B.music_beats(path, proto.bas_variant, fps=proto.bas_fps)["beats"]
    if f is not None:
        try:
            with atomic_path(f, suffix=".npy") as tmp:
                np.save(tmp, memo[key])
        except OSError:
            pass
    return memo[key]


def _per_sample(clips: list[Clip], proto: Protocol, metrics: set[str], memo: dict) -> dict[str, np.ndarray]:
    """Features and per-clip metric values (NaN where not computable, e.g. BAS without music)."""
    out: dict[str, np.ndarray] = {}
    if metrics & {"fid_k", "fid_g", "div_k", "div_g"}:
        k, g = extract_features([c.feat for c in clips], origin=proto.origin)
        out["kinetic"], out["geometric"] = k, g
    n = len(clips)
    if "bas" in metrics:
        vals = np.full(n, np.nan)
        for i, c in enumerate(clips):
            if c.music is None:
                continue
            mb = _music_beats(c.music, proto, memo)
            shifted = mb - int(round(c.start_s * proto.bas_fps))
            shifted = shifted[shifted >= 0]
            P = c.beat - c.beat[0, 0] if proto.bas_variant == "lodge" else c.beat
            vals[i] = B.bas(P, shifted, proto.bas_variant, fact_order=proto.bas_fact_order)["bas"]
        out["bas"] = vals
    if "pfc" in metrics:
        out["pfc"] = np.array([physics.pfc_sequence(c.phys) if len(c.phys) >= 3 else np.nan for c in clips])
    if "pbc" in metrics:
        out["pbc"] = np.array([physics.pbc_sequence(c.phys) if len(c.phys) >= 3 and c.phys.shape[1] == 24
                               else np.nan for c in clips])
    if "fsr" in metrics:
        lr = np.array([physics.foot_skating_ratio(c.phys) for c in clips])
        out["fsr_left"], out["fsr_right"] = lr[:, 0], lr[:, 1]
    return out


def _hash_motion(m) -> bytes:
    h = hashlib.sha256()
    for arr in (m.poses, m.trans, m.joints if m.poses is None else None):
        if arr is not None:
            h.update(np.ascontiguousarray(arr).tobytes())
    h.update(f"{m.fps}|{m.skeleton}".encode())
    return h.digest()


def _hash_file(path: str | None, memo: dict) -> bytes:
    if path is None:
        return b"-"
    if path not in memo:
        memo[path] = hashlib.sha256(Path(path).read_bytes()).digest()
    return memo[path]


def default_cache_dir() -> Path:
    return Path(os.environ.get("CHOREOGEN_CACHE", Path.home() / ".cache" / "choreogen")) / "eval"


def _gt_values(gt, gt_music, proto, metrics, cache_dir, memo) -> tuple[list[Clip], dict, bool]:
    clips = [c for m, mu in zip(gt, gt_music) for c in make_clips(m, proto, mu, is_gt=True)]
    h = hashlib.sha256(f"{EVAL_VERSION}|{proto.gt_hash()}|{sorted(metrics)}".encode())
    fh: dict = {}
    for m, mu in zip(gt, gt_music):
        h.update(_hash_motion(m))
        h.update(_hash_file(mu, fh))
    key = h.hexdigest()[:24]
    if key in _MEM_CACHE:
        return clips, _MEM_CACHE[key], True
    path = Path(cache_dir) / f"gt-{proto.name}-{key}.npz" if cache_dir else None
    if path is not None and path.is_file():
        try:
            with np.load(path) as d:
                vals = {k: d[k] for k in d.files}
            _MEM_CACHE[key] = vals
            return clips, vals, True
        except (OSError, ValueError):
            pass  # unreadable cache: recompute
    vals = _per_sample(clips, proto, metrics, memo)
    _MEM_CACHE[key] = vals
    if path is not None:
        try:
            with atomic_path(path, suffix=".npz") as tmp:
                np.savez(tmp, **vals)
        except OSError:
            warnings.warn(f"could not write the GT feature cache {path}")
    return clips, vals, False


# ------------------------------------------------------------------------------ set metrics
def _set_metrics(gt: dict, gen: dict, proto: Protocol, metrics: set[str]) -> dict:
    r: dict = {}
    if "kinetic" in gen:
        gk, pk, gg, pg = gt["kinetic"], gen["kinetic"], gt["geometric"], gen["geometric"]
        enough = len(pk) >= 2 and len(gk) >= 2
        if "fid_k" in metrics:
            r["fid_k"] = _safe_fid(gk, pk, proto.fid_flavour, False) if enough else np.nan
        if "fid_g" in metrics:
            r["fid_g"] = _safe_fid(gg, pg, proto.fid_flavour, False) if enough else np.nan
            if proto.drop_constant_gt_dims:
                r["fid_g_nonconst"] = _safe_fid(gg, pg, proto.fid_flavour, True) if enough else np.nan
        if "div_k" in metrics:
            r["div_k"] = diversity(gk, pk)
        if "div_g" in metrics:
            r["div_g"] = diversity(gg, pg)
            if proto.drop_constant_gt_dims:
                r["div_g_nonconst"] = diversity(gg, pg, drop_constant=True)
    for k in ("bas", "pfc", "pbc"):
        if k in gen:
            v = gen[k]
            r[k] = float(np.nanmean(v)) if np.isfinite(v).any() else np.nan
    if "fsr_left" in gen:
        left, right = float(np.mean(gen["fsr_left"])), float(np.mean(gen["fsr_right"]))
        r.update(fsr=(left + right) / 2, fsr_left=left, fsr_right=right)
    return r


def _safe_fid(gt, gen, flavour, drop) -> float:
    try:
        return fid(gt, gen, flavour, drop_constant=drop).value
    except ValueError:   # FACT flavour: large imaginary sqrtm component
        return float("nan")


def _take(vals: dict, idx: np.ndarray) -> dict:
    return {k: v[idx] for k, v in vals.items()}


def _bootstrap(gt: dict, gen: dict, proto, metrics, n_boot: int, rng) -> dict:
    n = len(next(iter(gen.values())))
    draws: dict[str, list] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_boot):
            r = _set_metrics(gt, _take(gen, rng.integers(0, n, n)), proto, metrics)
            for k, v in r.items():
                draws.setdefault(k, []).append(v)
    ci = {}
    for k, v in draws.items():
        a = np.asarray(v, float)
        a = a[np.isfinite(a)]
        ci[k] = [float(np.percentile(a, 2.5)), float(np.percentile(a, 97.5))] if len(a) else [np.nan, np.nan]
    return ci


# ------------------------------------------------------------------------------ entry point
def evaluate_motions(gen: list, gt: list, music: list | None = None, protocol: str | Protocol = "tang2018",
                     metrics=None, gt_music: list | None = None, bootstrap: int = 0, seed: int | None = None,
                     cache_dir: str | os.PathLike | None = None, **protocol_overrides) -> dict:
    """Evaluate generated motions against ground-truth motions.

    Args:
        gen, gt: lists of :class:`~choreogen.motion.Motion` (SMPL family; any fps, Y-up).
        music: audio path (or None) per generated motion, for BAS; None = each motion's ``.music``.
        protocol: a preset name (``tang2018``, ``aistpp-bailando``, ...) or a Protocol.
        metrics: subset of :data:`~choreogen.eval.protocols.ALL_METRICS` (default: the protocol's).
        gt_music: audio per GT motion (default: each GT motion's ``.music``).
        bootstrap: number of percentile-bootstrap resamples over samples for 95% CIs (0: none).
        seed: bootstrap seed (default: the protocol's).
        cache_dir: where GT per-sample values are cached (None: in memory only).
        **protocol_overrides: Protocol fields to override (``clip_frames=300``...).

    Returns a JSON-ready dict ``{"protocol", "generated", "ground_truth", "ci", "details", "notes"}``;
    ``generated``/``ground_truth`` hold ``fid_k, fid_g, div_k, div_g, bas`` and the protocol's
    physics metrics. The GT row evaluates the GT clips against the GT pool itself.
    """
    proto = get_protocol(protocol, **protocol_overrides)
    mset = set(metrics or proto.metrics)
    bad = mset - set(ALL_METRICS)
    if bad:
        raise ConfigError(f"unknown metric(s) {', '.join(sorted(bad))} (choose from {', '.join(ALL_METRICS)})")
    if not gen or not gt:
        raise InputError("evaluation needs at least one generated and one ground-truth motion")
    music = list(music) if music is not None else [find_music(m, None) for m in gen]
    gt_music = list(gt_music) if gt_music is not None else [find_music(m, None) for m in gt]
    if len(music) != len(gen) or len(gt_music) != len(gt):
        raise ConfigError("music lists must have one entry per motion")
    memo: dict = {"__cache_dir__": cache_dir}
    gt_clips, gt_vals, cached = _gt_values(gt, gt_music, proto, mset, cache_dir, memo)
    gen_clips = [c for m, mu in zip(gen, music) for c in make_clips(m, proto, mu, is_gt=False)]
    gen_vals = _per_sample(gen_clips, proto, mset, memo)
    res_gen = _set_metrics(gt_vals, gen_vals, proto, mset)
    res_gt = _set_metrics(gt_vals, gt_vals, proto, mset)
    res_gen["n_samples"], res_gt["n_samples"] = len(gen_clips), len(gt_clips)
    ci: dict = {}
    if bootstrap:
        rng = np.random.default_rng(proto.seed if seed is None else seed)
        ci = {"generated": _bootstrap(gt_vals, gen_vals, proto, mset, bootstrap, rng),
              "ground_truth": _bootstrap(gt_vals, gt_vals, proto, mset, bootstrap, rng),
              "method": f"percentile bootstrap over samples, {bootstrap} resamples, 95%"}
    details = {"gt_cache_hit": cached, "generated_samples": [c.name for c in gen_clips],
               "ground_truth_samples": [c.name for c in gt_clips]}
    if "bas" in gen_vals:
        details["bas_samples_without_music"] = {"generated": int(np.isnan(gen_vals["bas"]).sum()),
                                                "ground_truth": int(np.isnan(gt_vals["bas"]).sum())}
    if "geometric" in gt_vals:
        details["gt_constant_geometric_dims"] = constant_dims(gt_vals["geometric"])
        details["gt_constant_kinetic_dims"] = constant_dims(gt_vals["kinetic"])
    return {"protocol": proto.to_dict(), "generated": res_gen, "ground_truth": res_gt, "ci": ci,
            "details": details, "notes": list(proto.notes), "version": EVAL_VERSION}


def evaluate_folders(gen_dir, gt_dir, music_dir=None, protocol="tang2018", metrics=None,
                     bootstrap: int = 200, cache_dir=None, gt_names: list[str] | None = None,
                     strict: bool = False, log=None, **kw) -> dict:
    """Load every motion file in ``gen_dir`` and ``gt_dir`` and run :func:`evaluate_motions`.

    Music for BAS: ``music_dir/<stem>.<audio ext>``, else the motion's own ``music``.
    ``gt_names``: only GT files with these stems (e.g. a split). ``cache_dir`` defaults to
    :func:`default_cache_dir`.
    Ground-truth captures with tracking gaps (NaN frames) are cut to their longest valid run
    (:func:`~choreogen.eval.prepare.valid_part`; a file without one is dropped); each such case is
    passed to ``log`` (a callable taking one line) and listed in ``details["gt_nan_frames"]``.
    ``strict``: refuse such a ground-truth file instead (an InputError).
    """
    from ..io import load_motion
    from ..motion.sequence import nan_frames_allowed
    from .prepare import valid_part

    def load_dir(d, names=None, lenient=False):
        d = Path(d)
        if not d.is_dir():
            raise InputError("not a folder", d)
        files = sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in (".npz", ".pkl", ".npy", ".bvh"))
        if names is not None:
            files = [p for p in files if p.stem in set(names)]
        if not files:
            raise InputError("no motion files (.npz, .pkl, .npy, .bvh) in folder", d)
        if not lenient:
            return [load_motion(p) for p in files]
        with nan_frames_allowed():
            return [load_motion(p) for p in files]

    gen = load_dir(gen_dir)
    gt, notes = [], []
    for m in load_dir(gt_dir, gt_names, lenient=not strict):
        part, note = valid_part(m)
        if note is not None:
            notes.append(note)
            if log is not None:
                log(note)
        if part is not None:
            gt.append(part)
    if not gt:
        raise InputError("no ground-truth motion has a usable part without NaN frames", gt_dir)
    music = [find_music(m, music_dir) for m in gen]
    gt_music = [find_music(m, music_dir) for m in gt]
    res = evaluate_motions(gen, gt, music, protocol, metrics, gt_music=gt_music, bootstrap=bootstrap,
                           cache_dir=cache_dir if cache_dir is not None else default_cache_dir(), **kw)
    res["details"]["gt_nan_frames"] = notes
    return res
