"""Client paths spelled as the workers see them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xmpcull.cluster import PathMap
from xmpcull.config import load_config
from xmpcull.errors import ConfigError
from xmpcull.models import ImageFile

names = st.text(alphabet="abcXYZ 09_-é", min_size=1, max_size=8)


def test_the_longest_prefix_wins_and_only_whole_folder_names_match() -> None:
    paths = PathMap.parse(["/Volumes/photos=/mnt/p", "/Volumes/photos/2024/=/fast/2024", "/Volumes/photos2=/other"])
    assert paths.to_worker(Path("/Volumes/photos/2023/a.jpg")) == Path("/mnt/p/2023/a.jpg")
    assert paths.to_worker(Path("/Volumes/photos/2024/b.jpg")) == Path("/fast/2024/b.jpg")
    assert paths.to_worker(Path("/Volumes/photos2/c.jpg")) == Path("/other/c.jpg")
    assert paths.to_worker(Path("/Volumes/photosX/d.jpg")) == Path("/Volumes/photosX/d.jpg")
    assert paths.to_worker(Path("/Volumes/photos")) == Path("/mnt/p")


@given(st.lists(names, min_size=1, max_size=4), st.lists(names, min_size=1, max_size=4))
def test_a_mapped_path_keeps_everything_below_the_prefix(below: list[str], worker: list[str]) -> None:
    mapping = PathMap.parse(["/share/photos=/" + "/".join(worker)])
    mapped = mapping.to_worker(Path("/share/photos", *below))
    assert mapped == Path("/", *worker, *below)


def test_an_image_is_mapped_with_its_companions_and_sidecars() -> None:
    image = ImageFile(
        Path("/a/x/IMG_1.CR2"), Path("/a"), "raw", 10, 1, companions=(Path("/a/x/IMG_1.JPG"),), sidecars=(Path("/a/x/IMG_1.xmp"),)
    )
    mapped = PathMap.parse(["/a=/b"]).image_to_worker(image)
    assert (mapped.path, mapped.root, mapped.companions, mapped.sidecars) == (
        Path("/b/x/IMG_1.CR2"),
        Path("/b"),
        (Path("/b/x/IMG_1.JPG"),),
        (Path("/b/x/IMG_1.xmp"),),
    )
    assert mapped.relpath == image.relpath


def test_the_config_names_a_malformed_entry(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[cluster]\naddress = "tcp://h:8786"\npath_map = ["/Volumes/photos"]\n')
    with pytest.raises(ConfigError, match="CLIENT_PREFIX=WORKER_PREFIX") as caught:
        load_config(config)
    assert str(config) in str(caught.value)
    config.write_text('[cluster]\naddress = "tcp://h:8786"\npath_map = ["/Volumes/photos = /mnt/p"]\n')
    with pytest.raises(ConfigError, match="no spaces around"):
        load_config(config)
    config.write_text('[cluster]\naddress = "tcp://h:8786"\npath_map = ["/Volumes/photos=/mnt/p"]\n')
    settings = load_config(config).cluster
    assert settings is not None and settings.address == "tcp://h:8786"
    assert settings.path_map.to_worker(Path("/Volumes/photos/a.jpg")) == Path("/mnt/p/a.jpg")
    assert load_config().cluster is None
