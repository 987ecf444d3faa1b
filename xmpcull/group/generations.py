"""AI generations: one generation at several sizes, batches of variations, img2img parents.

Grouping uses only what the generators recorded, never file times (generators
and copies scramble them):

* A **series** is everything with the same generator family, model, prompt,
  negative prompt, steps, sampler, scheduler, CFG and declared size, and for
  img2img/inpaint the same source and strength; the seed is left out. Hires
  and post-upscale markers are left out too: the hires pass of a generation and
  the image before it, or an Extras upscale that kept the text, are one series.
* A **generation** is a series plus a seed. Its files at several pixel sizes (or
  several copies) are the same picture: ``same_generation`` pairs go to the
  duplicate finder, which keeps the largest. ComfyUI writes the same graph and
  seed into every image of a latent batch, so when one pixel size occurs more
  than once in a ComfyUI generation, metadata cannot pair them and pixels
  decide (the duplicate finder's hashes).
* A **batch** is a series with at least two generations (different seeds, or a
  ComfyUI batch): a similar set of kind "batch" with ID ``b-`` + 8 hex of the
  series key, stable across runs and independent of which files are present.
* A **parent** is the file an img2img/inpaint result names as its source
  (ComfyUI ``LoadImage``, InvokeAI ``init_image``, SwarmUI
  ``initimage_filename``), found by file name in the analysed tree: generators
  name a copy in their input folder, so a name is the best evidence there is.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xmpcull.models import Generation, ImageRecord
from xmpcull.sidecar.fields import GenerationFields

# Generators whose batch images all record the one seed of the batch (Comfy-Org/ComfyUI #75).
SHARED_SEED_GENERATORS = frozenset({"ComfyUI"})
_FAMILY = {"Forge": "A1111"}  # Forge writes A1111's infotext: one family for grouping
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class BatchMember:
    record: ImageRecord
    index: int  # 1-based position of its generation in the batch (copies and hires share it)
    seed: int | None


@dataclass(frozen=True)
class GenerationBatch:
    id: str
    members: tuple[BatchMember, ...]  # by generation index, then largest first, then path
    generations: int  # distinct generations (seeds)
    consecutive_seeds: bool  # the seeds form one run seed, seed+1, … (A1111 batches)
    reason: str
    kind: str = "batch"


@dataclass
class GenerationLinks:
    same_generation: list[tuple[Path, Path]] = field(default_factory=list)
    batches: list[GenerationBatch] = field(default_factory=list)
    parents: dict[Path, Path] = field(default_factory=dict)  # img2img/inpaint result -> its source in the tree

    def batch_of(self) -> dict[Path, tuple[GenerationBatch, BatchMember]]:
        return {m.record.file.path: (b, m) for b in self.batches for m in b.members}


def _normal(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip().lower()


def series_key(g: Generation) -> tuple | None:
    """What a batch shares: everything but the seed and the hires/upscale pass; None when too little is known."""
    if not g.is_generated or g.generator == "C2PA":
        return None
    if g.job_id:
        return ("job", g.job_id)
    if not g.prompt:
        return None
    derived = g.derivation in ("img2img", "inpaint")
    return (
        _FAMILY.get(g.generator or "", g.generator),
        (g.model_hash or "").lower() or _normal(g.model),
        _normal(g.prompt),
        _normal(g.negative_prompt),
        g.steps,
        _normal(g.sampler),
        _normal(g.scheduler),
        g.cfg,
        g.width,
        g.height,
        g.variation_seed,
        g.variation_strength,
        g.derivation if derived else "base",
        g.denoise if derived else None,
        _normal(g.parent) if derived else None,
    )


def series_id(key: tuple) -> str:
    return "b-" + hashlib.blake2b(repr(key).encode("utf-8"), digest_size=4).hexdigest()


def _size(record: ImageRecord) -> tuple[int, int]:
    f = record.features
    return (f.width, f.height) if f else (0, 0)


def link_generations(records: Iterable[ImageRecord]) -> GenerationLinks:
    """Same-generation pairs, batches and parents among analysed records."""
    analysed = [r for r in records if r.ok]
    records = [r for r in analysed if r.metadata.generation is not None]
    by_series: dict[tuple, list[ImageRecord]] = defaultdict(list)
    for record in records:
        key = series_key(record.metadata.generation)  # type: ignore[arg-type]
        if key is not None:
            by_series[key].append(record)
    links = GenerationLinks()
    for key, members in sorted(by_series.items(), key=lambda kv: series_id(kv[0])):
        units = _generations(members)
        for unit in units:
            links.same_generation.extend(_pairs(unit))
        count = sum(_pictures(unit) for unit in units)
        if count >= 2:
            links.batches.append(_batch(series_id(key), units, count))
    links.parents = _parents(records, analysed)
    return links


def _generations(members: Sequence[ImageRecord]) -> list[list[ImageRecord]]:
    """Members split by seed (no seed: each file is its own generation), in seed order."""
    by_seed: dict[int | None, list[ImageRecord]] = defaultdict(list)
    singles = []
    for record in members:
        seed = record.metadata.generation.seed  # type: ignore[union-attr]
        if seed is None:
            singles.append([record])
        else:
            by_seed[seed].append(record)
    units = [sorted(by_seed[s], key=_order) for s in sorted(by_seed)]
    return units + sorted(singles, key=lambda u: _order(u[0]))


def _order(record: ImageRecord) -> tuple:
    width, height = _size(record)
    return (-(width * height), str(record.file.path))


def _shares_seed(unit: Sequence[ImageRecord]) -> bool:
    return unit[0].metadata.generation.generator in SHARED_SEED_GENERATORS  # type: ignore[union-attr]


def _pictures(unit: Sequence[ImageRecord]) -> int:
    """How many distinct pictures one generation unit holds: one, or a ComfyUI batch."""
    if not _shares_seed(unit):
        return 1
    return max(Counter(_size(r) for r in unit).values())


def _pairs(unit: Sequence[ImageRecord]) -> list[tuple[Path, Path]]:
    if len(unit) < 2 or _pictures(unit) > 1:
        return []  # a shared-seed batch: metadata cannot say which pictures belong together
    paths = [r.file.path for r in unit]
    return [(a, b) for n, a in enumerate(paths) for b in paths[n + 1 :]]


def _batch(batch_id: str, units: Sequence[Sequence[ImageRecord]], count: int) -> GenerationBatch:
    members = []
    for index, unit in enumerate(units, start=1):
        seed = unit[0].metadata.generation.seed  # type: ignore[union-attr]
        members.extend(BatchMember(r, index, seed) for r in unit)
    seeds = sorted({m.seed for m in members if m.seed is not None})
    consecutive = len(seeds) >= 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    first = units[0][0].metadata.generation
    assert first is not None
    what = f"{first.generator}, {count} pictures"
    if len(seeds) >= 2:
        what += f", seeds {seeds[0]}-{seeds[-1]}" + (" consecutive" if consecutive else "")
    elif len(seeds) == 1:
        what += f", one seed {seeds[0]} (a batch of one graph)"
    reason = f"same prompt and model ({what})" if first.job_id is None else f"one Midjourney job ({what})"
    return GenerationBatch(batch_id, tuple(members), count, consecutive, reason)


def _file_name(reference: str) -> str:
    name = reference.strip()
    name = re.sub(r"\s*\[(input|output|temp)\]$", "", name)
    return name.replace("\\", "/").rsplit("/", 1)[-1].lower()


def _parents(generated: Sequence[ImageRecord], analysed: Sequence[ImageRecord]) -> dict[Path, Path]:
    """The source of each img2img/inpaint result among every analysed file (a photo can be one)."""
    by_name: dict[str, list[ImageRecord]] = defaultdict(list)
    for record in analysed:
        by_name[record.file.path.name.lower()].append(record)
    parents: dict[Path, Path] = {}
    for record in generated:
        g = record.metadata.generation
        if g is None or g.derivation not in ("img2img", "inpaint") or not g.parent:
            continue
        candidates = [c for c in by_name.get(_file_name(g.parent), []) if c.file.path != record.file.path]
        if not candidates:
            continue
        # Nearest in the tree: same folder first, then the shortest relative path.
        here = record.file.path.parent
        best = min(candidates, key=lambda c: (c.file.path.parent != here, len(c.file.path.parts), str(c.file.path)))
        parents[record.file.path] = best.file.path
    return parents


def generation_fields(record: ImageRecord, links: GenerationLinks, batch_of: dict | None = None) -> GenerationFields | None:
    """The sidecar's generation section for one image; None for an ordinary photo."""
    g = record.metadata.generation
    if g is None or (not g.is_generated and not g.source_type):
        return None
    batch_of = links.batch_of() if batch_of is None else batch_of
    batch, member = batch_of.get(record.file.path, (None, None))
    parent = g.parent
    found = links.parents.get(record.file.path)
    if found is not None:
        parent = os.path.relpath(found, record.file.path.parent)
    return GenerationFields(
        generator=g.generator,
        generator_version=g.generator_version,
        model=g.model,
        model_hash=g.model_hash,
        prompt=g.prompt,
        negative_prompt=g.negative_prompt,
        seed=g.seed,
        steps=g.steps,
        sampler=g.sampler,
        cfg=g.cfg,
        width=g.width,
        height=g.height,
        derivation=g.derivation if g.is_generated and g.generator != "C2PA" else None,
        denoise=g.denoise,
        parent=parent,
        batch=batch.id if batch else None,
        batch_index=member.index if member else None,
        batch_size=batch.generations if batch else None,
        source_type=g.iptc_source_type,
        c2pa=g.c2pa,
        prompt_writer=g.prompt_writer,
    )
