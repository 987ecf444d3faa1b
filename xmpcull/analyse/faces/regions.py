"""The faces found as MWG regions: from the displayed picture back to the stored frame (pure).

Faces are found on the decoded picture, turned upright by its EXIF orientation.
MWG regions describe the image as *stored* (MWG Guidelines 2.0, section 5.9:
"region metadata is applied to the stored image"; a viewer that applies the
orientation must turn the regions with it), with ``AppliedToDimensions`` the
stored pixel size. So each face box goes back through the decoder's orientation
with the same table as Camera Raw's crop edges (crop/geometry.py), then becomes
the MWG centre and size.
"""

from __future__ import annotations

from collections.abc import Sequence

from xmpcull.crop.geometry import display_fractions_to_crs
from xmpcull.models import Face
from xmpcull.sidecar.fields import FaceRegion, FaceRegionFields, round_real


def face_regions(
    faces: Sequence[Face], orientation: int, stored_size: tuple[int, int]
) -> FaceRegionFields | None:
    """MWG face regions of the stored frame for faces found on the picture the decoder turned by
    ``orientation``; None when there is no face to write."""
    regions = []
    for face in faces:
        edges = display_fractions_to_crs(*face.box, orientation)  # clamped to the frame
        w, h = round_real(edges.right - edges.left), round_real(edges.bottom - edges.top)
        if w <= 0 or h <= 0:
            continue  # a box wholly outside the frame
        regions.append(FaceRegion((edges.left + edges.right) / 2, (edges.top + edges.bottom) / 2, w, h))
    width, height = stored_size
    if not regions or width <= 0 or height <= 0:
        return None
    return FaceRegionFields(width, height, tuple(regions))
