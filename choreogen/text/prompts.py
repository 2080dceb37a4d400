"""The genre-description data set and prompt checks (no torch, no encoder).

``choreogen/assets/text/genre_prompts.json``: ``genres`` {key: {name, aliases, train, heldout}},
``vocabularies`` {dataset: {label: key}} (tang2018 4, aistpp 10, finedance 16 labels), ``off_topic``
{train, heldout}. The held-out parts are fixed in the file (rule in its ``about``).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError, InputError

PROMPTS_PATH = Path(__file__).resolve().parents[1] / "assets" / "text" / "genre_prompts.json"
MAX_PROMPT_CHARS = 2000  # longer prompts are refused before tokenising


@dataclass(frozen=True)
class PromptSet:
    genres: dict        # key -> {"name", "aliases", "train", "heldout"}
    vocabularies: dict  # dataset -> {label: key}
    off_topic: dict     # {"train": [...], "heldout": [...]}

    def key_of(self, label: str) -> str | None:
        """A genre label of any vocabulary or alias (case/space/dash-insensitive) -> its entry key."""
        n = norm_label(label)
        for v in self.vocabularies.values():
            for lab, key in v.items():
                if norm_label(lab) == n:
                    return key
        for key, g in self.genres.items():
            if n == norm_label(key) or n == norm_label(g["name"]) or n in {norm_label(a) for a in g["aliases"]}:
                return key
        return None

    def display_name(self, label: str) -> str:
        """``"chacha"`` -> ``"Cha-cha"``; an unknown label -> the label with underscores as spaces, titled."""
        key = self.key_of(label)
        return self.genres[key]["name"] if key else label.replace("_", " ").strip().title()

    def vocabulary_of(self, labels: list[str]) -> str | None:
        """The data set whose vocabulary is exactly ``labels`` (any order), else None."""
        want = sorted(norm_label(x) for x in labels)
        for name, v in self.vocabularies.items():
            if sorted(norm_label(x) for x in v) == want:
                return name
        return None


def norm_label(s: str) -> str:
    return re.sub(r"[\s_\-]+", "", s.strip().lower())


@lru_cache(maxsize=4)
def load_prompt_set(path: str | None = None) -> PromptSet:
    p = Path(path) if path else PROMPTS_PATH
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
        if d.get("format") != "choreogen.genre_prompts":
            raise ValueError("format is not choreogen.genre_prompts")
        return PromptSet(d["genres"], d["vocabularies"], d["off_topic"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"unreadable genre-description data set ({e.__class__.__name__}: {e})", p) from None


def genre_sentence(name: str) -> str:
    """GCDance's prompt-learning template: ``"Waltz"`` -> ``"This is a Waltz type of music."``."""
    return f"This is a {name} type of music."


# Common function words: a prompt made of these and no English ones is in another language.
_FOREIGN = {
    "Spanish": "el la los las un una y con de del que muy lento lenta baile bailar pasos largos rápido música es por para",
    "French": "le la les un une et avec des du que très lent lente danse danser pas longs rapide musique est pour sur",
    "German": "der die das ein eine und mit den dem ist sehr langsam langsamer tanz tanzen schritte schnell musik für auf",
    "Italian": "il lo la gli le un una e con di del che molto lento lenta ballo danza passi lunghi veloce musica per",
    "Portuguese": "o a os as um uma e com de do da que muito lento lenta dança dançar passos longos rápido música para",
    "Dutch": "de het een en met van is zeer langzaam dans dansen stappen snel muziek voor op",
}
_ENGLISH = set("a an the and with of to in on at for is are very slow fast dance dancing steps music this that "
               "like long short by from it its as or but".split())


def check_prompt(prompt: str | None, what: str = "--prompt") -> str:
    """Validate a free-text prompt before encoding; returns it stripped. ConfigError (one line) when it is
    empty, longer than :data:`MAX_PROMPT_CHARS`, or evidently not English (mostly non-Latin letters, or
    made of another language's function words)."""
    if prompt is None or not prompt.strip():
        raise ConfigError(f"{what} is empty: describe the dance (e.g. 'a slow romantic dance with long gliding steps')")
    p = " ".join(prompt.split())
    if len(p) > MAX_PROMPT_CHARS:
        raise ConfigError(f"{what} is {len(p)} characters long; the sentence encoder reads at most 256 tokens "
                          f"(about {MAX_PROMPT_CHARS // 2} characters of English): shorten it")
    letters = [c for c in p if c.isalpha()]
    if letters:
        non_latin = sum(1 for c in letters if not unicodedata.name(c, "").startswith("LATIN"))
        if non_latin / len(letters) > 0.3:
            raise ConfigError(f"{what} does not look like English (mostly non-Latin letters); the genre classifier "
                              "reads English descriptions: write it in English or give --genre LABEL")
    words = re.findall(r"[^\W\d_]+", p.lower())
    if len(words) >= 3:
        en = sum(w in _ENGLISH for w in words)
        for lang, ws in _FOREIGN.items():
            fw = set(ws.split()) - _ENGLISH
            n = sum(w in fw for w in words)
            if n >= 2 and n > en and n / len(words) >= 0.25:
                raise ConfigError(f"{what} looks like {lang} (or a related language), not English; the genre classifier reads English "
                                  "descriptions: write it in English or give --genre LABEL")
    return p
