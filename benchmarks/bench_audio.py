"""Audio room benchmark: beat accuracy on real songs, and time / peak memory of decoding + features.

Usage (from the repository root, shared data at ../shared/data):

    python benchmarks/bench_audio.py            # beats on the 3 songs + timing/memory (3 and 10 min)
    python benchmarks/bench_audio.py --meter    # also meter (3/4 vs 4/4) accuracy on Tang2018

Beats: true beats = pretty_midi.PrettyMIDI(notes.mid).get_beats() (Frets-on-Fire charts), scored with
mir_eval.beat.f_measure (+-70 ms, first 5 s trimmed as mir_eval recommends). Raw = chart as is;
aligned = chart shifted by the offset that maximises the onset strength at the chart beats
(choreogen.audio.annotation_offset, independent of the tracker).

Timing: each measurement runs in a fresh Python process (cold: imports, numba JIT, decoding,
features) and then repeats the same work in that process (warm). Peak RSS is the process's
VmHWM (/proc/self/status); the baseline after imports (numpy, librosa, torch via choreogen) is
printed beside it. Threads are limited to 1.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUSIC = Path(os.environ.get("CHOREOGEN_SHARED", ROOT.parent / "shared")) / "data" / "music"
SONGS = ["sectoid/Metal_madness", "sectoid/War_of_freedom", "muldjord/chaos_god"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
       "NUMBA_NUM_THREADS": "1"}

CHILD = r"""
import json, sys, time

def hwm_mb():  # peak RSS of this process (VmHWM; unlike ru_maxrss it is not inherited over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

t0 = time.perf_counter()
import numpy as np
from choreogen.audio import load_audio, music_features, analyze_beats
from choreogen.audio.source import MusicSource
t_import = time.perf_counter() - t0
rss_import = hwm_mb()
path, what = sys.argv[1], sys.argv[2]
def work():
    if what == "decode":
        y, sr = load_audio(path, sr=15360)
        return y.shape
    src = MusicSource(path)
    F = music_features(src, kind="baseline35", fps=30, cache=False)
    if what == "all":
        analyze_beats(src, cache=False)
    return F.shape
out = {"import_s": t_import, "rss_after_import_mb": rss_import}
for run in ("cold", "warm"):
    t = time.perf_counter(); shape = work(); out[run + "_s"] = time.perf_counter() - t
    out[run + "_peak_rss_mb"] = hwm_mb()
out["shape"] = list(shape)
print(json.dumps(out))
"""


def f_measure(ref, est):
    import mir_eval

    return float(mir_eval.beat.f_measure(mir_eval.beat.trim_beats(ref), mir_eval.beat.trim_beats(est)))


def bench_beats() -> list[dict]:
    import numpy as np
    import pretty_midi

    from choreogen.audio import analyze_beats, annotation_offset
    from choreogen.audio.source import MusicSource

    rows = []
    for song in SONGS:
        pm = pretty_midi.PrettyMIDI(str(MUSIC / song / "notes.mid"))
        ref, dref = pm.get_beats(), pm.get_downbeats()
        chart_bpm = float(60.0 / np.median(np.diff(ref)))
        src = MusicSource(MUSIC / song / "song.ogg")
        off = annotation_offset(src, ref)
        for method in ("auto", "dp", "librosa"):
            t = time.perf_counter()
            r = analyze_beats(src, method=method, cache=False)
            el = time.perf_counter() - t
            rows.append({"song": song, "method": method, "used": r.method, "chart_bpm": round(chart_bpm, 2),
                         "tempo": round(r.tempo, 2), "offset_s": round(off, 4),
                         "F_raw": round(f_measure(ref, r.beats), 3),
                         "F_aligned": round(f_measure(ref + off, r.beats), 3),
                         "downbeat_F_aligned": round(f_measure(dref + off, r.downbeats), 3),
                         "meter": r.meter, "seconds": round(el, 1)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def bench_meter() -> dict:
    from choreogen.audio import analyze_beats

    tang = MUSIC.parent / "tang2018"
    ok = total = 0
    per = {}
    for mp3 in sorted(tang.glob("DANCE_*.mp3")):
        genre = mp3.stem.split("_")[1]
        want = 3 if genre == "W" else 4
        got = analyze_beats(mp3, cache=False).meter
        per.setdefault(genre, [0, 0])
        per[genre][0] += int(got == want)
        per[genre][1] += 1
        ok += int(got == want)
        total += 1
    res = {"accuracy": round(ok / max(total, 1), 3), "n": total, "per_genre_correct_of": per}
    print(json.dumps(res), flush=True)
    return res


def run_child(path: Path, what: str) -> dict:
    r = subprocess.run([sys.executable, "-c", CHILD, str(path), what], capture_output=True, text=True, env=ENV,
                       cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def make_long_song(dest: Path, minutes: float = 10.0) -> Path:
    """Concatenate the three songs (44.1 kHz stereo) into a ~10 min FLAC, written block by block."""
    import soundfile as sf

    need = int(minutes * 60 * 44100)
    with sf.SoundFile(dest, "w", samplerate=44100, channels=2, format="FLAC") as out:
        while need > 0:
            for song in SONGS:
                with sf.SoundFile(MUSIC / song / "song.ogg") as f:
                    for block in f.blocks(blocksize=1 << 16, dtype="float32", always_2d=True):
                        block = block[:need]
                        out.write(block)
                        need -= len(block)
                        if need <= 0:
                            return dest
    return dest


def bench_speed() -> dict:
    res = {}
    three = MUSIC / "sectoid" / "War_of_freedom" / "song.ogg"  # 2:55, 44.1 kHz stereo Vorbis
    for what in ("decode", "features", "all"):
        res[f"3min_{what}"] = run_child(three, what)
        print("3 min", what, json.dumps(res[f"3min_{what}"]), flush=True)
    with tempfile.TemporaryDirectory() as d:
        long = make_long_song(Path(d) / "long10.flac")
        for what in ("decode", "features"):
            res[f"10min_{what}"] = run_child(long, what)
            print("10 min", what, json.dumps(res[f"10min_{what}"]), flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--meter", action="store_true", help="also measure meter accuracy on Tang2018")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-beats", action="store_true")
    ap.add_argument("--json", type=Path, help="write all results here")
    a = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    out = {"date": time.strftime("%Y-%m-%d"), "cpu_count": os.cpu_count()}
    if not a.skip_beats:
        out["beats"] = bench_beats()
    if a.meter:
        out["meter"] = bench_meter()
    if not a.skip_speed:
        out["speed"] = bench_speed()
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
