"""Reference tempi per genre for tempo-normalised generation (issue #12; ``choreogen.audio.tempo_norm``).

Every training song of the dataset's split (Tang2018 by default) gets a flat-prior tempo estimate
(:func:`~choreogen.audio.tempo_norm.estimate_bpm`) over the whole song; a genre's reference is the
circular mean of its songs' estimates on the octave circle (:func:`~choreogen.audio.tempo_norm.reference_bpm`),
``"*"`` that of all songs. The JSON also lists every song's estimate and how far (in octaves) it folds from
its genre's reference: songs within 0.18 octave keep the right tempo ratio over a 0.8x-1.25x stretch.

Usage: PYTHONPATH=. python benchmarks/tempo_reference.py [--data ../shared/data/tang2018] --json docs/results/tempo_reference.json
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from choreogen.audio import load_audio
from choreogen.audio.tempo_norm import estimate_bpm, fold_bpm, reference_bpm
from choreogen.data.splitting import fixed_split
from choreogen.io import load_motion

SR = 22050


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "tang2018"))
    ap.add_argument("--split", default="train")
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    songs = {}
    for name in fixed_split("tang2018")[a.split]:
        cap = load_motion(Path(a.data) / f"{name}.npz")
        y, sr = load_audio(cap.music, sr=SR)
        songs[name] = {"genre": cap.genre, "bpm": round(estimate_bpm(y, sr), 2)}
        print(name, songs[name], flush=True)
    genres = sorted({s["genre"] for s in songs.values() if s["genre"]})
    ref = {g: round(reference_bpm([s["bpm"] for s in songs.values() if s["genre"] == g]), 2) for g in genres}
    ref["*"] = round(reference_bpm([s["bpm"] for s in songs.values()]), 2)
    for s in songs.values():
        r = ref.get(s["genre"], ref["*"])
        s["fold_octaves"] = round(math.log2(fold_bpm(s["bpm"], r) / r), 3)
    within = sum(abs(s["fold_octaves"]) <= 0.18 for s in songs.values())
    out = {"split": a.split, "reference": ref, "songs_within_0.18_octave": within, "songs": songs}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({"reference": ref, "within_0.18_octave": f"{within}/{len(songs)}"}))


if __name__ == "__main__":
    main()
