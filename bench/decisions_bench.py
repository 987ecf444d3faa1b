"""Decisions bench: a labelled shoot run as a photographer runs it (issue 14, "Done when").

The shoot is built from the real camera photos in ``fixtures/`` (nothing here was
tuned on it): camera originals in ``day1/``, byte-identical backups in ``backup/``,
lossy web exports, a PNG export without EXIF and a downscaled copy in ``exports/``,
full-quality edits (re-saved by an editor, capture metadata kept) in ``edits/``, and
in ``bursts/`` real consecutive exposures stamped as frames of one body at
.00/.30 s, .00/.50 s, and three frames of a static video camera at .00/.20/.40 s;
two frames of one view 60 frames apart (a hand came in), without capture metadata,
one in ``day1/`` and one in ``misc/``: a similar set across folders.
Every duplicate group spans folders. Then, through the real command line
(``python -m xmpcull.cli.main run ... --json``):

1. keeper: in every labelled group the keeper is the camera original, its exact
   backup, or the full-quality edit (``ACCEPTABLE``);
2. bursts: no burst frame is in a duplicate group or decided ``duplicate``;
3. adding one photo: an unrelated photo changes only its own sidecar; a new export
   of an original changes only its own and its group's sidecars;
4. subfolders: a run on each top folder alone leaves every byte of the tree as the
   whole-tree run left it, similar-set members' sidecars counted apart; with
   ``--anchor REV`` the same measure also runs, on a fresh copy of the shoot, with
   the ``xmpcull`` package as it was at git revision REV (the anchor, same run);
5. ``--embed`` twice: the second run changes no byte of any file; with ``--embed-tries N``
   on N fresh copies (the outcome depended on timing: recomputed numbers were noisy), and
   with ``--anchor`` N times at the anchor too, in turn, under the same load.

    .venv/bin/python bench/decisions_bench.py [--out bench/out/decisions] [--anchor REV] [--embed-tries N] [--write-results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageEnhance, ImageOps

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "Decisions: labelled shoot (keepers, bursts, stable sidecars)"
EDITOR = "Adobe Photoshop Lightroom Classic 13.0 (Macintosh)"

# original (fixture) -> the name it has in the shoot
ORIGINALS = {
    "photos/mongolels.jpg": "IMG_1001.JPG",  # Canon EOS 500D
    "camera/Sumo_Museum.jpg": "IMG_2001.JPG",  # Canon PowerShot A70
    "photos/T-45A_Goshawk_03_1600px.jpg": "IMG_3001.JPG",  # Canon PowerShot S5 IS
    "photos/nikon-e2100.jpg": "DSCN4001.JPG",  # Nikon E2100
    "camera/issue-fast-exif-2.jpg": "DSC_5001.JPG",  # Nikon D700
}
SINGLES = {  # nothing to group with
    "photos/portrait.jpg": "portrait.jpg",
    "photos/hubble_deep_field.jpg": "hubble.jpg",
    "photos/codingsprint2009-02.jpg": "sprint.jpg",
    "camera/IMG_20180725_163423-tiny.jpg": "PXL_0001.jpg",
}
# (fixture, name, DateTimeOriginal, SubSecTimeOriginal, Make, Model): frames of one body.
BURSTS = (
    ("camera/iphone_hdr_NO.jpg", "IMG_0001.JPG", "2015:04:10 20:12:23", "00", "Apple", "iPhone 6"),
    ("camera/iphone_hdr_YES.jpg", "IMG_0002.JPG", "2015:04:10 20:12:23", "30", "Apple", "iPhone 6"),
    ("camera/canon_hdr_NO.jpg", "IMG_7001.JPG", "2015:02:09 22:47:44", "00", "Canon", "Canon PowerShot SX60 HS"),
    ("camera/canon_hdr_YES.jpg", "IMG_7002.JPG", "2015:02:09 22:47:44", "50", "Canon", "Canon PowerShot SX60 HS"),
    ("video/vtest_0000.jpg", "P1000001.JPG", "2019:03:02 10:00:00", "00", "Panasonic", "DMC-GH4"),
    ("video/vtest_0020.jpg", "P1000002.JPG", "2019:03:02 10:00:00", "20", "Panasonic", "DMC-GH4"),
    ("video/vtest_0040.jpg", "P1000003.JPG", "2019:03:02 10:00:00", "40", "Panasonic", "DMC-GH4"),
)
# Two frames of one view, no capture metadata, in two folders: a similar set, not a group.
SIMILAR_ACROSS = {"video/tree_0000.jpg": "day1/tree-1.jpg", "video/tree_0060.jpg": "misc/tree-2.jpg"}
# Labels: every group's members (relative paths) and the members a photographer accepts as keeper.
GROUPS: dict[str, dict[str, set[str]]] = {
    "IMG_1001": {
        "members": {"day1/IMG_1001.JPG", "backup/IMG_1001.JPG", "exports/IMG_1001-web.jpg", "exports/IMG_1001.png",
                    "exports/IMG_1001-small.jpg", "edits/IMG_1001-Edit.jpg"},
        "acceptable": {"day1/IMG_1001.JPG", "backup/IMG_1001.JPG", "edits/IMG_1001-Edit.jpg"},
    },
    "IMG_2001": {
        "members": {"day1/IMG_2001.JPG", "exports/IMG_2001-web.jpg", "edits/IMG_2001-Edit.jpg"},
        "acceptable": {"day1/IMG_2001.JPG", "edits/IMG_2001-Edit.jpg"},
    },
    "IMG_3001": {
        "members": {"day1/IMG_3001.JPG", "exports/IMG_3001-q60.jpg"},
        "acceptable": {"day1/IMG_3001.JPG"},
    },
    "DSCN4001": {
        "members": {"day1/DSCN4001.JPG", "exports/DSCN4001.png", "exports/DSCN4001-small.jpg"},
        "acceptable": {"day1/DSCN4001.JPG"},
    },
    "DSC_5001": {
        "members": {"day1/DSC_5001.JPG", "backup/DSC_5001.JPG", "exports/DSC_5001-web.jpg"},
        "acceptable": {"day1/DSC_5001.JPG", "backup/DSC_5001.JPG"},
    },
}


def exiftool(*args: str | Path) -> None:
    subprocess.run(["exiftool", "-q", "-m", "-overwrite_original", *map(str, args)], check=True)


def export(source: Path, target: Path, quality: int | None = None, scale: float = 1.0) -> None:
    """A web export: turned upright and re-encoded by PIL, which writes no EXIF unless asked
    (as most exporters do)."""
    with Image.open(source) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        if scale != 1.0:
            im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
        if target.suffix == ".png":
            im.save(target)
        else:
            im.save(target, quality=quality)


def edit(source: Path, target: Path, quality: int, brighten: float) -> None:
    """A full-quality edit: brightened, saved by an editor that keeps the capture metadata."""
    with Image.open(source) as im:
        exif = im.info.get("exif", b"")
        ImageEnhance.Brightness(im.convert("RGB")).enhance(brighten).save(target, quality=quality, exif=exif)
    exiftool(f"-Software={EDITOR}", target)


def build(shoot: Path) -> None:
    for folder in ("day1", "backup", "exports", "edits", "bursts", "misc"):
        (shoot / folder).mkdir(parents=True)
    for fixture, name in ORIGINALS.items():
        shutil.copy2(FIXTURES / fixture, shoot / "day1" / name)
    day1 = shoot / "day1"
    shutil.copy2(day1 / "IMG_1001.JPG", shoot / "backup/IMG_1001.JPG")
    shutil.copy2(day1 / "DSC_5001.JPG", shoot / "backup/DSC_5001.JPG")
    export(day1 / "IMG_1001.JPG", shoot / "exports/IMG_1001-web.jpg", quality=60)
    export(day1 / "IMG_1001.JPG", shoot / "exports/IMG_1001.png")
    export(day1 / "IMG_1001.JPG", shoot / "exports/IMG_1001-small.jpg", quality=85, scale=0.5)
    edit(day1 / "IMG_1001.JPG", shoot / "edits/IMG_1001-Edit.jpg", quality=95, brighten=1.04)
    export(day1 / "IMG_2001.JPG", shoot / "exports/IMG_2001-web.jpg", quality=70)
    edit(day1 / "IMG_2001.JPG", shoot / "edits/IMG_2001-Edit.jpg", quality=92, brighten=0.97)
    # A q60 export that kept its EXIF: only the JPEG quality tells it from the original.
    with Image.open(day1 / "IMG_3001.JPG") as im:
        im.save(shoot / "exports/IMG_3001-q60.jpg", quality=60, exif=im.info.get("exif", b""))
    export(day1 / "DSCN4001.JPG", shoot / "exports/DSCN4001.png")
    export(day1 / "DSCN4001.JPG", shoot / "exports/DSCN4001-small.jpg", quality=90, scale=0.5)
    export(day1 / "DSC_5001.JPG", shoot / "exports/DSC_5001-web.jpg", quality=65)
    for fixture, name in SINGLES.items():
        shutil.copy2(FIXTURES / fixture, shoot / "misc" / name)
    for fixture, relpath in SIMILAR_ACROSS.items():
        shutil.copy2(FIXTURES / fixture, shoot / relpath)
    for fixture, name, when, subsec, make, model in BURSTS:
        target = shoot / "bursts" / name
        shutil.copy2(FIXTURES / fixture, target)
        exiftool(f"-DateTimeOriginal={when}", f"-SubSecTimeOriginal={subsec}", f"-Make={make}", f"-Model={model}", target)


def xmpcull(*args: str | Path, code: Path | None = None) -> dict[str, Any]:
    """The real command line; ``code``: a folder holding another ``xmpcull`` package to run instead (the anchor)."""
    env = {**os.environ, "PYTHONPATH": str(code)} if code else None
    proc = subprocess.run(  # from the anchor's folder: `-m` puts the working directory first on sys.path
        [sys.executable, "-m", "xmpcull.cli.main", *map(str, args), "--json"],
        capture_output=True, text=True, check=False, env=env, cwd=code,
    )
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"xmpcull {' '.join(map(str, args))}: exit {proc.returncode}\n{proc.stderr}") from exc


def all_bytes(root: Path) -> dict[str, bytes]:
    """Every file of the shoot except xmpcull's reports (they record times)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".xmpcull" not in p.relative_to(root).parts
    }


