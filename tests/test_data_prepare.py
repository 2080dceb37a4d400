"""`choreogen data prepare` and PreparedWindows on a small real Tang2018 subset; fixed split;
folder datasets; bad input."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from choreogen.data.datasets import get_split, iter_dataset
from choreogen.data.prepare import prepare_dataset, window_count
from choreogen.data.splitting import fixed_split, split_file_path, stratified_split
from choreogen.data.windows import PreparedWindows, load_manifest
from choreogen.errors import ConfigError, InputError
from choreogen.io import load_motion, save_motion
from choreogen.motion.representation import decode, encode

torch.set_num_threads(1)
SEQS = ["DANCE_C_2", "DANCE_R_4", "DANCE_T_2"]  # train, val, train in the fixed split
SECONDS = 12


def _music_features():
    try:
        from choreogen.audio import music_features
    except ImportError:
        music_features = None
    if music_features is None:
        pytest.skip("choreogen.audio.music_features is not available in this checkout")
    return music_features


@pytest.fixture(scope="module")
def _cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _feature_cache(_cache_dir, monkeypatch):
    monkeypatch.setenv("CHOREOGEN_CACHE", str(_cache_dir))  # never write into the user's cache


def _write_seq(dst, tang_dir, name, seconds=SECONDS):
    d = np.load(tang_dir / f"{name}.npz")
    n = int(25 * seconds)
    np.savez(dst / f"{name}.npz", poses=d["poses"][:n], trans=d["trans"][:n], betas=d["betas"], fps=d["fps"],
             genre=d["genre"])
    y, sr = sf.read(tang_dir / f"{name}.mp3", frames=int(seconds * 44100), dtype="float32", always_2d=True)
    sf.write(dst / f"{name}.wav", y.mean(axis=1), sr)


@pytest.fixture(scope="module")
def tang_small(tang_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("tang_small")
    for n in SEQS:
        _write_seq(d, tang_dir, n)
    return d


def _prepare(root, out, **kw):
    kw.setdefault("window", 2.0)
    kw.setdefault("stride", 0.5)
    return prepare_dataset(root, "tang2018", out, progress=False, **kw)


@pytest.fixture(scope="module")
def prepared(tang_small, tmp_path_factory, _cache_dir):
    _music_features()
    mp = pytest.MonkeyPatch()
    mp.setenv("CHOREOGEN_CACHE", str(_cache_dir))
    out = tmp_path_factory.mktemp("prep") / "tang"
    try:
        return out, _prepare(tang_small, out)
    finally:
        mp.undo()


# ------------------------------------------------------------------------------------ split
def test_fixed_tang2018_split():
    s = fixed_split("tang2018")
    genre_of = {"C": "chacha", "R": "rumba", "T": "tango", "W": "waltz"}
    names = s["train"] + s["val"]
    assert len(names) == len(set(names)) == 44 and len(s["val"]) == 9
    count = {g: [0, 0] for g in genre_of.values()}
    for part, i in (("train", 0), ("val", 1)):
        for n in s[part]:
            count[genre_of[n.split("_")[1]]][i] += 1
    assert count == {"chacha": [5, 1], "rumba": [6, 2], "tango": [1, 0], "waltz": [23, 6]}
    # the shipped file is exactly what the documented rule produces
    again = stratified_split(names, [genre_of[n.split("_")[1]] for n in names], 0.2, 2018)
    assert again == s
    assert json.loads(split_file_path("tang2018").read_text())["seed"] == 2018
    assert get_split("tang2018") == s


def test_fixed_split_covers_the_shared_dataset(tang_dir):
    s = fixed_split("tang2018")
    assert sorted(p.stem for p in tang_dir.glob("*.npz")) == sorted(s["train"] + s["val"])


@pytest.mark.parametrize("frames,window,stride,n", [(359, 60, 15, 20), (60, 60, 15, 1), (59, 60, 15, 0),
                                                    (150, 150, 15, 1), (164, 150, 15, 1), (165, 150, 15, 2)])
def test_window_count_formula(frames, window, stride, n):
    assert window_count(frames, window, stride) == n


# ------------------------------------------------------------------------------------ prepare
def test_prepare_manifest_and_arrays(prepared, tang_small):
    music_features = _music_features()
    out, man = prepared
    assert man["status"] == "built"
    F = (25 * SECONDS - 1) * 30 // 25 + 1  # 359 frames at 30 fps
    assert (man["dataset"], man["fps"], man["window_frames"], man["stride_frames"]) == ("tang2018", 30.0, 60, 15)
    assert (man["skeleton"], man["motion_dim"], man["features"]) == ("smpl24", 151, "baseline35")
    assert man["genres"] == ["chacha", "rumba", "tango", "waltz"]
    seqs = man["sequences"]
    assert [(s["name"], s["split"], s["genre_index"], s["offset"], s["frames"], s["windows"]) for s in seqs] == [
        ("DANCE_C_2", "train", 0, 0, F, 20), ("DANCE_R_4", "val", 1, F, F, 20), ("DANCE_T_2", "train", 2, 2 * F, F, 20)]
    assert man["totals"] == {"sequences": 3, "frames": 3 * F, "windows": 60, "train_windows": 40, "val_windows": 20,
                             "test_windows": 0, "skipped": 0}
    for s in seqs:
        assert s["motion_sha256"] == hashlib.sha256((tang_small / f"{s['name']}.npz").read_bytes()).hexdigest()
        assert s["music_sha256"] == hashlib.sha256((tang_small / f"{s['name']}.wav").read_bytes()).hexdigest()
    assert load_manifest(out)["fingerprint"] == man["fingerprint"]

    mot = np.load(out / "motion.npy")
    mus = np.load(out / "music.npy")
    win = np.load(out / "windows.npy")
    assert mot.dtype == mus.dtype == np.float32 and win.dtype == np.int64
    assert mot.shape == (3 * F, 151) and mus.shape[0] == 3 * F and mus.shape[1] == man["music_dim"]
    # windows: [sequence, global start, split]; starts every 15 frames from each sequence's offset
    assert win.shape == (60, 3)
    assert win[:, 0].tolist() == [0] * 20 + [1] * 20 + [2] * 20
    assert win[:20, 1].tolist() == list(range(0, 300, 15)) and win[20, 1] == F and win[59, 1] == 2 * F + 285
    assert win[:, 2].tolist() == [0] * 20 + [1] * 20 + [0] * 20
    # the stored sequence is exactly load -> 30 fps -> canonical -> encode, music for the same frames
    for i, s in enumerate(seqs):
        m = load_motion(tang_small / f"{s['name']}.npz").resample(30).canonical()
        want = encode(m.poses, m.trans, m.skel)
        assert np.abs(mot[i * F:(i + 1) * F] - want).max() < 1e-5
        assert np.allclose(mus[i * F:(i + 1) * F],
                           music_features(tang_small / f"{s['name']}.wav", kind="baseline35", fps=30.0, n_frames=F),
                           atol=1e-5)
        # canonical frame: floor at y = 0, root starts at the xz origin
        j = decode(torch.from_numpy(mot[i * F:(i + 1) * F]).double(), m.skel)["joints"].numpy()
        assert j[..., 1].min() == pytest.approx(0.0, abs=1e-4)
        assert np.abs(j[0, 0, [0, 2]]).max() < 1e-5


def test_prepared_windows_recentre(prepared):
    out, man = prepared
    tr, va, al = PreparedWindows(out, "train"), PreparedWindows(out, "val"), PreparedWindows(out, "all")
    assert (len(tr), len(va), len(al)) == (40, 20, 60)
    assert tr.genres == man["genres"] and tr.motion_dim == 151
    raw_ds = PreparedWindows(out, "all", recentre=False)
    mot = np.load(out / "motion.npy")
    for i in (0, 7, 33, 59):
        item, raw = al[i], raw_ds[i]
        seq, start = int(al.windows[i, 0]), int(al.windows[i, 1])
        assert item["motion"].dtype == torch.float32 and item["motion"].shape == (60, 151)
        assert item["music"].shape == (60, man["music_dim"])
        assert item["seq"] == seq and item["start"] == start - man["sequences"][seq]["offset"]
        assert item["genre"].dtype == torch.int64 and int(item["genre"]) == man["sequences"][seq]["genre_index"]
        assert np.array_equal(raw["motion"].numpy(), mot[start:start + 60])
        x, r = item["motion"].numpy(), raw["motion"].numpy()
        assert x[0, 4] == 0 and x[0, 6] == 0  # window starts at the xz origin
        assert np.allclose(x[:, 4] - r[:, 4], -r[0, 4]) and np.allclose(x[:, 6] - r[:, 6], -r[0, 6])
        keep = [c for c in range(151) if c not in (4, 6)]  # y and everything else untouched
        assert np.array_equal(x[:, keep], r[:, keep])
    assert {int(va[i]["seq"]) for i in range(len(va))} == {1}
    # pickling (DataLoader workers) sends paths, not the arrays, and re-opens the memory maps
    import pickle

    blob = pickle.dumps(al)
    assert len(blob) < 50_000 < (out / "motion.npy").stat().st_size
    clone = pickle.loads(blob)
    assert isinstance(clone.motion, np.memmap) and torch.equal(clone[33]["motion"], al[33]["motion"])
    with pytest.raises(InputError, match="unknown split 'dev'"):
        PreparedWindows(out, "dev")


def test_prepare_is_idempotent_and_rebuilds_on_change(tang_small, tmp_path):
    _music_features()
    out = tmp_path / "p"
    assert _prepare(tang_small, out)["status"] == "built"
    stamp = {f: (out / f).stat().st_mtime_ns for f in ("motion.npy", "music.npy", "windows.npy", "manifest.json")}
    again = _prepare(tang_small, out)
    assert again["status"] == "up to date" and again["totals"]["windows"] == 60
    assert {f: (out / f).stat().st_mtime_ns for f in stamp} == stamp
    changed = _prepare(tang_small, out, stride=1.0)  # 30-frame stride: (359 - 60) // 30 + 1 = 10 per sequence
    assert changed["status"] == "built" and changed["totals"]["windows"] == 30
    assert len(PreparedWindows(out, "all")) == 30
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".p.")]  # no temp folders left


def test_corrupt_and_unpaired_files_are_skipped(tang_small, tang_dir, tmp_path):
    _music_features()
    root = tmp_path / "mixed"
    root.mkdir()
    for n in SEQS[:2]:
        for ext in (".npz", ".wav"):
            (root / f"{n}{ext}").write_bytes((tang_small / f"{n}{ext}").read_bytes())
    (root / "DANCE_W_1.npz").write_bytes(b"PK\x03\x04 truncated zip")  # corrupt motion
    (root / "DANCE_W_1.wav").write_bytes((tang_small / "DANCE_C_2.wav").read_bytes())
    np.savez(root / "DANCE_W_3.npz", **dict(np.load(tang_small / "DANCE_C_2.npz")))  # no music
    (root / "DANCE_W_4.npz").write_bytes((tang_small / "DANCE_R_4.npz").read_bytes())
    (root / "DANCE_W_4.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")  # corrupt music
    logged: list[str] = []
    man = prepare_dataset(root, "tang2018", tmp_path / "out", window=2.0, stride=0.5, progress=False,
                          log=logged.append)
    assert [s["name"] for s in man["sequences"]] == ["DANCE_C_2", "DANCE_R_4"]
    reasons = {s["name"]: s["reason"] for s in man["skipped"]}
    assert set(reasons) == {"DANCE_W_1", "DANCE_W_3", "DANCE_W_4"}
    assert "DANCE_W_1.npz" in reasons["DANCE_W_1"] and "npz" in reasons["DANCE_W_1"]
    assert "DANCE_W_3.npz: no music file" in reasons["DANCE_W_3"]
    assert "DANCE_W_4.wav" in reasons["DANCE_W_4"]
    assert len(logged) == 3 and all(line.startswith("skipped DANCE_W_") for line in logged)
    assert man["totals"]["skipped"] == 3 and man["totals"]["windows"] == 40


def test_prepare_bad_input(tmp_path, tang_small, capsys):
    with pytest.raises(InputError, match="nope: dataset folder not found"):
        prepare_dataset(tmp_path / "nope", "tang2018", tmp_path / "o", progress=False)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty and holds no prepared dataset"):
        prepare_dataset(tang_small, "tang2018", busy, progress=False)
    with pytest.raises(ConfigError, match="--window must be at least one frame"):
        prepare_dataset(tang_small, "tang2018", tmp_path / "o", window=0.01, progress=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no .npz motion files"):
        prepare_dataset(empty, "tang2018", tmp_path / "o", progress=False)
    # the CLI: one line, exit 2, nothing written
    from choreogen.cli.app import main

    with pytest.raises(SystemExit) as e:
        main(["data", "prepare", str(tmp_path / "nope"), "--format", "tang2018", "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "nope: dataset folder not found" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_cli_prepare_and_info(tang_small, tmp_path, capsys):
    _music_features()
    from choreogen.cli.app import main

    out = tmp_path / "cli"
    args = ["data", "prepare", str(tang_small), "--format", "tang2018", "--out", str(out), "--window", "4",
            "--stride", "1", "-q"]
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 0
    # (359 - 120) // 30 + 1 = 8 windows per sequence
    assert "3 sequences, 1077 frames at 30 fps, 24 windows of 120 frames (train 16, val 8)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(args)
    assert "up to date (3 sequences, 24 windows)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["data", "info", str(out)])
    assert "windows: 24 x 120 frames, stride 30 (train 16, val 8, test 0)" in capsys.readouterr().out


# ------------------------------------------------------------------------------------ folder
def test_folder_dataset(tang_small, tmp_path):
    root = tmp_path / "mine"
    root.mkdir()
    a = load_motion(tang_small / "DANCE_C_2.npz")
    a.genre = "salsa"
    save_motion(a, root / "solo.npz")  # contract npz with poses/trans and a genre
    sf.write(root / "solo.wav", np.zeros(8000, np.float32), 16000)
    b = load_motion(tang_small / "DANCE_R_4.npz")
    b.genre = None
    save_motion(b, root / "duo.npz")
    sf.write(root / "duo.wav", np.zeros(8000, np.float32), 16000)
    (root / "genres.json").write_text(json.dumps({"duo": "bachata"}))
    got = {n: (m, e) for n, m, e in iter_dataset(root, "folder")}
    assert got["solo"][0].genre == "salsa" and got["duo"][0].genre == "bachata"
    assert got["solo"][0].music == str(root / "solo.wav") and got["solo"][0].fps == 25.0
    assert np.abs(got["solo"][0].poses - a.poses).max() == 0
    split = get_split("folder", root)
    assert sorted(split["train"] + split["val"]) == ["duo", "solo"]


# ------------------------------------------------------------------------------------ AIST++ / FineDance
def _sine(path, seconds, sr=22050):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sign(np.sin(2 * np.pi * 2 * t)))).astype(np.float32), sr)


def test_prepare_aistpp_and_finedance_layouts(tang_small, tmp_path):
    import pickle

    from choreogen.io.formats import axis_angle_to_finedance_sixd

    _music_features()
    src = load_motion(tang_small / "DANCE_C_2.npz").slice(0, 76)  # 3 s at 25 fps
    m60 = src.resample(60)
    aist = tmp_path / "aist"
    (aist / "motions").mkdir(parents=True)
    names = ["gBR_sBM_cAll_d04_mBR0_ch01", "gPO_sBM_cAll_d10_mPO1_ch02", "gKR_sBM_cAll_d30_mKR2_ch02",
             "gJB_sFM_cAll_d08_mJB3_ch03", "gHO_sFM_cAll_d20_mHO4_ch04"]
    for n in names:
        with open(aist / "motions" / f"{n}.pkl", "wb") as f:
            pickle.dump({"smpl_poses": m60.poses, "smpl_trans": m60.trans * 90.0, "smpl_scaling": np.array([90.0])}, f)
        _sine(aist / "wav" / f"{n.split('_')[4]}.wav", 3.0)
    (aist / "splits").mkdir()
    (aist / "splits" / "crossmodal_train.txt").write_text(names[0] + "\n" + names[3] + "\n")
    (aist / "splits" / "crossmodal_val.txt").write_text(names[1] + "\n")
    (aist / "splits" / "crossmodal_test.txt").write_text(names[2] + "\n")
    (aist / "splits" / "ignore_list.txt").write_text(names[3] + "\n")
    man = prepare_dataset(aist, "aistpp", tmp_path / "pa", window=1.0, stride=0.5, progress=False)
    F = (len(m60.poses) - 1) // 2 + 1  # 60 -> 30 fps
    assert [(s["name"], s["split"], s["genre"], s["frames"]) for s in man["sequences"]] == [
        (names[0], "train", "break", F), (names[2], "test", "krump", F), (names[1], "val", "pop", F)]  # name order
    assert {s["name"]: s["reason"] for s in man["skipped"]} == {
        names[3]: "in the AIST++ ignore list", names[4]: "not in any official AIST++ split list"}
    n = window_count(F, 30, 15)
    assert man["totals"]["windows"] == 3 * n and man["totals"]["test_windows"] == n
    assert man["genres"][:3] == ["break", "pop", "lock"] and man["sequences"][1]["genre_index"] == 7
    test = PreparedWindows(tmp_path / "pa", "test")
    assert len(test) == n and int(test[0]["genre"]) == 7
    # stored motion == the source resampled to 30 fps (canonical), independent of AIST++'s 60 fps
    m30 = src.resample(30).canonical()
    assert np.abs(np.load(tmp_path / "pa" / "motion.npy")[:F] - encode(m30.poses, m30.trans, m30.skel)).max() < 1e-4

    fd = tmp_path / "fd"
    T = 90
    m30 = src.resample(30).slice(0, T)
    aa = np.zeros((T, 52, 3))
    aa[:, :22] = m30.poses.reshape(T, 24, 3)[:, :22]
    arr = np.concatenate([m30.trans, axis_angle_to_finedance_sixd(aa).reshape(T, 312)], axis=1)
    for n in ("001", "012"):
        (fd / "motion").mkdir(parents=True, exist_ok=True)
        np.save(fd / "motion" / f"{n}.npy", arr.astype(np.float32))
        _sine(fd / "music_wav" / f"{n}.wav", 3.0)
    man = prepare_dataset(fd, "finedance", tmp_path / "pf", window=1.0, stride=1.0, progress=False)
    assert (man["skeleton"], man["motion_dim"]) == ("smplh52", 4 + 3 + 52 * 6)
    assert [(s["name"], s["split"]) for s in man["sequences"]] == [("001", "train"), ("012", "test")]
    assert man["totals"]["windows"] == 2 * window_count(T, 30, 30) == 6
