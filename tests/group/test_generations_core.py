"""The grouping rules on hand-made records: no files, no decoding."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from xmpcull.group.generations import link_generations
from xmpcull.models import Features, Generation, ImageFile, ImageRecord, Metadata


def record(name: str, size: tuple[int, int], **generation) -> ImageRecord:
    path = Path("/lib") / name
    g = Generation(**{"generator": "A1111", "prompt": "a cat", "model": "m", "steps": 20, "cfg": 7.0,
                      "width": 512, "height": 512, **generation})
    features = Features(digest=name, phash=0, dhash=0, phash_variants=(0,) * 8, width=size[0], height=size[1],
                        sharpness=0.0, mean_luma=0.5, clip_high=0.0, clip_low=0.0, decoded_from="full")
    return ImageRecord(ImageFile(path, Path("/lib"), "png", 1, 0), Metadata(generation=g), features)


def test_hires_and_copies_pair_up_batches_split_by_seed():
    records = [record("1.png", (512, 512), seed=1), record("1-hires.png", (1024, 1024), seed=1, derivation="hires", denoise=0.4),
               record("2.png", (512, 512), seed=2), record("other.png", (512, 512), seed=1, prompt="a dog")]
    links = link_generations(records)
    assert links.same_generation == [(Path("/lib/1-hires.png"), Path("/lib/1.png"))]
    (batch,) = links.batches
    assert {m.record.file.path.name: m.index for m in batch.members} == {"1-hires.png": 1, "1.png": 1, "2.png": 2}
    assert batch.consecutive_seeds and batch.generations == 2


def test_comfyui_batch_with_one_seed_is_a_batch_and_never_paired():
    records = [record(f"c{n}.png", (512, 512), generator="ComfyUI", seed=7) for n in range(3)]
    records.append(record("c-hires.png", (1024, 1024), generator="ComfyUI", seed=7))
    links = link_generations(records)
    assert links.same_generation == []  # three pictures at 512: which one the hires pass belongs to is for the pixels
    assert links.batches[0].generations == 3


def test_img2img_parent_found_by_name_even_if_it_is_a_photo():
    photo = ImageRecord(ImageFile(Path("/lib/in/portrait.png"), Path("/lib"), "png", 1, 0), Metadata(),
                        record("x", (1, 1)).features)
    child = record("out.png", (512, 512), seed=3, derivation="img2img", denoise=0.5, parent="portrait.png [input]")
    assert link_generations([photo, child]).parents == {Path("/lib/out.png"): Path("/lib/in/portrait.png")}


@settings(max_examples=50, deadline=None)
@given(st.permutations(list(range(6))))
def test_batch_ids_and_pairs_do_not_depend_on_file_order(order):
    records = [record(f"{s}-{k}.png", (512 * (k + 1), 512 * (k + 1)), seed=s) for s in (10, 11, 12) for k in (0, 1)]
    shuffled = [records[i] for i in order]
    a, b = link_generations(records), link_generations(shuffled)
    assert [x.id for x in a.batches] == [x.id for x in b.batches]
    assert sorted(map(sorted, a.same_generation)) == sorted(map(sorted, b.same_generation))
