"""The web app's HTTP API in-process (FastAPI TestClient): a job end to end, edits, downloads, limits,
busy answers and the bad-upload corpus (tests/web_corpus.py)."""
from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from choreogen.io import load_motion  # noqa: E402
from choreogen.io.gltf import glb_joint_positions, read_glb_animation  # noqa: E402
from choreogen.web.app import Limits, create_app  # noqa: E402

from web_corpus import CASES  # noqa: E402


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("webres")
    app = create_app(root, limits=Limits(max_upload_bytes=200_000, max_song_seconds=25.0, max_dance_seconds=30.0))
    with TestClient(app) as c:
        c.root = root
        yield c


def _wait(c, jid, timeout=60.0):
    t0 = time.time()
    while time.time() - t0 < timeout:
        s = c.get(f"/api/jobs/{jid}").json()
        if s["status"] in ("done", "failed"):
            return s
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_example_job_downloads_and_edits(client, tmp_path):
    r = client.post("/api/jobs", params={"example": "true", "seconds": 2, "steps": 4, "genre": "waltz", "seed": 3})
    assert r.status_code == 202 and len(r.json()["id"]) >= 20, r.text
    s = _wait(client, r.json()["id"])
    assert s["status"] == "done" and s["frames"] == 60 and s["fps"] == 30.0 and s["step"] == s["total"] == 4
    jid = s["id"]
    files = {}
    for k in ("npz", "bvh", "glb", "mp4", "song"):
        d = client.get(f"/api/jobs/{jid}/{k}")
        assert d.status_code == 200 and len(d.content) > 500, k
        files[k] = d.content
        (tmp_path / f"d.{k}").write_bytes(d.content)
    assert files["mp4"][4:8] == b"ftyp" and files["glb"][:4] == b"glTF" and files["bvh"].startswith(b"HIERARCHY")
    m = load_motion(tmp_path / "d.npz")
    a = read_glb_animation(tmp_path / "d.glb")
    assert np.abs(glb_joint_positions(a) - m.positions()).max() < 1e-4
    # regenerate 0.5-1.5 s: outside the range the dance is kept
    e = client.post(f"/api/jobs/{jid}/edit", json={"mode": "range", "start": 0.5, "end": 1.5, "seed": 7})
    assert e.status_code == 202
    es = _wait(client, e.json()["id"])
    assert es["status"] == "done" and es["parent"] == jid and es["frames"] == 60
    (tmp_path / "e.npz").write_bytes(client.get(f"/api/jobs/{es['id']}/npz").content)
    me = load_motion(tmp_path / "e.npz")
    d = np.abs(me.positions() - m.positions()).max(axis=(1, 2))
    assert d[:10].max() < 0.05 and d[50:].max() < 0.05 and d[20:40].max() > 0.05
    k = client.post(f"/api/jobs/{jid}/edit", json={"mode": "keep_upper", "seed": 1})
    assert k.status_code == 202 and _wait(client, k.json()["id"])["status"] == "done"
    bad = client.post(f"/api/jobs/{jid}/edit", json={"mode": "range", "start": 1.5, "end": 9.0})
    assert bad.status_code == 400 and "inside the dance" in bad.json()["error"]


def test_unknown_job_and_download(client):
    assert client.get("/api/jobs/nope").status_code == 404
    assert client.get("/api/jobs/nope/glb").status_code == 404