def changed(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def sidecar_of(relpath: str) -> str:
    return str(Path(relpath).with_suffix(".xmp"))


def embed_twice(pristine: Path, where: Path, cache: Path, code: Path | None = None) -> tuple[dict[str, bytes], list[str]]:
    """``run --embed`` twice on a fresh copy of the shoot: the files after the first run, and
    those the second run changed (it is timing-dependent when recomputed numbers are noisy)."""
    shutil.copytree(pristine, where)
    xmpcull("run", where, "--embed", "--cache", cache, code=code)
    once = all_bytes(where)
    xmpcull("run", where, "--embed", "--cache", cache, code=code)
    return once, changed(once, all_bytes(where))


def anchor_code(rev: str, into: Path) -> Path:
    """The ``xmpcull`` package as it was at ``rev``, unpacked under ``into`` (checked to be the one imported)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "xmpcull"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    where = subprocess.run(
        [sys.executable, "-c", "import xmpcull; print(xmpcull.__file__)"], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(into)}, cwd=into,
    ).stdout.strip()
    if not Path(where).is_relative_to(into):
        raise SystemExit(f"the anchor code is not the one imported: {where}")
    return into


def similar_sets(shoot: Path) -> list[list[str]]:
    """The report's similar sets, as sorted relative paths."""
    report = json.loads((shoot / ".xmpcull/report.json").read_text())
    return sorted(sorted(m["relpath"] for m in s["members"]) for s in report["similar_sets"])


def subfolder_runs(shoot: Path, cache: Path, code: Path | None = None) -> dict[str, list[str]]:
    """Each top folder alone, with and without the cache: the files that differ from the whole-tree run
    (which must have just run); the tree is put back after each case."""
    whole = all_bytes(shoot)
    found = {}
    for folder in sorted(p.name for p in shoot.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for mode in (("--cache", cache), ("--no-cache",)):
            xmpcull("run", shoot / folder, *mode, code=code)
            found[f"{folder} {mode[0]}"] = changed(whole, all_bytes(shoot))
            if found[f"{folder} {mode[0]}"]:
                for name, data in whole.items():
                    (shoot / name).write_bytes(data)
    return found


def subfolder_measure(shoot: Path, cache: Path, code: Path | None = None) -> dict[str, Any]:
    """The subfolder measure on a fresh shoot: whole tree, then each folder alone."""
    xmpcull("run", shoot, "--cache", cache, code=code)
    sets = similar_sets(shoot)
    return {"runs": subfolder_runs(shoot, cache, code), "similar_sets": sets}


def similar_sidecars(sets: list[list[str]]) -> set[str]:
    return {sidecar_of(p) for members in sets for p in members}


def spans_folders(members: list[str]) -> bool:
    return len({Path(p).parts[0] for p in members}) > 1


def check_keepers(shoot: Path) -> dict[str, Any]:
    report = json.loads((shoot / ".xmpcull/report.json").read_text())
    rel = {str(Path(m["path"])): m["relpath"] for g in report["groups"] for m in g["members"]}
    found = {frozenset(rel[m["path"]] for m in g["members"]): g for g in report["groups"]}
    rows = []
    for name, label in GROUPS.items():
        group = found.get(frozenset(label["members"]))
        keeper = rel[group["keeper"]] if group else None
        rows.append({
            "group": name,
            "found": group is not None,
            "keeper": keeper,
            "ok": keeper in label["acceptable"],
            "reason": group["keeper_reason"] if group else None,
        })
    extra = [sorted(m) for m in found if m not in {frozenset(label["members"]) for label in GROUPS.values()}]
    burst_files = {f"bursts/{b[1]}" for b in BURSTS}
    images = {i["relpath"]: i for i in report["images"]}
    burst_dupes = sorted(p for p in burst_files if images[p]["decision"] == "duplicate" or images[p]["dupe_group"])
    bursts = [b for b in report["bursts"] if b.get("size", 0) > 1 or len(b.get("frames", b.get("shots", []))) > 1]
    return {
        "groups": rows,
        "unlabelled_groups": extra,
        "burst_frames": len(burst_files),
        "burst_frames_in_dupe_groups": burst_dupes,
        "bursts": len(bursts),
        "summary": report["summary"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench/out/decisions")
    ap.add_argument("--anchor", metavar="REV", help="also run the subfolder measure with xmpcull as of this git revision")
    ap.add_argument("--embed-tries", type=int, default=1, metavar="N",
                    help="run the double --embed measure on N fresh copies (and N at --anchor, in turn)")
    ap.add_argument("--write-results", action="store_true", help=f"replace the '{HEADING}' section of bench/RESULTS.md")
    args = ap.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    shoot, cache = args.out / "shoot", args.out / "cache.sqlite"
    started = time.monotonic()
    build(shoot)
    pristine = args.out / "pristine"
    shutil.copytree(shoot, pristine)

    first = xmpcull("run", shoot, "--cache", cache)
    keepers = check_keepers(shoot)
    whole = all_bytes(shoot)
    rerun = xmpcull("run", shoot, "--cache", cache)
    rerun_changed = changed(whole, all_bytes(shoot))

    # 4. each top folder alone, with and without the cache; the anchor on its own fresh copy
    sets = similar_sets(shoot)
    subfolders = subfolder_runs(shoot, cache)
    anchor, code = None, None
    if args.anchor:
        code = anchor_code(args.anchor, args.out / "anchor-code")
        anchor_shoot = args.out / "anchor-shoot"
        shutil.copytree(pristine, anchor_shoot)
        anchor = {"rev": args.anchor, **subfolder_measure(anchor_shoot, args.out / "anchor.sqlite", code)}

    # 3. adding one photo
    base = all_bytes(shoot)
    shutil.copy2(FIXTURES / "camera/nikon_D3100_TypeError.jpg", shoot / "misc/DSC_9001.JPG")
    unrelated = xmpcull("run", shoot, "--cache", cache)
    after_unrelated = all_bytes(shoot)
    unrelated_changed = [p for p in changed(base, after_unrelated) if p.endswith(".xmp")]
    unrelated_allowed = {"misc/DSC_9001.xmp"}
    export(shoot / "day1/IMG_2001.JPG", shoot / "exports/IMG_2001-tiny.jpg", quality=50, scale=0.25)
    xmpcull("run", shoot, "--cache", cache)
    joined_changed = [p for p in changed(after_unrelated, all_bytes(shoot)) if p.endswith(".xmp")]
    joined_allowed = {sidecar_of(p) for p in GROUPS["IMG_2001"]["members"] | {"exports/IMG_2001-tiny.jpg"}}

    # 5. --embed twice on a fresh copy (and again on more fresh copies, now and at the anchor, in turn)
    embedded = args.out / "embedded"
    once, embed_changed = embed_twice(pristine, embedded, args.out / "embed.sqlite")
    xmpcull("run", embedded, "--embed", "--no-cache")
    embed_nocache_changed = changed(once, all_bytes(embedded))
    embed_tries: dict[str, list[list[str]]] = {"now": [embed_changed], "anchor": []}
    for n in range(args.embed_tries):
        if n:
            where = args.out / f"embedded-{n}"
            embed_tries["now"].append(embed_twice(pristine, where, where.with_suffix(".sqlite"))[1])
        if code is not None:
            where = args.out / f"anchor-embedded-{n}"
            embed_tries["anchor"].append(embed_twice(pristine, where, where.with_suffix(".sqlite"), code)[1])

    result = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "images": first["images"],
        "keepers": keepers,
        "rerun_changed": rerun_changed,
        "rerun_sidecars_changed": rerun["sidecars_changed"],
        "subfolders": subfolders,
        "similar_sets": sets,
        "anchor": anchor,
        "unrelated_changed": unrelated_changed,
        "unrelated_ok": set(unrelated_changed) <= unrelated_allowed and unrelated["sidecars_changed"] == 1,
        "joined_changed": joined_changed,
        "joined_allowed": sorted(joined_allowed),
        "joined_ok": set(joined_changed) <= joined_allowed and "exports/IMG_2001-tiny.xmp" in joined_changed,
        "embed_second_changed": embed_changed,
        "embed_nocache_changed": embed_nocache_changed,
        "embed_tries": embed_tries,
        "load_average": os.getloadavg(),
        "seconds": round(time.monotonic() - started, 1),
    }
    (args.out / "result.json").write_text(json.dumps(result, indent=1, default=sorted))
    text = render(result)
    print(text)
    if args.write_results:
        sys.path.insert(0, str(ROOT))
        from bench.results import replace_section

        replace_section(RESULTS, HEADING, text)


def render(r: dict[str, Any]) -> str:
    k = r["keepers"]
    good = sum(g["ok"] for g in k["groups"])
    extra = f"; {len(k['unlabelled_groups'])} groups not in the labels" if k["unlabelled_groups"] else ""
    lines = [
        f"`bench/decisions_bench.py` ({r['date']}, {r['machine']}, 2-core VM shared with other jobs; "
        f"{r['seconds']} s for all runs, load average {r['load_average'][0]:.1f} at the end). A labelled shoot of {r['images']} files built from the real camera "
        "photos in `fixtures/` (nothing tuned on it): originals, exact backups, lossy/PNG/downscaled exports "
        "without EXIF, a q60 export with EXIF, full-quality edits saved by an editor, and bursts of real "
        "consecutive exposures at .00/.30, .00/.50 and .00/.20/.40 s, and two frames of one view in `day1/` and "
        "`misc/` (a similar set across folders). Every group spans folders. "
        "Each figure is the real `xmpcull run --json` on that tree.",
        "",
        "| check | result | target |",
        "|---|---|---|",
        f"| keeper is the original (or its backup, or the full-quality edit) | {good} of {len(k['groups'])} groups"
        f"{extra} | all |",
        f"| burst frames in a duplicate group | {len(k['burst_frames_in_dupe_groups'])} of {k['burst_frames']} "
        f"({k['bursts']} bursts found) | 0 |",
        f"| re-run, nothing new: files changed | {len(r['rerun_changed'])} | 0 |",
        f"| adding an unrelated photo: other sidecars changed | "
        f"{len([p for p in r['unrelated_changed'] if p != 'misc/DSC_9001.xmp'])} (own written: "
        f"{'yes' if 'misc/DSC_9001.xmp' in r['unrelated_changed'] else 'no'}) | 0 |",
        f"| adding a new export of IMG_2001: sidecars changed outside its group | "
        f"{len(set(r['joined_changed']) - set(r['joined_allowed']))} (changed: {len(r['joined_changed'])}, "
        f"its group + itself: {len(r['joined_allowed'])}) | 0 |",
    ]
    lines += [
        f"| `--embed` second run: files changed | {len(r['embed_second_changed'])} | 0 |",
        f"| `--embed` third run, `--no-cache`: files changed | {len(r['embed_nocache_changed'])} | 0 |",
        render_embed_tries(r),
        "",
        *render_subfolders(r),
        "",
        "Keepers and why (the report's `keeper_reason`, also `xmpcull:KeeperReason`):",
        "",
        "| group | keeper | reason |",
        "|---|---|---|",
    ]
    for g in k["groups"]:
        lines.append(f"| {g['group']} | `{g['keeper']}` {'✓' if g['ok'] else '✗'} | {g['reason']} |")
    s = k["summary"]
    flagged = ", ".join(f"{n} {code}" for code, n in s.get("flagged", {}).items()) or "nothing"
    lines += [
        "",
        f"Decisions on the shoot: {', '.join(f'{n} {d}' for d, n in s['decisions'].items())}; "
        f"hand-touch share {s['hand_touch_share']:.1%} ({flagged}); "
        f"{s.get('weak_crops_not_applied', 0)} weak crop proposals not flagged (crops not applied).",
    ]
    return "\n".join(lines)


def render_embed_tries(r: dict[str, Any]) -> str:
    tries = r["embed_tries"]

    def count(runs: list[list[str]]) -> str:
        files = sorted({f for run in runs for f in run})
        return f"{sum(1 for run in runs if run)} of {len(runs)}" + (f" ({', '.join(f'`{f}`' for f in files)})" if files else "")

    anchor = f"; anchor ({r['anchor']['rev']}): {count(tries['anchor'])}" if tries["anchor"] else ""
    return f"| `--embed` twice on fresh copies: tries whose second run changed a byte | {count(tries['now'])}{anchor} | 0 |"


def render_subfolders(r: dict[str, Any]) -> list[str]:
    """Subfolder runs against the whole-tree run, now and (with --anchor) at the anchor revision."""
    anchor = r.get("anchor")

    def cell(files: list[str], sets: list[list[str]]) -> str:
        members = similar_sidecars(sets)
        return f"{len(files)} ({sum(1 for f in files if f in members)})"

    def described(sets: list[list[str]]) -> str:
        across = [s for s in sets if spans_folders(s)]
        return (f"{len(sets)} similar sets, {len(across)} across folders "
                f"({'; '.join(' + '.join(f'`{p}`' for p in s) for s in across) or 'none'})")

    head = "| run alone on | now |" + (f" anchor ({anchor['rev']}) |" if anchor else "") + " target |"
    lines = [
        "Subfolder runs: each top folder alone, with and without the cache, right after a whole-tree run (the "
        "tree is put back after each case). Files that differ from the whole-tree run; in brackets, how many of "
        f"them are sidecars of similar-set members. Now: {described(r['similar_sets'])}."
        + (f" Anchor: the same measure in the same bench run, on a fresh copy of the shoot, with the `xmpcull` "
           f"package of {anchor['rev']}: {described(anchor['similar_sets'])}." if anchor else " No anchor run."),
        "",
        head,
        "|---|---|" + ("---|" if anchor else "") + "---|",
    ]
    for case, files in r["subfolders"].items():
        folder, mode = case.split(" ")
        before = f" {cell(anchor['runs'][case], anchor['similar_sets'])} |" if anchor and case in anchor["runs"] else ""
        lines.append(f"| `{folder}/` ({mode}) | {cell(files, r['similar_sets'])} |{before} 0 |")
    total = [f for files in r["subfolders"].values() for f in files]
    before = ""
    if anchor:
        before = f" {cell([f for files in anchor['runs'].values() for f in files], anchor['similar_sets'])} |"
    lines.append(f"| all {len(r['subfolders'])} runs | {cell(total, r['similar_sets'])} |{before} 0 |")
    return lines


if __name__ == "__main__":
    main()
