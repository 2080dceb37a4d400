"""Names that dataset files carry: audio extensions, AIST++ genre/music codes, FineDance labels.

Shared by the file readers here and the dataset loaders in :mod:`choreogen.data` (which import
this room, never the other way round).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

AUDIO_EXTS = (".wav", ".mp3", ".ogg", ".flac", ".m4a")

# AIST Dance DB genre codes (official order) -> choreogen genre labels
AISTPP_GENRES = {
    "gBR": "break", "gPO": "pop", "gLO": "lock", "gMH": "middle_hip_hop", "gLH": "la_hip_hop",
    "gHO": "house", "gWA": "waack", "gKR": "krump", "gJS": "street_jazz", "gJB": "ballet_jazz",
}
_AIST_MUSIC = re.compile(r"_(m[A-Z]{2}\d+)(?:_|$)")


def natural_key(name: str):
    """Sort key that orders ``DANCE_W_2`` before ``DANCE_W_10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def aistpp_genre(name: str) -> str | None:
    """Genre label from an AIST++ sequence or music name (``gBR_...`` or ``mBR0`` -> ``break``)."""
    m = re.match(r"g([A-Z]{2})_", name)
    code = m.group(1) if m else None
    if code is None:
        mm = _AIST_MUSIC.search(name) or re.match(r"(m[A-Z]{2}\d+)$", name)
        code = mm.group(1)[1:3] if mm else None
    return AISTPP_GENRES.get(f"g{code}") if code else None


def aistpp_music_name(name: str) -> str | None:
    """``gBR_sBM_cAll_d04_mBR0_ch01`` -> ``mBR0`` (None if the name carries no music id)."""
    m = _AIST_MUSIC.search(name)
    return m.group(1) if m else None


def finedance_genre(root: Path, name: str) -> str | None:
    """Genre from ``label_json/NAME.json`` (keys tried: genre, style2, style1, style), else None."""
    p = root / "label_json" / f"{name}.json"
    if not p.exists():
        return None
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(d, dict):
        for k in ("genre", "style2", "style1", "style"):
            if isinstance(d.get(k), str) and d[k].strip():
                return d[k].strip().lower()
    return None
