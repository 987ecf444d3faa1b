"""Holdout benchmark, part 3: the markdown tables and the paragraph of weak points."""

from __future__ import annotations

import os
import statistics
import sys
from collections import Counter
from typing import Any

from bench.holdout_corpus import DHASH_BITS, FULL, PHASH_BITS, UNTAGGED

# ---------------------------------------------------------------- report


def _pct(x: float) -> str:
    return f"{x:.0%}"


def dupes_tables(result: dict[str, Any]) -> list[str]:
    runs = (
        ("xmpcull run (whole corpus, burst frames beside the families)", "run"),
        ("xmpcull dupes on dupes/ alone (default: small-crop search on)", "plain"),
        ("xmpcull dupes --rotation-invariant, dupes/ alone", "rotinv"),
        ("xmpcull dupes --no-crop-tolerant (hashes only), dupes/ alone", "hashonly"),
        ("imagededup PHash@10", "idd"),
        ("imagededup PHash@10, incl. untagged rotation", "idd_all"),
    )
    lines = [
        "| tool | files scored | recall | precision | true pairs | false pairs (of them the stereo pair) | precision without the stereo pair |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, key in runs:
        s = result["dupes"][key]
        true = s["predicted"] - s["false_pairs"]
        clean = (
            true / (s["predicted"] - s["false_pairs_stereo"])
            if s["predicted"] > s["false_pairs_stereo"]
            else 1.0
        )
        lines.append(
            f"| {label} | {s['files']} | **{s['recall']:.3f}** | **{s['precision']:.3f}** | {s['positives']} | "
            f"{s['false_pairs']} ({s['false_pairs_stereo']}) | {clean:.3f} |"
        )
    lines += [
        "",
        "Per transform, recall of (copy, its original) pairs over the 16 sources (false pairs that involve the transform in brackets):",
        "",
    ]
    lines += [
        "| transform | xmpcull run | dupes | dupes --rotation-invariant | dupes --no-crop-tolerant | imagededup PHash@10 |",
        "|---|---|---|---|---|---|",
    ]
    transforms = result["dupes"]["rotinv"]["per_transform"]
    for t in transforms:
        cells = []
        for key in ("run", "plain", "rotinv", "hashonly", "idd_all"):
            s = result["dupes"][key]["per_transform"].get(t)
            cells.append("—" if s is None else f"{s['recall']:.2f} ({s['false_pairs']})")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    d = result["distances"]
    within = [m for m in d["missed"] if m[2] <= PHASH_BITS and m[3] <= DHASH_BITS]
    beyond_p = sum(1 for m in d["missed"] if m[2] > PHASH_BITS)
    by_t = Counter(result["dupes"]["plain_labels"][m[1]] for m in within)
    lines += [
        "",
        f"Why pairs were missed (`dupes` on `dupes/` alone, xmpcull's own pHash/dHash of the two files): {len(d['missed'])} (copy, original) "
        f"pairs missed, {len(within)} of them within both thresholds (pHash ≤ {PHASH_BITS}, dHash ≤ {DHASH_BITS}) and lost to the grouping "
        f"(complete linkage: a copy must be near *every* member of a group), by transform: "
        + (", ".join(f"{t} {n}" for t, n in by_t.most_common()) or "none")
        + f"; {beyond_p} beyond the pHash threshold (up to {max((m[2] for m in d['missed']), default=0)} bits), "
        f"{len(d['missed']) - len(within) - beyond_p} within pHash but beyond dHash. "
        f"The stereo originals are pHash {d['stereo'][2]} / dHash {d['stereo'][3]} bits apart: as close as an edit.",
    ]
    keepers = ", ".join(f"{k} {v}" for k, v in result["keepers"].most_common())
    lines += ["", f"Keeper of each duplicate group in the run, by what the file is: {keepers}."]
    lines += ["", "Hard negatives (different pictures of one scene):", ""]
    lines += [
        "| pair of families | pairs | grouped as duplicates (run) | dupes --no-crop-tolerant | imagededup | originals in one similar set (run) |",
        "|---|---|---|---|---|---|",
    ]
    for name, h in result["hard_negatives"]["run"].items():
        i = result["hard_negatives"]["idd"][name]
        c = result["hard_negatives"]["hashonly"][name]
        lines.append(
            f"| {name} | {h['pairs']} | {h['grouped_as_duplicates']} | {c['grouped_as_duplicates']} | {i['grouped_as_duplicates']} "
            f"| {'yes' if h['originals_in_similar_set'] else 'no'} |"
        )
    return lines


def burst_tables(b: dict[str, Any]) -> list[str]:
    lines = [
        (
            f"Frame pairs (same burst or not) over {b['frames']} frames: recall **{b['recall']:.3f}**, precision **{b['precision']:.3f}** "
            f"({b['positives']} true pairs, {b['predicted']} predicted). Files outside the burst folder given a burst: {len(b['non_burst_files_given_a_burst'])}."
        ),
        "",
        "| burst | frames | burst IDs found | best frame is a sharp one | best frame's decision | blurred frame: decision, sharpness | sharp frames' median sharpness |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in b["bursts"]:
        lines.append(
            f"| {r['burst']} | {r['frames']} | {', '.join(r['ids_found'])} | {'yes' if r['best_is_sharp'] else '**no**'} | {r['best_decision']} | "
            f"{r['blurred_decision']}, {r['blurred_sharpness']} | {r['sharp_median_sharpness']:.3f} |"
        )
    decisions = ", ".join(f"{k} {v}" for k, v in sorted(b["frame_decisions"].items()))
    lines += [
        "",
        f"Burst frames that also landed in a duplicate group: {b['frames_in_duplicate_groups']} of {b['frames']}; decisions of the burst frames: {decisions}.",
    ]
    return lines


def crop_tables(rows: list[dict[str, Any]], centre: dict[tuple[str, str], float]) -> list[str]:
    lines = [
        "| files | aspect | n | subject fits | xmpcull mean / whole | whole where it fits | centre crop mean / whole | applied (4:5, conf ≥ 0.8) / whole |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for set_name, pick in (
        ("originals", lambda r: r["transform"] == "original"),
        ("all 17 same-geometry copies", lambda r: True),
    ):
        for aspect in ("4:5", "16:9"):
            sel = [r for r in rows if pick(r) and r["aspect"] == aspect]
            if not sel:
                continue
            fit = [r for r in sel if r["fits"]]
            cen = [centre[(r["file"], r["aspect"])] for r in sel]
            applied = [r for r in sel if r["applied"]]
            lines.append(
                f"| {set_name} | {aspect} | {len(sel)} | {len(fit)} | {statistics.mean(r['containment'] for r in sel):.3f} / "
                f"{_pct(sum(r['containment'] >= FULL for r in sel) / len(sel))} | "
                f"{_pct(sum(r['containment'] >= FULL for r in fit) / len(fit)) if fit else '—'} | "
                f"{statistics.mean(cen):.3f} / {_pct(sum(c >= FULL for c in cen) / len(cen))} | "
                + (
                    f"{len(applied)} / {_pct(sum(r['containment'] >= FULL for r in applied) / len(applied))} |"
                    if applied
                    else "0 |"
                )
            )
    lines += ["", "Per source (originals only): containment 4:5 / 16:9, confidence 4:5 / 16:9:", ""]
    lines += ["| source | 4:5 | 16:9 | confidence 4:5 | confidence 16:9 |", "|---|---|---|---|---|"]
    for source in sorted({r["source"] for r in rows}):
        by = {r["aspect"]: r for r in rows if r["source"] == source and r["transform"] == "original"}
        lines.append(
            f"| {source} | {by['4:5']['containment']:.2f}{'' if by['4:5']['fits'] else ' (cannot fit)'} | "
            f"{by['16:9']['containment']:.2f}{'' if by['16:9']['fits'] else ' (cannot fit)'} | {by['4:5']['confidence']:.2f} | {by['16:9']['confidence']:.2f} |"
        )
    lines += ["", "Confidence vs outcome (all copies, both aspects, subject fits):", ""]
    lines += ["| confidence | n | mean containment | whole |", "|---|---|---|---|"]
    fit_rows = [r for r in rows if r["fits"]]
    for label, lo, hi in (("≥ 0.8", 0.8, 9.0), ("0.5–0.8", 0.5, 0.8), ("< 0.5", -1.0, 0.5)):
        sel = [r["containment"] for r in fit_rows if lo <= r["confidence"] < hi]
        if sel:
            lines.append(
                f"| {label} | {len(sel)} | {statistics.mean(sel):.3f} | {_pct(sum(v >= FULL for v in sel) / len(sel))} |"
            )
    return lines


def decision_tables(result: dict[str, Any]) -> list[str]:
    s = result["summary"]
    by_folder = result["decisions_by_folder"]
    names = sorted({d for c in by_folder.values() for d in c})
    lines = ["| folder | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for folder, counts in sorted(by_folder.items()):
        lines.append(f"| {folder} | " + " | ".join(str(counts.get(n, 0)) for n in names) + " |")
    lines += [
        "",
        f"Hand-touch share (needs-review / decided shots): **{s['hand_touch_share']:.1%}**. Review reasons: "
        + ", ".join(f"{k} {v}" for k, v in result["review_reasons"].most_common())
        + ".",
        (
            f"Duplicate groups {s['duplicate_groups']} ({s['duplicates']} non-keepers), similar sets {s['similar_sets']}, "
            f"bursts {s['bursts']} ({s['frames_in_bursts']} frames), crops proposed {s['crops_proposed']}, applied {s['crops_applied']}, "
            f"errors {s['errors']}, sidecars changed {s['sidecars_changed']}."
        ),
    ]
    return lines


NOTES = """\
Reading it (what is weak):
{weak}
* What holds up on unseen photos: no false pair at all without the stereo pair (also with the crop search, whose
  pixel check is new); burst grouping is exact and the blurred frame is never the best. imagededup is worse
  overall (no EXIF orientation); without the crop search it was better on 3–6 % crops.
* How often this was run. Round 1: the corpus was built and labelled once, before the tool was run on it, and
  nothing was changed after seeing the numbers. Round 2 (2026-11-26): after a second round of work on the
  duplicates (pixel-checked crop search), the crops (composition prior, new confidence, real-photo dev set) and
  the analysis (grey decode), none of which looked at these photos, the holdout was run once with
  `--crop-tolerant` as an extra row. Seeing it (recall 0.953, no new false pair), one decision was made: the crop
  search became the default for runs of up to 50,000 images. The next run exposed two bugs, both fixed in
  general terms: a forked worker hung after the main process had used OpenCV's threads (the pixel check), and
  burst frames (two exposures) shared a duplicate group because each was a crop of the same photo. Later the
  crop search got a cap of 12 candidates per picture and a verdict cache (for speed, found on 2,369 unseen
  OpenCV sample images, see "Unseen images"), and one more bug was fixed because a row here moved: the
  hash-only mode still checked pixels while grouping. Last, reading code: the crop stage had searched grey
  pixels since analysis went grey, and faces were looked for in a copy where the cascade missed real ones;
  both fixed (crops here barely moved); and `run` now decodes each image once (its analysis features come
  from the colour decode). No threshold was changed after seeing the numbers; this section is
  the run after those changes. Its photos are small (384–1411 px on the long side,
  most under 750), smaller than camera files; 16 sources, so one odd photo moves a per-transform recall by 0.06.
  The copies of one photo are not independent, so the "all copies" crop rows mostly repeat the originals' row
  with noise.
* Burst frames are synthetic (shifted windows of one photo with sensor noise), so they are closer to each other
  than real frames of a moving subject; burst clustering itself only reads times and bodies, so that part is a
  test of metadata reading, not of pixels."""


def weak_points(result: dict[str, Any]) -> list[str]:
    """Facts computed from the numbers, so the paragraph cannot drift from the tables."""
    out = []
    run, alone = result["dupes"]["run"], result["dupes"]["plain"]
    if run["recall"] < alone["recall"] - 0.01:
        out.append(
            f"* The run's duplicate recall ({run['recall']:.3f}) is below the same search on `dupes/` alone ({alone['recall']:.3f}): "
            "the burst frames of chelsea, coffee and rocket sit beside those families, and complete linkage splits a family "
            "between a group of copies and a group of frames."
        )
    low = [f"{t} {s['recall']:.2f}" for t, s in run["per_transform"].items() if s["recall"] < 0.9]
    if low:
        out.append(f"* Duplicate transforms below 0.90 recall in the run: {', '.join(low)}.")
    if run["false_pairs"]:
        out.append(
            f"* {run['false_pairs']} false duplicate pairs in the run, e.g. {'; '.join(run['false_examples'][:4])}."
        )
    hn = [k for k, v in result["hard_negatives"]["run"].items() if v["grouped_as_duplicates"]]
    if hn:
        out.append(f"* Hard negatives grouped as duplicates: {', '.join(hn)}.")
    b = result["bursts"]
    if b["frames_in_duplicate_groups"]:
        out.append(
            f"* {b['frames_in_duplicate_groups']} of {b['frames']} burst frames were also put in duplicate groups "
            f"(frame decisions: {', '.join(f'{k} {v}' for k, v in sorted(b['frame_decisions'].items()))}): "
            "tripod frames of one scene are within the near-duplicate threshold of each other."
        )
    red_best = [r["burst"] for r in b["bursts"] if "duplicate" in r["best_decision"]]
    if red_best:
        out.append(
            f"* The best frame of bursts {', '.join(red_best)} is labelled a duplicate (Red): a frame's duplicate role "
            "outranks best-frame, and the duplicate keeper among frames is chosen by the keeper chain (pixels, then mtime), "
            "not by sharpness. docs/config.md says the other frames of a burst are `ok` and the best one Green."
        )
    keepers = result["keepers"]
    stripped = keepers.get("the exif_strip copy", 0)
    if stripped:
        out.append(
            f"* {stripped} of {sum(keepers.values())} duplicate groups keep the EXIF-stripped copy, not the camera original: with "
            "equal pixels the chain's 'most recently edited' falls back to file mtime, and the stripped copy was written last."
        )
    bad = [r["burst"] for r in b["bursts"] if not r["best_is_sharp"]]
    if bad:
        out.append(f"* Best frame was the blurred one (or none) in bursts {', '.join(bad)}.")
    rows = result["crops"]
    orig = [r for r in rows if r["transform"] == "original" and r["fits"] and r["containment"] < FULL]
    if orig:
        out.append(
            "* Crops that cut a subject that would fit (originals): "
            + ", ".join(
                f"{r['source']} {r['aspect']} {r['containment']:.2f} (conf {r['confidence']:.2f})"
                for r in orig
            )
            + "."
        )
    hi = [r for r in rows if r["fits"] and r["confidence"] >= 0.8 and r["containment"] < FULL]
    if hi:
        out.append(
            f"* {len(hi)} proposals at confidence ≥ 0.8 still cut the subject: "
            + ", ".join(sorted({f"{r['source']} {r['aspect']}" for r in hi}))
            + "."
        )
    buckets = {}
    for name, lo, hi in (("high", 0.8, 9.0), ("mid", 0.5, 0.8)):
        sel = [r for r in rows if r["fits"] and lo <= r["confidence"] < hi]
        buckets[name] = sum(r["containment"] >= FULL for r in sel) / len(sel) if sel else None
    high, mid = buckets["high"], buckets["mid"]
    # Weak when a higher confidence is not at least as safe, or when ">= 0.8" does not mean "whole".
    if high is not None and ((mid is not None and high < mid) or high < 0.95):
        out.append(
            f"* Crop confidence does not track the outcome here: ≥ 0.8 kept the subject whole in {high:.0%} of cases, "
            f"0.5–0.8 in {'—' if mid is None else f'{mid:.0%}'}."
        )
    return out or ["* Nothing fell below the targets."]


def markdown(result: dict[str, Any]) -> str:
    c = result["corpus"]
    t = result["timing"]
    lines = [
        (
            f"`bench/holdout.py` ({result['date']}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, scikit-image {result['skimage']}). "
            "Photos nobody tuned on: the photographs bundled in the scikit-image wheel (`skimage/data/`): chelsea, coffee, rocket, "
            "motorcycle left/right (a Middlebury stereo pair), camera, coins, moon, retina, text, page, clock_motion, the brick, "
            "grass and gravel textures, ihc. Licences: the package's README.txt says nothing about them and its LICENSE.txt "
            "(BSD-3-Clause) covers the code; each loader's docstring in `skimage/data/_fetchers.py` states CC0 or public domain "
            "(or 'no known copyright restrictions') for all of them except motorcycle, moon and page, which state no licence — "
            "quoted per file in `SOURCES` in the script. astronaut and hubble_deep_field are in our fixtures and left out; eagle, "
            "lily, skin and the other pooch downloads are not in the wheel."
        ),
        "",
        (
            f"Seeded corpus, {c['files']} files: {c['dupes']} in `dupes/` ({c['families']} families: 16 sources × original + 19 edits, "
            "plus a pair of crops 42 % apart of 5 sources) and "
            f"{c['bursts']} frames in `bursts/` (5 bursts, two bodies interleaved at 10–20 fps, each body's next burst 10 s later, one "
            "frame per burst blurred σ 2–3). Subject boxes: `bench/holdout_labels.json` (7 photos, labelled by eye before any run)."
        ),
        "",
        "One run of the real CLI, as a new user would (cold cache):",
        (
            "`python -m xmpcull.cli.main run CORPUS --aspect 4:5 --aspect 16:9 --apply-crops --json --cache TMP`, scored from "
            "`CORPUS/.xmpcull/report.json`; then `xmpcull dupes CORPUS/dupes --no-write` (default), with `--rotation-invariant` "
            "and with `--no-crop-tolerant` (same cache). Since 2026-11-26 (round 2) the default `run` and `dupes` include the "
            "pixel-checked small-crop search (runs of up to 50,000 images); `--no-crop-tolerant` is the hash-only search of round 1."
        ),
        "",
        (
            f"**Speed**: `run` took {t['run_wall']:.1f} s wall for {result['summary']['images']} images = "
            f"**{result['summary']['images'] / t['run_wall']:.1f} images/s** ({t['run_cpu']:.1f} s CPU in all its processes; "
            f"its --json summary says {t['run_own']:.1f} s; interpreter start, ExifTool, analysis, crops, sidecars and report included; "
            f"load average {os.getloadavg()[0]:.1f} at the end, on a machine shared with other developers' test runs, so the CPU "
            "time is the steadier number). The images are small (0.05–2 MP), so this is mostly per-file overhead, not pixels. "
            f"`dupes` (analysis cached by the run) {t['dupes_wall']['plain']:.1f} s, `--rotation-invariant` "
            f"{t['dupes_wall']['rotinv']:.1f} s, `--no-crop-tolerant` {t['dupes_wall']['hashonly']:.1f} s; imagededup PHash encode+search "
            f"{t['idd_wall']:.1f} s for {c['dupes']} files."
        ),
        "",
        "### Duplicates",
        "",
        (
            "Pairwise over all pairs of `dupes/` files; a pair is true when both come from the same source photo. "
            f"The run and imagededup rows leave out `{UNTAGGED}` (pixels turned without a tag: only `--rotation-invariant` promises it)."
        ),
        "",
        *dupes_tables(result),
        "",
        "### Bursts",
        "",
        *burst_tables(result["bursts"]),
        "",
        "### Crops",
        "",
        (
            "Containment = share of the labelled subject box inside the proposed crop (displayed pixels); whole = ≥ 99.5 %. "
            "The motorcycle is wider than any 4:5 window of its frame, so it cannot fit there."
        ),
        "",
        *crop_tables(result["crops"], result["centre"]),
        "",
        "### Decisions",
        "",
        *decision_tables(result),
        "",
        NOTES.format(weak="\n".join(weak_points(result))),
    ]
    return "\n".join(lines)
