"""Benchmark: `xmpcull review` on a 50,000-image shoot (first paint, page times, previews).

A synthetic run report of N images (default 50,000: 5,000 duplicate groups of 3,
2,000 bursts of 5, 10 % needs-review, 3 crop proposals each), every image a hard
link to one real camera JPEG with a real sidecar written by the engine (a cached
tree: sidecars present, page-1 previews made). Measures, in one run:

* loading the report into the review model;
* the server's HTML time for page 1 and a far page of each view, first (sidecars
  of the page parsed) and again (remembered);
* first contentful paint in Debian's Chromium for the queue and the duplicates;
  the anchor is the same page, exported by ``--static``, opened from disk (no server);
* reading all N sidecars in the background (when the rating/label filters see them all);
* one preview (360 px) from a 24 MP JPEG, against the floor of the analysis decode
  (``decode_rendered`` at 512 px, grey) of the same file.

    .venv/bin/python bench/review_bench.py [--images 50000] [--write-results]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.results import replace_section  # noqa: E402
from xmpcull.analyse.decode import decode_rendered  # noqa: E402
from xmpcull.config import load_config  # noqa: E402
from xmpcull.review.model import load_model  # noqa: E402
from xmpcull.review.pages import PageRequest, Renderer, StaticUrls  # noqa: E402
from xmpcull.review.previews import PreviewMaker  # noqa: E402
from xmpcull.review.server import COOKIE, ReviewServer, ReviewSession  # noqa: E402
from xmpcull.review.static_export import STATIC_DIR  # noqa: E402
from xmpcull.sidecar import DecisionFields, DupeFields, SidecarUpdate, write_sidecar  # noqa: E402

PHOTO = HERE.parent / "fixtures" / "camera" / "canon_hdr_NO.jpg"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def build_shoot(base: Path, count: int) -> Path:
    root = base / "shoot"
    seed_image = base / "seed.jpg"
    shutil.copy(PHOTO, seed_image)
    write_sidecar(seed_image, SidecarUpdate(dupes=DupeFields("d-00000001", "near", "duplicate", 3),
                                            decision=DecisionFields("duplicate", rating=1, label="Red")))
    sidecar = seed_image.with_suffix(".xmp").read_bytes()
    images, groups, bursts = [], [], []
    for i in range(count):
        folder = root / f"day{i // 5000:02d}"
        if i % 5000 == 0:
            folder.mkdir(parents=True)
        path = folder / f"IMG_{i:06d}.jpg"
        os.link(seed_image, path)
        path.with_suffix(".xmp").write_bytes(sidecar)
        proposals = [{"aspect": a, "crs": {"left": 0.1, "top": 0.0, "right": 0.9, "bottom": 1.0}, "confidence": 0.4,
                      "applied": False} for a in ("4:5", "1:1", "16:9")]
        images.append({"path": str(path), "relpath": path.relative_to(root).as_posix(), "root": str(root),
                       "decision": "needs-review" if i % 10 == 0 else "ok", "review_reasons": ["ambiguous"] if i % 10 == 0 else [],
                       "reason": "synthetic", "quality": 0.5, "crop_proposals": proposals})
    entry = lambda i: {k: images[i][k] for k in ("path", "relpath", "root")}  # noqa: E731
    for g in range(min(5000, count // 10)):
        members = [g * 3, g * 3 + 1, g * 3 + 2]
        groups.append({"id": f"d-{g:08x}", "kind": "near", "keeper": images[members[0]]["path"], "keeper_reason": "sharpest",
                       "members": [{**entry(m), "role": "keeper" if m == members[0] else "duplicate", "distance": 2,
                                    "width": 1200, "height": 800, "bytes": 200000, "mtime": 0, "digest": "0"} for m in members]})
    for b in range(min(2000, count // 25)):
        start = count // 2 + b * 5
        members = [{**entry(start + k), "index": k + 1} for k in range(5) if start + k < count]
        bursts.append({"id": f"b-{b}", "camera": "Synthetic", "best": members[0]["path"], "best_reason": "sharpest",
                       "members": members})
    report = root / ".xmpcull" / "report.json"
    report.parent.mkdir()
    report.write_text(json.dumps({"version": 1, "roots": [str(root)], "groups": groups, "similar_sets": [],
                                  "images": images, "bursts": bursts}))
    return root


def first_paint(urls: list[str], cookie: tuple[str, str, int] | None) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for url in urls:
            samples = []
            for _ in range(3):
                context = browser.new_context()
                if cookie is not None:
                    context.add_cookies([{"name": cookie[0], "value": cookie[1], "domain": "127.0.0.1", "path": "/"}])
                page = context.new_page()
                page.goto(url, wait_until="load")
                page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0",
                                       timeout=10000)
                fcp = page.evaluate("() => performance.getEntriesByName('first-contentful-paint')[0].startTime")
                samples.append(float(fcp or "nan") / 1000)
                context.close()
            out[url] = statistics.median(samples)
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50_000)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="xmpcull-review-bench-"))
    try:
        rows = run(base, args.images)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    body = "\n".join(rows)
    print(body)
    if args.write_results:
        replace_section(HERE / "RESULTS.md", "Review (browser)", body)


def run(base: Path, count: int) -> list[str]:
    started = time.perf_counter()
    root = build_shoot(base, count)
    built = time.perf_counter() - started
    started = time.perf_counter()
    model = load_model(root / ".xmpcull" / "report.json")
    loaded = time.perf_counter() - started
    config = load_config(None, {})
    server = ReviewServer(ReviewSession.create(model, base / "previews", config.write_options, workers=2))
    server.start_in_thread()
    port, token = server.session.port, server.session.token
    results: list[tuple[str, float, float]] = []
    try:
            # A new connection per request, as curl makes: httpx's kept-alive connection adds ~40 ms of
        # delayed-ACK wait per request here, which would measure the client, not the server.
        no_keepalive = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={COOKIE: token}, timeout=120,
                          limits=no_keepalive) as client:
            for view in ("queue", "dupes", "bursts", "crops", "all"):
                far = max(1, Renderer(model, StaticUrls(), read_only=True).page_count(PageRequest(view)) // 2)
                for page in (1, far):
                    times = []
                    for _ in range(2):
                        t = time.perf_counter()
                        assert client.get(f"/{view}", params={"page": page}).status_code == 200
                        times.append(time.perf_counter() - t)
                    results.append((f"/{view} page {page}", times[0], times[1]))
            # page-1 previews of the duplicates view, made once (the cached tree), then again from the cache
            ids = [i for row in model.rows["dupes"][:20] for i in row.members]
            t = time.perf_counter()
            for i in ids:
                client.get(f"/preview/{i}/thumb")
            cold = time.perf_counter() - t
            t = time.perf_counter()
            for i in ids:
                client.get(f"/preview/{i}/thumb")
            warm = time.perf_counter() - t
        static_dir = base / "static"
        static_dir.mkdir()
        exporter = Renderer(model, StaticUrls(), read_only=True)
        shutil.copytree(STATIC_DIR, static_dir / "static")
        for view, name in (("queue", "index.html"), ("dupes", "dupes.html")):
            (static_dir / name).write_text(exporter.render_page(PageRequest(view), refresh=False))
        paints = first_paint([f"http://127.0.0.1:{port}/queue", f"http://127.0.0.1:{port}/dupes",
                              (static_dir / "index.html").as_uri(), (static_dir / "dupes.html").as_uri()],
                             (COOKIE, token, port))
    finally:
        server.stop()
    for item in model.items:
        item.sidecar_signature = None
    t = time.perf_counter()
    model.refresh(model.items)
    all_sidecars = time.perf_counter() - t

    big = base / "24mp.jpg"
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 255, size=(150, 225, 3), dtype=np.uint8)
    Image.fromarray(noise).resize((6000, 4000), Image.Resampling.BICUBIC).save(big, quality=90)
    maker = PreviewMaker(base / "previews-24mp", workers=1)
    preview_times, floor_times = [], []
    for n in range(5):
        t = time.perf_counter()
        maker._make(big, "thumb", base / f"p{n}.jpg")  # the pool's job, timed alone
        preview_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        decode_rendered(big, size=512, mode="L")
        floor_times.append(time.perf_counter() - t)
    maker.close()
    q, d, qs, ds = (paints[u] for u in paints)
    lines = [
        f"Synthetic shoot of {count:,} images (hard links to one camera JPEG, each with a real sidecar; built in "
        f"{built:.0f} s), measured {time.strftime('%Y-%m-%d')} on the shared 2-core machine (other helpers were running).",
        "",
        "| what | first | again |",
        "|---|---|---|",
        f"| load the run report into the review model | {loaded:.2f} s | |",
        *[f"| server HTML, {name} | {a * 1000:.0f} ms | {b * 1000:.0f} ms |" for name, a, b in results],
        f"| 60 page-1 previews of the duplicates (make / from the cache) | {cold:.2f} s | {warm:.2f} s |",
        f"| read all {count:,} sidecars (background; filters see every rating and label) | {all_sidecars:.1f} s | |",
        "",
        "| first contentful paint in Chromium (median of 3) | server | anchor: same page from disk |",
        "|---|---|---|",
        f"| needs-review queue, page 1 | {q:.3f} s | {qs:.3f} s |",
        f"| duplicate groups, page 1 | {d:.3f} s | {ds:.3f} s |",
        "",
        f"One 360 px preview of a 24 MP JPEG: {statistics.median(preview_times) * 1000:.0f} ms "
        f"(floor, the analysis decode of the same file at 512 px grey: {statistics.median(floor_times) * 1000:.0f} ms).",
        "\"First\" includes parsing the sidecars of the page's images; pages hold at most 60 images (20 groups), "
        "so page time does not grow with the shoot. Previews never block the page: they load lazily after it painted. "
        "Until the background read of every sidecar is done, the rating and label filters use the run's proposals "
        "for images no page has shown yet; the report load happens once, before the URL is printed.",
    ]
    return lines


if __name__ == "__main__":
    main()
