"""Issue #14: free-text prompt -> genre, measured on the held-out descriptions.

For each data-set vocabulary of ``choreogen/assets/text/genre_prompts.json`` (tang2018 4 genres,
aistpp 10, finedance 16) a logistic-regression head is trained on the ``train`` descriptions over
all-MiniLM-L6-v2 embeddings (:mod:`choreogen.text.classifier`) and measured on the fixed held-out
part: top-1 accuracy (a rejected prompt counts as wrong), top-1 among accepted, the share of genre
prompts wrongly rejected, and the off-topic rejection rate on the held-out off-topic prompts (each
vocabulary's own threshold). Bare labels/aliases and GCDance's sentence for each label are checked too.

``--write-bundled`` also writes the heads to choreogen/assets/models/prompt_genre.safetensors.

Usage: PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/prompt_genre_eval.py \
           [--json docs/results/prompt_genre.json] [--write-bundled]
"""
from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path

import numpy as np

from choreogen.text.classifier import BUNDLED_PATH, PromptGenreClassifier, save_classifier, training_texts
from choreogen.text.prompts import genre_sentence, load_prompt_set


def evaluate(clf: PromptGenreClassifier, vocab: str) -> dict:
    ps = clf.prompt_set
    labels = list(ps.vocabularies[vocab])
    head = clf.head(labels)
    texts, y = training_texts(ps, labels, part="heldout")
    p, s = head.scores(clf.encoder.encode(texts))
    acc_ok = s.max(1) >= head.threshold
    pred = p.argmax(1)
    off = ps.off_topic["heldout"]
    _, s_off = head.scores(clf.encoder.encode(off))
    conf = np.zeros((len(labels), len(labels) + 1), int)  # last column: rejected
    for t, k, ok in zip(y, pred, acc_ok):
        conf[t, k if ok else -1] += 1
    bare = [ps.display_name(x) for x in labels]
    pb, sb = head.scores(clf.encoder.encode([genre_sentence(n) for n in bare] + labels))
    lab_ok = (pb.argmax(1) == np.tile(np.arange(len(labels)), 2)) & (sb.max(1) >= head.threshold)
    per = {lab: round(float(np.mean((pred[y == i] == i) & acc_ok[y == i])), 3) for i, lab in enumerate(labels)}
    return {
        "labels": labels, "threshold": round(head.threshold, 4), "n_train": int(len(training_texts(ps, labels)[0])),
        "n_heldout": int(len(y)), "heldout_accuracy": round(float(np.mean((pred == y) & acc_ok)), 4),
        "heldout_accuracy_accepted_only": round(float(np.mean(pred[acc_ok] == y[acc_ok])), 4) if acc_ok.any() else None,
        "heldout_wrongly_rejected": round(float(np.mean(~acc_ok)), 4),
        "offtopic_n": len(off), "offtopic_rejection": round(float(np.mean(s_off.max(1) < head.threshold)), 4),
        "offtopic_accepted_examples": [t for t, v in zip(off, s_off.max(1)) if v >= head.threshold][:5],
        "labels_and_sentences_understood": f"{int(lab_ok.sum())}/{len(lab_ok)}",
        "chance": round(1 / len(labels), 4), "per_genre_accuracy": per,
        "confusion_rows_true_cols_pred_then_rejected": conf.tolist(),
        "mistakes": [[t, labels[a], labels[b] if ok else "(rejected)"] for t, a, b, ok in zip(texts, y, pred, acc_ok)
                     if not (ok and a == b)][:12],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, default=Path("docs/results/prompt_genre.json"))
    ap.add_argument("--write-bundled", action="store_true")
    a = ap.parse_args()
    t0 = time.perf_counter()
    clf = PromptGenreClassifier()
    ps = load_prompt_set()
    res = {"encoder": clf.encoder.name, "dim": clf.encoder.dim, "max_tokens": clf.encoder.max_tokens,
           "data": "choreogen/assets/text/genre_prompts.json",
           "genres": len(ps.genres), "descriptions": sum(len(g["train"]) + len(g["heldout"]) for g in ps.genres.values()),
           "offtopic": {k: len(v) for k, v in ps.off_topic.items()}, "vocabularies": {}}
    for v in ps.vocabularies:
        res["vocabularies"][v] = evaluate(clf, v)
        r = res["vocabularies"][v]
        print(f"{v:10s} {len(r['labels']):2d} genres: held-out accuracy {r['heldout_accuracy']:.3f} "
              f"(chance {r['chance']:.3f}, n={r['n_heldout']}), wrongly rejected {r['heldout_wrongly_rejected']:.3f}, "
              f"off-topic rejected {r['offtopic_rejection']:.3f} (n={r['offtopic_n']}), labels {r['labels_and_sentences_understood']}")
    res["wall_s"] = round(time.perf_counter() - t0, 1)
    res["date"] = datetime.date.today().isoformat()
    if a.write_bundled:
        names = {tuple(ps.vocabularies[v]): v for v in ps.vocabularies}
        save_classifier(BUNDLED_PATH, clf, names, {"model_id": "prompt-genre", "data": res["data"],
                                                   "date": res["date"],
                                                   "validation": {v: {k: r[k] for k in ("heldout_accuracy", "offtopic_rejection")}
                                                                  for v, r in res["vocabularies"].items()}})
        print(f"wrote {BUNDLED_PATH}")
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(res, indent=1) + "\n")
    print(f"-> {a.json} ({res['wall_s']} s)")


if __name__ == "__main__":
    main()
