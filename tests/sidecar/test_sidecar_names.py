"""The sidecar package's public names resolve (they are imported on first use)."""

import xmpcull.sidecar as sidecar


def test_every_public_name_has_a_home_and_resolves() -> None:
    assert sorted(sidecar._HOMES) == sorted(sidecar.__all__)
    for name in sidecar.__all__:
        assert getattr(sidecar, name) is not None, name
