"""Which picture a file holds, whatever metadata it carries.

Why: xmpcull itself writes metadata into files (``--embed``), and so do other
apps (a keyword, a rating). The content digest changes with every such write;
the decoded pixels do not. Exact-copy detection and group IDs use this identity
so that a run never changes its own groups.
"""

from __future__ import annotations

from xmpcull.models import ImageRecord


def identity_digest(record: ImageRecord) -> str:
    """The picture's digest: of its pixels, which bytes written into the file's metadata leave alone."""
    f = record.features
    assert f is not None
    return f.pixel_digest or f.digest  # a hand-made record without a pixel digest: its bytes


def picture_identity(record: ImageRecord) -> tuple[object, ...]:
    """Files with equal identity are exact copies: same pixels, size, format and JPEG encoding,
    and the same camera and capture time (two exposures are never copies of each other,
    see group.dupes.different_shots, however alike their pixels)."""
    f = record.features
    assert f is not None
    if not f.pixel_digest:
        return (record.file.size, f.digest)
    capture = record.metadata.capture_time
    shot = (record.metadata.camera_body, capture.isoformat() if capture else None)
    return (f.pixel_digest, f.width, f.height, record.file.format, f.jpeg_quality, f.chroma_subsampling, shot)
