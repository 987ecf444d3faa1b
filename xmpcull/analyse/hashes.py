"""Perceptual hashes of a decoded image (pure: PIL image in, integers out).

pHash (DCT of a 32x32 grey image, 64 bits) is the primary fingerprint; dHash
(horizontal gradients, 64 bits) is a second, independent opinion used to
verify near-duplicate candidates. The pHash of all 8 dihedral transforms
(rotations and mirrors) is kept so rotation/flip-invariant matching needs no
re-decode.
"""

from __future__ import annotations

from dataclasses import dataclass

import imagehash
from PIL import Image

# Image.Transpose members in the order of ``phash_variants``; index 0 is identity.
DIHEDRAL = (
    None,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_180,
    Image.Transpose.ROTATE_270,
    Image.Transpose.FLIP_LEFT_RIGHT,
    Image.Transpose.FLIP_TOP_BOTTOM,
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
)


@dataclass(frozen=True)
class ImageHashes:
    phash: int
    dhash: int
    phash_variants: tuple[int, ...]


def _to_int(h: imagehash.ImageHash) -> int:
    return int(str(h), 16)


def compute_hashes(image: Image.Image) -> ImageHashes:
    """Hashes of ``image`` as displayed (orientation already applied)."""
    # Reduce once to a small grey square; every hash below shrinks further anyway,
    # and transposing 64x64 is cheaper than transposing the decoded image 8 times.
    grey = image.convert("L").resize((64, 64), Image.Resampling.LANCZOS)
    variants = tuple(
        _to_int(imagehash.phash(grey if t is None else grey.transpose(t))) for t in DIHEDRAL
    )
    return ImageHashes(phash=variants[0], dhash=_to_int(imagehash.dhash(image.convert("L"))), phash_variants=variants)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
