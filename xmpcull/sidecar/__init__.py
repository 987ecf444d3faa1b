"""XMP sidecar engine: the one module that writes what xmpcull learns into XMP.

Merge-preserving (foreign properties survive), atomic, idempotent; see README.md
in this folder for the fields we own, the naming rules and merge precedence.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. They are imported on first use (PEP 562), so that
# ``xmpcull.sidecar.fields``, which the settings need, does not load the XMP toolkit
# (lxml, Exempi) for commands that write no sidecar.
_HOMES = {
    "exiftool_config_path": "config",
    **dict.fromkeys(("SidecarItem", "read_sidecar", "write_each", "write_sidecar", "write_sidecars"), "engine"),
    **dict.fromkeys(
        (
            "CLEAR", "NO_CROP", "BurstFields", "Clear", "CropFields", "CropProposal", "DecisionFields", "DupeFields",
            "FaceRegion", "FaceRegionFields", "GenerationFields", "QualityFields", "ReviewFields", "SidecarState",
            "SidecarUpdate", "SimilarFields", "WriteOptions", "WriteResult",
        ),
        "fields",
    ),
    "sidecar_path_for": "naming",
    "NS_XMPCULL": "packet",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # found once, then an ordinary attribute
    return value


if TYPE_CHECKING:
    from xmpcull.sidecar.config import exiftool_config_path
    from xmpcull.sidecar.engine import SidecarItem, read_sidecar, write_each, write_sidecar, write_sidecars
    from xmpcull.sidecar.fields import (
        CLEAR,
        NO_CROP,
        BurstFields,
        Clear,
        CropFields,
        CropProposal,
        DecisionFields,
        DupeFields,
        FaceRegion,
        FaceRegionFields,
        GenerationFields,
        QualityFields,
        ReviewFields,
        SidecarState,
        SidecarUpdate,
        SimilarFields,
        WriteOptions,
        WriteResult,
    )
    from xmpcull.sidecar.naming import sidecar_path_for
    from xmpcull.sidecar.packet import NS_XMPCULL

__all__ = [
    "CLEAR",
    "NO_CROP",
    "NS_XMPCULL",
    "BurstFields",
    "Clear",
    "CropFields",
    "CropProposal",
    "DecisionFields",
    "DupeFields",
    "FaceRegion",
    "FaceRegionFields",
    "GenerationFields",
    "QualityFields",
    "ReviewFields",
    "SidecarItem",
    "SidecarState",
    "SidecarUpdate",
    "SimilarFields",
    "WriteOptions",
    "WriteResult",
    "exiftool_config_path",
    "read_sidecar",
    "sidecar_path_for",
    "write_each",
    "write_sidecar",
    "write_sidecars",
]
