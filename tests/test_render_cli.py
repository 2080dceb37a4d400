"""``choreogen render`` end to end: the motion's own music, --no-music, clean errors, no partial output."""
from __future__ import annotations

import numpy as np
import pytest

from choreogen.io import load_motion, save_motion
from choreogen.render.encoder import probe


def test_render_contract_npz_uses_its_music(tang_dir, tmp_path, run_cli):
    m = load_motion(tang_dir / "DANCE_R_3.npz").slice(0, 75)  # 3 s; music = the Tang2018 mp3
    save_motion(m, tmp_path / "r3.npz")
    code, out, err = run_cli(["render", tmp_path / "r3.npz", "-o", tmp_path / "r3.mp4", "--quiet",
                              "--width", "320", "--height", "240"])
    assert code == 0, err
    info = probe(tmp_path / "r3.mp4")
    assert info["video"] == ["h264"] and info["audio"] == ["aac"]
    assert info["duration"] == pytest.approx(3.0, abs=0.05)
    assert "DANCE_R_3.mp3" in out
    code, out, err = run_cli(["render", tmp_path / "r3.npz", "-o", tmp_path / "silent.mp4", "--no-music",
                              "--quiet", "--width", "320", "--height", "240"])
    assert code == 0, err
    assert probe(tmp_path / "silent.mp4")["audio"] == []


@pytest.mark.parametrize("make,extra,msg", [
    (lambda d: (d / "x.wav").write_text("text, not audio"), ["{d}/x.wav"], "unsupported motion file type"),
    (lambda d: np.savez(d / "nan.npz", joints=np.full((5, 24, 3), np.nan, np.float32), fps=30.0),
     ["{d}/nan.npz"], "NaN"),
    (lambda d: np.savez(d / "shape.npz", joints=np.zeros((5, 7, 3), np.float32), fps=30.0),
     ["{d}/shape.npz"], "joint layout"),
    (lambda d: (np.savez(d / "ok.npz", joints=np.zeros((5, 17, 2), np.float32), fps=30.0),
                (d / "song.wav").write_text("text")), ["{d}/ok.npz", "--music", "{d}/song.wav"], "not a readable audio"),
    (lambda d: (np.savez(d / "ok.npz", joints=np.zeros((5, 17, 2), np.float32), fps=30.0),
                (d / "blocker").write_text("x")), ["{d}/ok.npz", "-o", "{d}/blocker/out.mp4"], "blocker"),
    (lambda d: np.savez(d / "ok.npz", joints=np.zeros((5, 17, 2), np.float32), fps=30.0),
     ["{d}/ok.npz", "--width", "333"], "even"),
])
def test_render_bad_inputs(tmp_path, run_cli, make, extra, msg):
    make(tmp_path)
    before = set(tmp_path.rglob("*"))
    args = ["render", *[a.format(d=tmp_path) for a in extra], "--quiet"]
    if "-o" not in extra:
        args += ["-o", str(tmp_path / "out.mp4")]
    code, _, err = run_cli(args)
    assert code == 2
    assert err.startswith("error:") and msg in err and "Traceback" not in err
    assert set(tmp_path.rglob("*")) == before  # no partial output, no temp files


def _click_song(path, seconds=3.0, sr=22050):
    import soundfile as sf

    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * 220 * t) * (np.mod(t, 0.5) < 0.05)
    sf.write(path, y.astype(np.float32), sr)


def test_generated_npz_keeps_its_music_from_another_folder(tmp_path, run_cli, monkeypatch):
    """generate stores the song as an absolute path; render from elsewhere finds it, or says it is gone."""
    work, other = tmp_path / "work", tmp_path / "other"
    work.mkdir(), other.mkdir()
    _click_song(work / "song.wav")
    monkeypatch.chdir(work)
    code, out, err = run_cli(["generate", "song.wav", "--out", "out", "--seconds", "2", "--no-video", "--no-bvh"])
    assert code == 0, err
    m = load_motion(work / "out" / "song.npz")
    assert m.music == str(work / "song.wav")  # absolute, not "song.wav"
    monkeypatch.chdir(other)
    code, out, err = run_cli(["render", work / "out" / "song.npz", "-o", "a.mp4", "--quiet",
                              "--width", "160", "--height", "120"])
    assert code == 0, err
    assert probe(other / "a.mp4")["audio"] == ["aac"] and "warning" not in err
    (work / "song.wav").unlink()
    code, out, err = run_cli(["render", work / "out" / "song.npz", "-o", "b.mp4", "--quiet",
                              "--width", "160", "--height", "120"])
    assert code == 0, err
    warn = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warn) == 1 and str(work / "song.wav") in warn[0] and "without sound" in warn[0]
    assert probe(other / "b.mp4")["audio"] == []


def test_render_of_an_excerpt_dance_starts_its_music_where_the_dance_starts(tmp_path, run_cli):
    """A dance generated with --start S keeps music_offset_s = S: its own music is muxed from S."""
    import subprocess

    import soundfile as sf

    from choreogen.motion import Motion
    from choreogen.render.encoder import ffmpeg_exe

    sr = 44100
    song = np.zeros(sr * 6, np.float32)  # a click at exactly 3.0 s
    song[3 * sr: 3 * sr + 441] = 0.9
    sf.write(tmp_path / "click.wav", song, sr)
    T = 60  # 2 s at 30 fps
    m = Motion(skeleton="smpl24", fps=30.0, poses=np.zeros((T, 72), np.float32),
               trans=np.tile(np.float32([0.0, 0.93, 0.0]), (T, 1)), music=str(tmp_path / "click.wav"),
               meta={"music_offset_s": 2.0})
    save_motion(m, tmp_path / "d.npz")
    code, out, err = run_cli(["render", tmp_path / "d.npz", "-o", tmp_path / "d.mp4", "--quiet",
                              "--width", "160", "--height", "120"])
    assert code == 0, err
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(tmp_path / "d.mp4"), "-vn", "-ac", "1", "-ar",
                    str(sr), str(tmp_path / "back.wav")], check=True)
    back, _ = sf.read(tmp_path / "back.wav")
    assert np.argmax(np.abs(back) > 0.3) / sr == pytest.approx(1.0, abs=0.01)  # 3.0 s of song - 2.0 s offset


def test_generate_start_is_kept_as_the_music_offset(tmp_path, run_cli):
    _click_song(tmp_path / "s.wav", seconds=4.0)
    code, out, err = run_cli(["generate", tmp_path / "s.wav", "--out", tmp_path / "o", "--start", "1.5",
                              "--seconds", "2", "--no-video", "--no-bvh", "--steps", "4"])
    assert code == 0, err
    assert load_motion(tmp_path / "o" / "s.npz").meta["music_offset_s"] == 1.5
