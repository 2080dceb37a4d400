"""The genre-description data set and the prompt checks (no encoder needed)."""
from __future__ import annotations

import pytest

from choreogen.errors import ConfigError
from choreogen.text.prompts import check_prompt, genre_sentence, load_prompt_set


def test_data_set_covers_the_three_vocabularies_with_a_fixed_heldout_part():
    ps = load_prompt_set()
    assert [len(ps.vocabularies[v]) for v in ("tang2018", "aistpp", "finedance")] == [4, 10, 16]
    assert len(ps.genres) == 27  # break/pop/lock shared by AIST++ and FineDance
    for key, g in ps.genres.items():
        n = len(g["train"]) + len(g["heldout"])
        assert n >= 24, key
        assert int(0.2 * n + 0.5) == len(g["heldout"]), key
        assert not set(g["train"]) & set(g["heldout"]), key
    every = [t for g in ps.genres.values() for t in g["train"] + g["heldout"]]
    assert len(every) == len(set(every)) == 711
    assert len(ps.off_topic["heldout"]) == 20 and len(ps.off_topic["train"]) == 60
    assert sorted(ps.vocabularies["tang2018"]) == ["chacha", "rumba", "tango", "waltz"]


def test_labels_aliases_and_the_gcdance_sentence():
    ps = load_prompt_set()
    assert ps.key_of("Cha-Cha-Cha") == "chacha" and ps.key_of("breaking") == "break" and ps.key_of("b-boying") == "break"
    assert ps.key_of("LA hip-hop") == "la_hip_hop" and ps.key_of("salsa") is None
    assert ps.display_name("chacha") == "Cha-cha" and ps.display_name("some_new_style") == "Some New Style"
    assert ps.vocabulary_of(["waltz", "tango", "rumba", "chacha"]) == "tang2018"
    assert genre_sentence("Waltz") == "This is a Waltz type of music."


@pytest.mark.parametrize("prompt,words", [
    ("", "is empty"), ("   \n ", "is empty"), ("x" * 2001, "2001 characters"),
    ("ダンスが好きです", "does not look like English"), ("медленный романтический танец", "does not look like English"),
    ("un baile lento y romántico con pasos largos", "looks like Spanish"),
    ("ein langsamer Tanz mit langen Schritten", "looks like German"),
    ("une danse lente avec des pas longs", "looks like French"),
])
def test_bad_prompts_get_one_clear_message(prompt, words):
    with pytest.raises(ConfigError, match=words):
        check_prompt(prompt)


def test_english_prompts_pass_and_are_normalised():
    assert check_prompt("  a slow   romantic dance\n") == "a slow romantic dance"
    assert check_prompt("tango") == "tango"
    assert check_prompt("Latin dance with a cha-cha-cha in the café") == "Latin dance with a cha-cha-cha in the café"
