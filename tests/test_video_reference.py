"""Photo analysis: bad images are refused with one clear message; MediaPipe tests skip without it."""
from __future__ import annotations

import importlib.util
import os

import cv2
import numpy as np
import pytest

from choreogen.errors import InputError
from choreogen.video.reference import load_photo, other_people, square

HAS_MP = importlib.util.find_spec("mediapipe") is not None
need_mp = pytest.mark.skipif(not HAS_MP, reason="mediapipe (optional extra choreogen[video]) not installed")


def _astronaut():
    spec = importlib.util.find_spec("skimage")
    if spec is None:
        pytest.skip("scikit-image not installed (its public-domain astronaut photo is the test photo)")
    return os.path.join(os.path.dirname(spec.origin), "data", "astronaut.png")


def test_not_an_image_corrupt_tiny_huge(tmp_path):
    txt = tmp_path / "notes.png"
    txt.write_text("hello")
    good = tmp_path / "ok.png"
    cv2.imwrite(str(good), np.full((100, 80, 3), 90, np.uint8))
    bad = tmp_path / "cut.png"
    bad.write_bytes(good.read_bytes()[:40])
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.zeros((40, 200, 3), np.uint8))
    huge = tmp_path / "huge.png"
    cv2.imwrite(str(huge), np.zeros((64, 8100, 3), np.uint8))
    for p, words in ((txt, "not an image"), (bad, "not an image"), (tiny, "too small"), (huge, "too large"),
                     (tmp_path / "missing.png", "not found")):
        with pytest.raises(InputError) as e:
            load_photo(p)
        assert words in str(e.value) and str(p) in str(e.value)
    assert load_photo(good, 256).shape == (256, 256, 3)


def test_square_keeps_aspect_and_pads():
    img = np.zeros((100, 50, 3), np.uint8)
    img[:, :, 0] = 255
    s = square(img, 256)
    assert s.shape == (256, 256, 3) and (s[..., 0] == 255).all()  # edge replication of a flat image


def test_other_people_counts_separate_blobs():
    person = np.zeros((100, 100), bool)
    person[20:80, 10:30] = True
    everyone = person.copy()
    assert other_people(person, everyone) == 0
    everyone[20:80, 60:80] = True
    assert other_people(person, everyone) == 1
    everyone[5:8, 90:93] = True  # a speck is nobody
    assert other_people(person, everyone) == 1


@need_mp
def test_astronaut_is_found_upper_body(tmp_path):
    from choreogen.video.reference import analyse_photo

    r = analyse_photo(_astronaut(), 256)
    assert r.image.shape == (256, 256, 3) and r.mask.shape == (256, 256)
    assert r.meta["full_body"] is False
    assert r.confidence[5] > 0.9 and r.confidence[6] > 0.9
    assert 100 < r.keypoints[0, 0] < 150 and r.keypoints[0, 1] < 100  # nose: centre, upper part
    assert 0.15 < (r.mask > 0.5).mean() < 0.7


@need_mp
def test_no_person_and_two_people(tmp_path):
    from choreogen.video.reference import analyse_photo

    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 128, np.uint8))
    with pytest.raises(InputError, match="no person"):
        analyse_photo(blank)
    a = cv2.resize(cv2.imread(_astronaut()), (256, 256))
    two = tmp_path / "two.png"
    cv2.imwrite(str(two), np.hstack([a, a]))
    with pytest.raises(InputError, match="several people"):
        analyse_photo(two)
