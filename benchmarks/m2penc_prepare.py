"""Build M2PEnc's synthetic pose set (SDGPip at CPU scale, issue 15) into an ignored folder.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/m2penc_prepare.py [--data ../shared/data] \
        [--out data_prepared/m2penc] [--rates 0.87,1.0,1.15] [--max-songs N]

Writes ``train.npz`` (teacher dances of the train songs of the fixed tang2018 split and of the three
../shared/data/music songs, plus the real train captures at each rate) and ``val.npz`` (the same for
the 9 val songs: held-out music, never trained on). See :mod:`choreogen.tasks.posevideo.sdgpip`.
Nothing here is committed (data terms).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.data.datasets import iter_dataset  # noqa: E402
from choreogen.data.splitting import fixed_split  # noqa: E402
from choreogen.tasks.posevideo import sdgpip  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default="data_prepared/m2penc")
    ap.add_argument("--rates", default="0.87,1.0,1.15")
    ap.add_argument("--max-songs", type=int, default=None)
    ap.add_argument("--model", default=None, help="teacher generator (default: the bundled default)")
    a = ap.parse_args()
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline

    pipe = Dance3DPipeline.from_pretrained(a.model)
    genres = set(pipe.genres)

    def dancer(song, genre=None):
        return pipe(song, genre=genre if genre in genres else None, seed=0).motion

    split = fixed_split("tang2018")
    rates = [float(r) for r in a.rates.split(",")]
    caps = {n: m for n, m, err in iter_dataset(Path(a.data) / "tang2018", "tang2018") if m is not None}
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    for part in ("val", "train"):
        names = [n for n in split[part] if n in caps][: a.max_songs]
        songs = [(n, str(caps[n].music), caps[n].genre) for n in names]
        if part == "train":
            songs += [(p.parent.name, str(p), None) for p in sorted((Path(a.data) / "music").glob("*/*/song.ogg"))]
        items = sdgpip.teacher_items(songs, dancer, log=print)
        items += sdgpip.capture_items([caps[n] for n in names], rates if part == "train" else [1.0], log=print)
        sdgpip.save(out / f"{part}.npz", items)
        print(f"{part}: {len(items)} sequences, {sum(len(i[3]) for i in items) / sdgpip.FPS / 60:.1f} min "
              f"({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
