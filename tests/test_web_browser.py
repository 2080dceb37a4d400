"""The page in real Chromium (Debian's ``chromium``, driven by Playwright's Python API): upload the
example song, wait for the dance, the viewer draws and moves while playing, the dance frame follows
the audio clock after play and after a scrub (checked against the npz joints), one edit, every download.
Screenshots (before, generating, playing, editing) go to docs/img/web_*.png when
CHOREOGEN_WEB_SCREENSHOTS=1 (how the committed ones were made), else to the test's temp folder."""
from __future__ import annotations

import io
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
DOC_IMG = Path(__file__).resolve().parents[1] / "docs" / "img"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required", "--use-gl=swiftshader",
        "--enable-unsafe-swiftshader"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("playwright")
    import uvicorn

    from choreogen.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(tmp_path_factory.mktemp("webres"))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    th.join(5)


def _shot(page, name, folder):
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"web_{name}.png"))


def _canvas(page) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.locator("#viewer").screenshot())).convert("RGB"), np.int16)


def _joints(page, base, jid):
    import tempfile

    from choreogen.io import load_motion

    r = page.request.get(f"{base}/api/jobs/{jid}/npz")
    with tempfile.TemporaryDirectory() as td:
        p = Path(td) / "d.npz"
        p.write_bytes(r.body())
        return load_motion(p).positions()


def _check_sync(page, joints, playing=False):
    page.wait_for_timeout(150)  # a few animation frames
    # t: the audio time the last drawn frame was set from; live: the audio clock now
    s = page.evaluate("() => ({t: window.choreogen.time, live: document.getElementById('audio').currentTime,"
                      " f: window.choreogen.frame, fps: window.choreogen.fps, root: window.choreogen.rootPosition()})")
    expect = min(len(joints) - 1, round(s["t"] * s["fps"]))
    assert abs(s["f"] - expect) <= 1, s
    # the drawn frame is at most one (slow, software-GL) render behind the clock; none once paused
    assert 0 <= s["live"] - s["t"] < (0.5 if playing else 1e-3), s
    # the skeleton drawn is the dance at that time: pelvis within 2 cm of the npz's (between two frames the pose is interpolated)
    assert np.abs(np.array(s["root"]) - joints[s["f"], 0]).max() < 0.02, (s, joints[s["f"], 0])
    return s


def test_page_generate_play_scrub_edit_download(server, tmp_path):
    from playwright.sync_api import sync_playwright

    img = DOC_IMG if os.environ.get("CHOREOGEN_WEB_SCREENSHOTS") == "1" else tmp_path

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1040, "height": 560})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server + "/")
        page.wait_for_function("document.getElementById('genres').options.length > 1")
        _shot(page, "before", img)
        page.check("#example")
        page.fill("#seconds", "4")
        page.fill("#genre", "a slow waltz")  # a prompt naming a genre (the model takes genre labels)
        page.click("#go")
        try:  # catch the progress bar part-way (generation takes about a second)
            page.wait_for_function("(() => { const p = document.getElementById('progress').value; return p > 0 && p < 1; })()",
                                   timeout=10_000, polling=20)
            _shot(page, "generating", img)
        except Exception:  # noqa: BLE001 - too fast to catch: the screenshot is optional
            pass
        page.wait_for_function("window.choreogen.ready", timeout=60_000)
        jid = page.evaluate("window.choreogen.job")
        joints = _joints(page, server, jid)
        assert page.evaluate("window.choreogen.frames") == len(joints) == 120
        still = _canvas(page)
        page.click("#play")
        page.wait_for_function("document.getElementById('audio').currentTime > 1.0", timeout=10_000)
        moving = _canvas(page)
        assert np.abs(moving - still).max() > 50 and (np.abs(moving - still).sum(-1) > 30).mean() > 0.002
        _shot(page, "playing", img)
        _check_sync(page, joints, playing=True)
        page.click("#play")  # pause
        s = _check_sync(page, joints)
        assert s["t"] > 1.0
        # scrub to 40 % of the dance
        page.evaluate("(() => { const e = document.getElementById('scrub'); e.value = '0.4';"
                      " e.dispatchEvent(new Event('input')); e.dispatchEvent(new Event('change')); })()")
        s = _check_sync(page, joints)
        assert abs(s["t"] - 0.4 * 4.0) < 0.05 and abs(s["f"] - 48) <= 1
        # edit: regenerate 1-2 s
        page.fill("#e-start", "1")
        page.fill("#e-end", "2")
        page.click("#e-range")
        page.wait_for_function("window.choreogen.versions === 2", timeout=60_000)
        ejid = page.evaluate("window.choreogen.job")
        assert ejid != jid
        edited = _joints(page, server, ejid)
        _check_sync(page, edited)  # the edited dance is shown, at the same audio time
        d = np.abs(edited - joints).max(axis=(1, 2))
        assert d[:20].max() < 0.05 and d[40:50].max() > 0.05
        page.evaluate("document.getElementById('e-start').scrollIntoView()")
        _shot(page, "editing", img)
        for k in ("npz", "bvh", "glb", "mp4"):
            href = page.get_attribute(f"#dl-{k}", "href")
            r = page.request.get(server + href)
            assert r.status == 200 and len(r.body()) > 500, k
        # the upload path: a 3 s wav chosen in the file input, then a bad file answered with the clear message
        import soundfile as sf

        t = np.arange(3 * 22050) / 22050
        sf.write(tmp_path / "tone.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22050)
        page.uncheck("#example")
        page.set_input_files("#file", str(tmp_path / "tone.wav"))
        page.fill("#seconds", "2")
        page.click("#go")
        page.wait_for_function(f"window.choreogen.ready && window.choreogen.job !== {ejid!r}"
                               " && window.choreogen.frames === 60", timeout=60_000)
        (tmp_path / "bad.wav").write_text("not audio")
        page.set_input_files("#file", str(tmp_path / "bad.wav"))
        page.click("#go")
        page.wait_for_function("document.getElementById('status').textContent.startsWith('error: bad.wav:')", timeout=20_000)
        assert not errors, errors
        browser.close()
