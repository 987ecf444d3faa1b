"""XMP sidecar engine: the one module that writes what xmpcull learns into XMP.

Merge-preserving (foreign properties survive), atomic, idempotent; see README.md
in this folder for the fields we own, the naming rules and merge precedence.
"""

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
