"""Holdout benchmark, part 2: scoring what the tool wrote against the corpus's labels."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from bench.holdout_corpus import BURSTS, PART_SOURCES, STEREO, UNTAGGED, Corpus, load_photo

# ---------------------------------------------------------------- scoring


def rel_path(corpus: Corpus, path: str) -> str:
    return Path(path).resolve().relative_to(corpus.root.resolve()).as_posix()


def group_pairs(corpus: Corpus, groups: list[dict[str, Any]]) -> set[frozenset[str]]:
    pairs: set[frozenset[str]] = set()
    for group in groups:
        members = [rel_path(corpus, m["path"]) for m in group["members"]]
        pairs |= {frozenset(p) for p in itertools.combinations(members, 2)}
    return pairs


def score_dupes(
    labels: dict[str, tuple[str, str]], predicted: set[frozenset[str]], excluded: set[str]
) -> dict[str, Any]:
    """Pairwise precision/recall over all pairs of the included files, and per transform (copy, original)."""
    files = sorted(r for r, (_, t) in labels.items() if t not in excluded)
    kept = set(files)
    truth = {frozenset(p) for p in itertools.combinations(files, 2) if labels[p[0]][0] == labels[p[1]][0]}
    pred = {p for p in predicted if p <= kept}
    false = pred - truth
    originals = {fam: r for r, (fam, t) in labels.items() if t == "original"}
    per: dict[str, dict[str, Any]] = {}
    missed: list[tuple[str, str]] = []
    for transform in sorted({labels[r][1] for r in files} - {"original"}):
        copies = [r for r in files if labels[r][1] == transform]
        positives = {frozenset((r, originals[labels[r][0]])) for r in copies}
        missed += [
            (originals[labels[r][0]], r)
            for r in copies
            if frozenset((r, originals[labels[r][0]])) not in pred
        ]
        per[transform] = {
            "recall": len(positives & pred) / len(positives),
            "found": len(positives & pred),
            "positives": len(positives),
            "false_pairs": sum(1 for p in false if any(labels[r][1] == transform for r in p)),
        }
    return {
        "recall": len(pred & truth) / len(truth),
        "precision": len(pred & truth) / len(pred) if pred else 1.0,
        "positives": len(truth),
        "predicted": len(pred),
        "false_pairs": len(false),
        "false_pairs_stereo": sum(1 for p in false if {labels[r][0] for r in p} == set(STEREO)),
        "missed": missed,
        "false_examples": sorted(" + ".join(sorted(p)) for p in false)[:12],
        "per_transform": per,
    }


def hard_negatives(
    labels: dict[str, tuple[str, str]], pred: set[frozenset[str]], similar: set[frozenset[str]]
) -> dict[str, Any]:
    """Pairs of different pictures of one scene: stereo views, far-apart crops of one photo (untagged rotations left out)."""

    def families_pairs(a: str, b: str) -> set[frozenset[str]]:
        fa = [r for r, (f, t) in labels.items() if f == a and t != UNTAGGED]
        fb = [r for r, (f, t) in labels.items() if f == b and t != UNTAGGED]
        return {frozenset((x, y)) for x in fa for y in fb}

    out: dict[str, Any] = {}
    cases = [STEREO] + [(f"{Path(s).stem}_partL", f"{Path(s).stem}_partR") for s in PART_SOURCES]
    for a, b in cases:
        pairs = families_pairs(a, b)
        out[f"{a} / {b}"] = {
            "pairs": len(pairs),
            "grouped_as_duplicates": len(pairs & pred),
            "originals_in_similar_set": frozenset((f"dupes/{a}__original.jpg", f"dupes/{b}__original.jpg"))
            in similar,
        }
    return out


def hash_distances(corpus: Corpus, pairs: list[tuple[str, str]]) -> list[tuple[str, str, int, int]]:
    """(a, b, pHash bits, dHash bits) with xmpcull's own decoder and hashes, to tell why a pair was missed."""
    from xmpcull.analyse.decode import decode_rendered
    from xmpcull.analyse.features import compute_features, file_digest

    features: dict[str, Any] = {}
    for rel in {r for p in pairs for r in p}:
        path = corpus.root / rel
        features[rel] = compute_features(decode_rendered(path), file_digest(path))
    return [
        (
            a,
            b,
            (features[a].phash ^ features[b].phash).bit_count(),
            (features[a].dhash ^ features[b].dhash).bit_count(),
        )
        for a, b in pairs
    ]


