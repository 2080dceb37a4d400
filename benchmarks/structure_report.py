"""Rooms, import arrows between them, cycles, and the longest functions of a choreogen tree.

    python benchmarks/structure_report.py [PACKAGE_DIR] [--json out.json]

A room is a sub-package of ``choreogen`` (top-level modules count as their own room). An arrow
A -> B means some module of A imports B (module level or inside a function).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
from collections import Counter
from pathlib import Path


def _room(rel: list[str]) -> str:
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def analyse(pkg: Path) -> dict:
    edges: Counter = Counter()
    funcs = []
    for dp, _, fn in os.walk(pkg):
        for f in fn:
            if not f.endswith(".py"):
                continue
            p = Path(dp) / f
            rel = list(p.relative_to(pkg).parts)
            room = _room(rel)
            tree = ast.parse(p.read_text())
            for n in ast.walk(tree):
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    funcs.append((n.end_lineno - n.lineno + 1, f"{'/'.join(rel)}:{n.name}"))
                targets = []
                if isinstance(n, ast.ImportFrom) and n.level > 0:
                    base = rel[:-1][: len(rel) - 1 - (n.level - 1)]
                    mod = (n.module or "").split(".") if n.module else []
                    full = base + mod
                    targets = [full[0]] if full else [a.name for a in n.names]
                elif isinstance(n, ast.ImportFrom) and (n.module or "").startswith("choreogen."):
                    targets = [n.module.split(".")[1]]
                for t in targets:
                    t = t.removesuffix(".py")
                    if t != room and t not in ("__version__",):
                        edges[(room, t)] += 1
    rooms = sorted({a for a, _ in edges} | {b for _, b in edges})
    graph = {r: sorted({b for a, b in edges if a == r}) for r in rooms}
    cycles = _cycles(graph)
    funcs.sort(reverse=True)
    return {"rooms": len(rooms), "arrows": len(edges), "graph": graph, "cycles": cycles,
            "longest_functions": [{"lines": n, "function": name} for n, name in funcs[:10]]}


def _cycles(graph: dict) -> list[list[str]]:
    """Strongly connected components with more than one room (Tarjan)."""
    index, low, stack, on, out, i = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = i[0]
        i[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("pkg", nargs="?", default=str(Path(__file__).resolve().parents[1] / "choreogen"))
    ap.add_argument("--json")
    a = ap.parse_args()
    r = analyse(Path(a.pkg))
    print(f"{r['rooms']} rooms, {r['arrows']} arrows, cycles: {r['cycles'] or 'none'}")
    for room, tos in r["graph"].items():
        print(f"  {room:12s} -> {', '.join(tos)}")
    print("longest functions:")
    for f in r["longest_functions"]:
        print(f"  {f['lines']:4d}  {f['function']}")
    if a.json:
        Path(a.json).write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
