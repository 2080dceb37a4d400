"""Result tables (rich) and JSON output for :func:`choreogen.eval.evaluate_motions` results."""
from __future__ import annotations

import json
import math
import os

from ..fileio import atomic_write_text

ORDER = ("fid_k", "fid_g", "fid_g_nonconst", "div_k", "div_g", "div_g_nonconst", "bas", "pfc", "pbc",
         "fsr", "fsr_left", "fsr_right", "n_samples")
ARROWS = {"fid_k": "↓", "fid_g": "↓", "fid_g_nonconst": "↓", "div_k": "→GT", "div_g": "→GT",
          "div_g_nonconst": "→GT", "bas": "↑", "pfc": "↓", "pbc": "→GT", "fsr": "↓", "fsr_left": "↓",
          "fsr_right": "↓"}


def _clean(x):
    """JSON-safe copy: NaN/inf -> None, numpy scalars/arrays -> Python."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "tolist"):
        return _clean(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def to_json(result: dict) -> str:
    return json.dumps(_clean(result), indent=1)


def write_json(result: dict, path: str | os.PathLike) -> None:
    atomic_write_text(path, to_json(result) + "\n")


def fmt(v, ci=None) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, int):
        return str(v)
    s = f"{v:.4g}" if abs(v) < 1e5 else f"{v:.3e}"
    if ci and all(c is not None and math.isfinite(c) for c in ci):
        lo, hi = ci
        s += f" [{lo:.4g}, {hi:.4g}]" if max(abs(lo), abs(hi)) < 1e5 else f" [{lo:.2e}, {hi:.2e}]"
    return s


def rows(result: dict) -> list[tuple[str, str, str]]:
    """(metric, generated, ground truth) strings in a fixed order."""
    gen, gt = result["generated"], result["ground_truth"]
    ci = result.get("ci") or {}
    out = []
    for k in ORDER:
        if k in gen or k in gt:
            name = f"{k} {ARROWS.get(k, '')}".strip()
            out.append((name, fmt(gen.get(k), ci.get("generated", {}).get(k)),
                        fmt(gt.get(k), ci.get("ground_truth", {}).get(k))))
    return out


def markdown_table(result: dict, gen_label: str = "generated", gt_label: str = "ground truth") -> str:
    lines = [f"| metric | {gen_label} | {gt_label} |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows(result)]
    return "\n".join(lines)


def print_table(result: dict, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    p = result["protocol"]
    t = Table(title=f"choreogen eval -- protocol {p['name']}", caption=p.get("reproduces", ""))
    t.add_column("metric")
    t.add_column("generated (95% CI)")
    t.add_column("ground truth (95% CI)")
    for r in rows(result):
        t.add_row(*r)
    console.print(t)
    d = result.get("details", {})
    if d.get("gt_constant_geometric_dims"):
        console.print(f"GT-constant geometric dims (0-based) left out of *_nonconst: {d['gt_constant_geometric_dims']}")
    miss = d.get("bas_samples_without_music")
    if miss and (miss["generated"] or miss["ground_truth"]):
        console.print(f"BAS: no music for {miss['generated']} generated / {miss['ground_truth']} GT samples (skipped)")