def test_openapi_and_page(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/jobs", "/api/jobs/{jid}", "/api/jobs/{jid}/edit", "/api/jobs/{jid}/{kind}"} <= set(spec["paths"])
    page = client.get("/").text
    assert "importmap" in page and "cdn" not in page.lower()
    assert client.get("/vendor/three.module.min.js").status_code == 200
    assert client.get("/vendor/addons/loaders/GLTFLoader.js").status_code == 200


@pytest.mark.parametrize("name,make,status,text", CASES, ids=[c[0] for c in CASES])
def test_bad_upload_corpus(client, name, make, status, text):
    body, params, headers = make()
    before = {p.name for p in client.root.iterdir()}
    r = client.post("/api/jobs", params=params, content=body, headers=headers)
    assert r.status_code == status, r.text
    assert text in r.text and "Traceback" not in r.text
    if status != 202:  # nothing left behind for a refused upload
        assert {p.name for p in client.root.iterdir()} == before


def test_busy_when_the_queue_is_full(tmp_path):
    app = create_app(tmp_path, workers=1, max_queued=0)
    jobs = app.state.jobs
    with TestClient(app) as c:
        with jobs.pipe_lock:  # hold the sampler so the first job stays running
            r1 = c.post("/api/jobs", params={"example": "true", "seconds": 2, "steps": 2})
            r2 = c.post("/api/jobs", params={"example": "true", "seconds": 2, "steps": 2})
            assert r1.status_code == 202 and r2.status_code == 503 and "busy" in r2.json()["error"]
        assert _wait(c, r1.json()["id"])["status"] == "done"
    assert len(list(tmp_path.iterdir())) == 1  # the refused job left no folder


def test_results_pruned_by_size(tmp_path):
    app = create_app(tmp_path, max_bytes=1)
    with TestClient(app) as c:
        a = c.post("/api/jobs", params={"example": "true", "seconds": 2, "steps": 2}).json()["id"]
        _wait(c, a)
        b = c.post("/api/jobs", params={"example": "true", "seconds": 2, "steps": 2}).json()["id"]
        _wait(c, b)
        assert c.get(f"/api/jobs/{a}").status_code == 404 and not (tmp_path / a).exists()
        assert c.get(f"/api/jobs/{b}").status_code == 200




def test_failed_job_leaves_no_outputs(tmp_path):
    from choreogen.errors import ChoreogenError

    class Broken:
        genres = ["waltz"]

        def __call__(self, song, **kw):
            (tmp_path / "never").write_text("x")
            raise ChoreogenError("the sampler ran out of luck")

    app = create_app(tmp_path / "res")
    app.state.jobs.pipeline_factory = lambda: Broken()
    with TestClient(app) as c:
        jid = c.post("/api/jobs", params={"example": "true", "seconds": 2}).json()["id"]
        s = _wait(c, jid)
        assert s["status"] == "failed" and s["error"] == "error: the sampler ran out of luck"
        assert sorted(p.name for p in (tmp_path / "res" / jid).iterdir()) == ["song"]
        assert c.get(f"/api/jobs/{jid}/glb").status_code == 409


def test_serve_refuses_a_file_as_results_folder(tmp_path, run_cli):
    f = tmp_path / "file"
    f.write_text("x")
    code, _, err = run_cli(["serve", "--results", f])
    assert code == 2 and "output folder path is an existing file" in err


def test_free_text_prompt_is_classified_and_off_topic_refused(client):
    r = client.post("/api/jobs", params={"example": "true", "seconds": 2, "steps": 2,
                                         "genre": "a slow romantic dance with long gliding steps"})
    assert r.status_code == 202, r.text
    s = _wait(client, r.json()["id"])
    assert s["status"] == "done" and s["params"]["prompt"] and "Waltz" in s["params"]["understood"]
    bad = client.post("/api/jobs", params={"example": "true", "seconds": 2, "genre": "the weather is nice"})
    assert bad.status_code == 400 and "matched no genre well" in bad.json()["error"]


def test_prompt_parameter_like_the_cli(client):
    r = client.post("/api/jobs", params={"example": "true", "seconds": 2, "steps": 2,
                                         "prompt": "a sharp dramatic tango with staccato head snaps"})
    assert r.status_code == 202, r.text
    assert "Tango" in _wait(client, r.json()["id"])["params"]["understood"]
    both = client.post("/api/jobs", params={"example": "true", "genre": "waltz", "prompt": "a slow waltz please"})
    assert both.status_code == 400 and "not both" in both.json()["error"]
    off = client.post("/api/jobs", params={"example": "true", "prompt": "the weather is nice"})
    assert off.status_code == 400 and "matched no genre well" in off.json()["error"]
