"""Build M2PEnc's synthetic pose set (SDGPip at CPU scale, issue 15) into an ignored folder.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/m2penc_prepare.py [--data ../shared/data] \
        [--out data_prepared/m2penc] [--rates 0.87,1.0,1.15] [--max-songs N]

Same as ``choreogen data m2penc ../shared/data/tang2018 --music ../shared/data/music --out ...``.
Writes ``train.npz`` (teacher dances of the train songs of the fixed tang2018 split and of the three
../shared/data/music songs, plus the real train captures at each rate) and ``val.npz`` (the same for
the 9 val songs: held-out music, never trained on). See :mod:`choreogen.tasks.posevideo.sdgpip`.
Nothing here is committed (data terms).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreogen.tasks.posevideo import sdgpip  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default="data_prepared/m2penc")
    ap.add_argument("--rates", default="0.87,1.0,1.15")
    ap.add_argument("--max-songs", type=int, default=None)
    ap.add_argument("--model", default=None, help="teacher generator (default: the bundled default)")
    a = ap.parse_args()
    from choreogen.api import dance3d_dancer

    teach = dance3d_dancer(a.model)
    sdgpip.build(Path(a.data) / "tang2018", a.out, lambda song, genre=None: teach(song, genre=genre),
                 music_root=Path(a.data) / "music", rates=[float(r) for r in a.rates.split(",")],
                 max_songs=a.max_songs, log=print)


if __name__ == "__main__":
    main()
