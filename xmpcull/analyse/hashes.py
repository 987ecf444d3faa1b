"""Perceptual hashes of a decoded image (pure: PIL image in, integers out).

pHash (DCT of a 32x32 grey image, 64 bits; the same definition as the
``imagehash`` package) is the primary fingerprint; dHash (horizontal
gradients, 64 bits) is a second, independent opinion used to verify
near-duplicate candidates. The pHash of all 8 dihedral transforms (rotations
and mirrors) is kept so rotation/flip-invariant matching needs no re-decode.

Speed matters here (it runs once per image): the grey image is shrunk once to
32x32 and the 8 variants are array transposes of that, not 8 resizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.fftpack import dct

HASH_SIZE = 8
_PHASH_SIDE = 32  # imagehash's hash_size * highfreq_factor

# Array transforms equivalent to these PIL transposes, in the order of
# ``phash_variants``: identity, ROTATE_90, ROTATE_180, ROTATE_270,
# FLIP_LEFT_RIGHT, FLIP_TOP_BOTTOM, TRANSPOSE, TRANSVERSE. Index 0 is identity.
DIHEDRAL: tuple[Callable[[np.ndarray], np.ndarray], ...] = (
    lambda a: a,
    lambda a: np.rot90(a, 1),  # PIL ROTATE_90 turns counter-clockwise, like np.rot90
    lambda a: np.rot90(a, 2),
    lambda a: np.rot90(a, 3),
    lambda a: a[:, ::-1],
    lambda a: a[::-1, :],
    lambda a: a.T,
    lambda a: np.rot90(a, 2).T,
)
_BIT_WEIGHTS = 1 << np.arange(HASH_SIZE * HASH_SIZE - 1, -1, -1, dtype=np.uint64)


@dataclass(frozen=True)
class ImageHashes:
    phash: int
    dhash: int
    phash_variants: tuple[int, ...]


def _bits_to_int(bits: np.ndarray) -> int:
    # Row-major, first bit most significant: the same order as imagehash's hex strings.
    return int((bits.reshape(-1).astype(np.uint64) * _BIT_WEIGHTS).sum())


def phash_of_array(grey32: np.ndarray) -> int:
    coefficients = dct(dct(grey32, axis=0), axis=1)
    low = coefficients[:HASH_SIZE, :HASH_SIZE]
    return _bits_to_int(low > np.median(low))


def dhash_of(grey: Image.Image) -> int:
    pixels = np.asarray(grey.resize((HASH_SIZE + 1, HASH_SIZE), Image.Resampling.LANCZOS), dtype=np.float64)
    return _bits_to_int(pixels[:, 1:] > pixels[:, :-1])


def compute_hashes(image: Image.Image) -> ImageHashes:
    """Hashes of ``image`` as displayed (orientation already applied)."""
    grey = image.convert("L")
    grey32 = np.asarray(grey.resize((_PHASH_SIDE, _PHASH_SIDE), Image.Resampling.LANCZOS), dtype=np.float64)
    variants = tuple(phash_of_array(np.ascontiguousarray(t(grey32))) for t in DIHEDRAL)
    return ImageHashes(phash=variants[0], dhash=dhash_of(grey), phash_variants=variants)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
