"""Load test of ``choreogen serve`` on loopback: N concurrent clients submit a dance and poll it.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/web_load.py --clients 50 --time-limit 180

Starts the server as a subprocess (``python -m choreogen.cli serve`` on a free port, its own results
folder), then N asyncio clients (httpx) each: submit (example song, ``--seconds`` s, ``--steps`` sampler
steps; a 503 "busy" answer is retried after 0.5 s), poll the job every 0.2 s until done, download the
glb. Reports requests sent, answers received, lost requests (no answer: connection errors or
timeouts), errors (any status other than 2xx and 503), busy answers, jobs finished, the wall time and
the server's peak resident memory (VmHWM from /proc). Bounded in time: clients stop at the limit.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _client(c: httpx.AsyncClient, stats: Counter, deadline: float, seconds: float, steps: int) -> None:
    async def call(method, url, **kw):
        stats["sent"] += 1
        try:
            r = await c.request(method, url, **kw)
        except httpx.HTTPError:
            stats["lost"] += 1
            return None
        stats["answered"] += 1
        if r.status_code == 503:
            stats["busy"] += 1
        elif r.status_code >= 300:
            stats["errors"] += 1
        return r

    jid = None
    while jid is None and time.monotonic() < deadline:
        r = await call("POST", "/api/jobs", params={"example": "true", "seconds": seconds, "steps": steps})
        if r is not None and r.status_code == 202:
            jid = r.json()["id"]
        else:
            await asyncio.sleep(0.5)
    while jid is not None and time.monotonic() < deadline:
        r = await call("GET", f"/api/jobs/{jid}")
        if r is not None and r.status_code == 200 and r.json()["status"] in ("done", "failed"):
            stats[r.json()["status"]] += 1
            if r.json()["status"] == "done":
                g = await call("GET", f"/api/jobs/{jid}/glb")
                stats["glb_ok"] += int(g is not None and g.status_code == 200 and g.content[:4] == b"glTF")
            return
        await asyncio.sleep(0.2)
    stats["unfinished"] += 1


async def _main(args, base: str) -> Counter:
    stats: Counter = Counter()
    deadline = time.monotonic() + args.time_limit
    limits = httpx.Limits(max_connections=args.clients)
    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as c:
        await asyncio.gather(*[_client(c, stats, deadline, args.seconds, args.steps) for _ in range(args.clients)])
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--time-limit", type=float, default=180.0)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--queue", type=int, default=4)
    args = ap.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="choreogen_load_") as td:
        srv = subprocess.Popen([sys.executable, "-m", "choreogen.cli", "serve", "--port", str(port), "--results", td,
                                "--workers", str(args.workers), "--queue", str(args.queue)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/api/info", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            t0 = time.perf_counter()
            stats = asyncio.run(_main(args, base))
            wall = time.perf_counter() - t0
            rss = _peak_rss_mb(srv.pid)
        finally:
            srv.terminate()
            srv.wait(10)
    res = {"clients": args.clients, "dance_seconds": args.seconds, "steps": args.steps, "workers": args.workers,
           "queue": args.queue, "wall_s": round(wall, 1), "server_peak_rss_mb": round(rss),
           **{k: stats.get(k, 0) for k in ("sent", "answered", "lost", "errors", "busy", "done", "failed", "glb_ok",
                                            "unfinished")},
           "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
