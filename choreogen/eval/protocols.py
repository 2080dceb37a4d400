"""Evaluation protocol presets: every knob that changes a published number, made explicit.

A :class:`Protocol` says how motions are brought to the metric's conventions (frame rate,
resampling, crop/windows, joints, origin) and which reference flavour each metric follows. The
presets reproduce published tables (see docs/EVAL.md for the full provenance):

==================  ==========================================================================
``aistpp-bailando``  Bailando CVPR'22 Table 1 (AIST++ test+val, 40 samples): 60 fps, first 1200
                     frames, zero start, GT pool = every non-ignored AIST++ sequence at full
                     length (zero-started), Bailando FID (eps 1e-5), Bailando BAS.
``aistpp-fact``      FACT / mint (liruilong fork) with the *fixed* geometric features: 60 fps, 1200
                     generated frames, raw world coordinates, GT pool full length raw, FACT FID
                     (eps 1e-6, real first), FACT BAS (order 10).
``edge-pfc``         EDGE CVPR'23 PFC: 30 fps Z-up (converted for the user), as given; BAS in the
                     EDGE-derived convention (FACT direction, order 5 at 30 fps); FID/Div after
                     conversion to 60 fps (Bailando conventions; EDGE releases no FID code).
``finedance-lodge``  LODGE CVPR'24 FineDance table: 30 fps (dt constants NOT rescaled), first 1024
                     frames, 22 body joints, zero start + root-relative, Bailando FID, LODGE BAS
                     (whole-song music beats), FSR.
``tang2018``         ours: Tang2018 val split (choreogen/data/splits/tang2018.json), 25 -> 60 fps by
                     slerp + FK, non-overlapping 20 s windows, zero start, Bailando FID/Div/BAS,
                     plus PFC/FSR at 30 fps; FID_g is also reported without GT-constant dims.
==================  ==========================================================================
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace

from ..errors import ConfigError

ALL_METRICS = ("fid_k", "fid_g", "div_k", "div_g", "bas", "pfc", "pbc", "fsr")


@dataclass(frozen=True)
class Protocol:
    """One evaluation protocol (all frame counts at ``feature_fps`` unless stated).

    Attributes:
        name: preset name.
        reproduces: which published table it reproduces, and how closely.
        feature_fps: frame rate motions are converted to for kinetic/geometric features and FID.
        bas_fps: frame rate of motion and music beats for BAS.
        resample: "slerp_fk" (SMPL poses slerped, joints by FK: exact bone lengths) or "linear"
            (joint positions interpolated linearly); SMPL-less motions always use "linear".
        clip_frames: generated/evaluated length in frames at ``feature_fps`` (None: as given).
        windows: "crop" (first ``clip_frames``) or "windows" (every non-overlapping window).
        gt_clip: whether the GT pool is cropped/windowed too (False: full length, as AIST++ refs).
        joints: 24 (SMPL) or 22 (SMPL-X/-H body, LODGE).
        origin: "raw" | "zero_start" | "zero_start_root_relative" (applied to gen and GT).
        fid_flavour: "bailando" (eps 1e-5, generated first) or "fact" (eps 1e-6, raise on imag).
        bas_variant: "fact" | "bailando" | "lodge"; ``bas_fact_order``: FACT minima half-width.
        drop_constant_gt_dims: also report FID_g/Div_g without GT-constant geometric dims.
        metrics: metrics computed by default.
        split: GT split used by scripts ("val" for tang2018), ``n_samples``/``seed``: sampling.
    """

    name: str
    reproduces: str
    feature_fps: float = 60.0
    bas_fps: float = 60.0
    resample: str = "slerp_fk"
    clip_frames: int | None = 1200
    windows: str = "crop"
    gt_clip: bool = False
    joints: int = 24
    origin: str = "zero_start"
    fid_flavour: str = "bailando"
    bas_variant: str = "bailando"
    bas_fact_order: int = 10
    drop_constant_gt_dims: bool = False
    metrics: tuple[str, ...] = ("fid_k", "fid_g", "div_k", "div_g", "bas")
    split: str | None = None
    n_samples: int | None = None
    seed: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["metrics"] = list(self.metrics)
        d["notes"] = list(self.notes)
        return d

    def gt_hash(self) -> str:
        """Hash of the fields that change GT features (part of the GT cache key)."""
        keys = ("feature_fps", "bas_fps", "resample", "clip_frames", "windows", "gt_clip", "joints",
                "origin", "bas_variant", "bas_fact_order")
        blob = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


PROTOCOLS: dict[str, Protocol] = {
    "aistpp-bailando": Protocol(
        name="aistpp-bailando",
        reproduces="Bailando (CVPR'22) Table 1, AIST++ test+val (40 samples); GT row 17.10/10.60/8.19/7.45/0.2374",
        n_samples=40,
        notes=("GT pool: every AIST++ sequence not in ignore_list.txt (~1,320), full length, zero-started.",
               "Bailando's BAS reads precomputed music beats from its dataset JSON; we recompute them "
               "from the audio with its librosa settings, so BAS can differ from the paper (METRICS_SPEC 6b).")),
    "aistpp-fact": Protocol(
        name="aistpp-fact",
        reproduces="FACT / AIST++ (ICCV'21) evaluation (mint, liruilong fork) with the fixed geometric features",
        origin="raw", fid_flavour="fact", bas_variant="fact", n_samples=40,
        notes=("The FACT paper used the buggy geometric extractor: its FID_g is not reproducible (METRICS_SPEC 3).",
               "Generated motions: the 1200 frames after the 120-frame seed; pass them without the seed.")),
    "edge-pfc": Protocol(
        name="edge-pfc",
        reproduces="EDGE (CVPR'23) Table 1 PFC (GT 1.332); BAS/FID in EDGE-derived conventions",
        clip_frames=None, bas_fps=30.0, bas_variant="fact", bas_fact_order=5,
        metrics=("fid_k", "fid_g", "div_k", "div_g", "bas", "pfc"),
        notes=("PFC: 30 fps, Z-up (Y-up input is rotated for you), DT = 1/30, 1e4 x mean over sequences; "
               "it depends on sequence length (EDGE's test.py writes 30 s, the paper evaluates 5 s clips).",
               "EDGE releases no FID/BAS code: FID uses Bailando's conventions after 30 -> 60 fps.")),
    "finedance-lodge": Protocol(
        name="finedance-lodge",
        reproduces="LODGE (CVPR'24) FineDance table: FID_k/FID_g/Div (22-joint body), BAS, FSR",
        feature_fps=30.0, bas_fps=30.0, clip_frames=1024, joints=22, gt_clip=True,
        origin="zero_start_root_relative", bas_variant="lodge",
        metrics=("fid_k", "fid_g", "div_k", "div_g", "bas", "fsr"),
        notes=("Kinetic dt stays 1/60 and the geometric velocity constant 1/120 at 30 fps, as in LODGE.",
               "GT pool: all FineDance motions (train+test), first 1024 frames. LODGE scores BAS on 19 test ids.")),
    "tang2018": Protocol(
        name="tang2018",
        reproduces="choreogen's own Tang2018 (ballroom) val-split table (docs/EVAL.md)",
        clip_frames=1200, windows="windows", gt_clip=True, drop_constant_gt_dims=True,
        metrics=("fid_k", "fid_g", "div_k", "div_g", "bas", "pfc", "fsr"),
        split="val", seed=0,
        notes=("25 fps SMPL fits -> 60 fps by slerp + FK; non-overlapping 20 s windows (1200 frames).",
               "Ballroom GT windows hold constant geometric dims (METRICS_SPEC 4 pitfall): fid_g is the "
               "exact reference value, fid_g_nonconst leaves the GT-constant dims out (listed in the result).",
               "BAS: Bailando variant (smoothed detector) because FACT's strict +-10-frame minima find "
               "no beat on interpolated motion (METRICS_SPEC 6a pitfall).")),
}


def get_protocol(name: str | Protocol, **overrides) -> Protocol:
    """A preset by name (or a Protocol), with field overrides (``clip_frames=300``...)."""
    if isinstance(name, Protocol):
        proto = name
    else:
        if name not in PROTOCOLS:
            raise ConfigError(f"unknown protocol '{name}' (choose from {', '.join(PROTOCOLS)})")
        proto = PROTOCOLS[name]
    bad = [k for k in overrides if k not in Protocol.__dataclass_fields__]
    if bad:
        raise ConfigError(f"unknown protocol option(s): {', '.join(bad)}")
    proto = replace(proto, **overrides) if overrides else proto
    if proto.origin not in ("raw", "zero_start", "zero_start_root_relative"):
        raise ConfigError(f"protocol origin must be raw, zero_start or zero_start_root_relative, got '{proto.origin}'")
    if proto.joints not in (22, 24):
        raise ConfigError(f"protocol joints must be 22 or 24, got {proto.joints}")
    if proto.windows not in ("crop", "windows"):
        raise ConfigError(f"protocol windows must be 'crop' or 'windows', got '{proto.windows}'")
    return proto