def keeper_kinds(corpus: Corpus, groups: list[dict[str, Any]]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for group in groups:
        rel = rel_path(corpus, group["keeper"])
        kinds["a burst frame" if rel in corpus.bursts else f"the {corpus.dupes[rel][1]} copy"] += 1
    return kinds


def similar_pairs(corpus: Corpus, sets: list[dict[str, Any]]) -> set[frozenset[str]]:
    return group_pairs(corpus, sets)


def score_bursts(corpus: Corpus, images: dict[str, dict[str, Any]]) -> dict[str, Any]:
    frames = sorted(corpus.bursts)
    truth = {
        frozenset(p)
        for p in itertools.combinations(frames, 2)
        if corpus.bursts[p[0]][0] == corpus.bursts[p[1]][0]
    }
    burst_of = {r: images[r]["burst_id"] for r in frames if r in images}
    pred = {
        frozenset(p)
        for p in itertools.combinations(frames, 2)
        if burst_of.get(p[0]) and burst_of.get(p[0]) == burst_of.get(p[1])
    }
    rows = []
    for name, *_ in BURSTS:
        members = [r for r in frames if corpus.bursts[r][0] == name]
        best = [r for r in members if images.get(r, {}).get("burst_best")]
        blurred = next(r for r in members if corpus.bursts[r][1])
        rows.append(
            {
                "burst": name,
                "frames": len(members),
                "ids_found": sorted({burst_of.get(r) or "-" for r in members}),
                "best": best,
                "best_is_sharp": bool(best) and blurred not in best,
                "best_decision": ", ".join(images[r]["decision"] for r in best),
                "blurred_decision": images.get(blurred, {}).get("decision"),
                "blurred_sharpness": images.get(blurred, {}).get("sharpness"),
                "sharp_median_sharpness": statistics.median(
                    images[r]["sharpness"]
                    for r in members
                    if r != blurred and images.get(r, {}).get("sharpness") is not None
                ),
            }
        )
    in_dupes = [r for r in frames if images.get(r, {}).get("dupe_group")]
    stray = sorted(r for r, row in images.items() if not r.startswith("bursts/") and row.get("burst_id"))
    return {
        "recall": len(pred & truth) / len(truth),
        "precision": len(pred & truth) / len(pred) if pred else 1.0,
        "positives": len(truth),
        "predicted": len(pred),
        "bursts": rows,
        "frames_in_duplicate_groups": len(in_dupes),
        "frames": len(frames),
        "frame_decisions": dict(Counter(images[r]["decision"] for r in frames if r in images)),
        "non_burst_files_given_a_burst": stray,
    }


def _inside(subject: list[float], box: list[float]) -> float:
    sx0, sy0, sx1, sy1 = subject
    bx0, by0, bx1, by1 = box
    w = max(0.0, min(sx1, bx1) - max(sx0, bx0))
    h = max(0.0, min(sy1, by1) - max(sy0, by0))
    return w * h / ((sx1 - sx0) * (sy1 - sy0))


def _window(aspect: str, w: int, h: int) -> tuple[float, float]:
    """The largest window of this aspect inside a w x h frame."""
    aw, ah = (float(v) for v in aspect.split(":"))
    return (w, w * ah / aw) if w * ah / aw <= h else (h * aw / ah, h)


def _fits(subject: list[float], aspect: str, size: tuple[int, int]) -> bool:
    """Can the largest window of this aspect hold the subject at all?"""
    cw, ch = _window(aspect, *size)
    return subject[2] - subject[0] <= cw + 0.5 and subject[3] - subject[1] <= ch + 0.5


def score_crops(corpus: Corpus, images: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for rel, (source, subject) in sorted(corpus.subjects.items()):
        row = images.get(rel)
        if row is None:
            continue
        size = load_photo(corpus.root / rel).size
        for p in row["crop_proposals"]:
            rows.append(
                {
                    "file": rel,
                    "source": source,
                    "transform": corpus.dupes[rel][1],
                    "aspect": p["aspect"],
                    "containment": _inside(subject, p["box"]),
                    "confidence": p["confidence"],
                    "applied": p["applied"],
                    "fits": _fits(subject, p["aspect"], size),
                }
            )
    return rows


def centre_containment(corpus: Corpus, rows: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """The centre crop of the same aspect, as the floor any crop tool should beat."""
    out = {}
    for r in rows:
        w, h = load_photo(corpus.root / r["file"]).size
        cw, ch = _window(r["aspect"], w, h)
        box = [(w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2]
        out[(r["file"], r["aspect"])] = _inside(corpus.subjects[r["file"]][1], box)
    return out
