"""'Same song, four genres' (GCDance's user-study setting) on the bundled example song (MIT licence, so the
video may be committed): the bundled model, the same seed, one free-text prompt per genre, rendered 2 x 2
with the music. ``python benchmarks/four_genres_example.py [--out docs/img/four_genres_example.mp4]``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from genre_control import side_by_side  # noqa: E402

from choreogen.api import Dance3DPipeline, example_song  # noqa: E402

PROMPTS = {"chacha": "a lively cha-cha with quick hip action and syncopated steps",
           "rumba": "a slow sensual rumba with swaying hips",
           "tango": "a sharp dramatic tango with staccato head snaps",
           "waltz": "an elegant waltz in three-four time with rise and fall"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("docs/img/four_genres_example.mp4"))
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    pipe = Dance3DPipeline.from_pretrained()
    motions = {}
    for g, p in PROMPTS.items():
        res = pipe(example_song(), prompt=p, seconds=a.seconds, seed=a.seed)
        print(f"{g}: {res.genre_match.describe()}")
        motions[res.motion.genre or g] = res.motion
    side_by_side(motions, example_song(), 0.0, a.seconds, a.out)


if __name__ == "__main__":
    main()
