"""Perceptual hashes of a decoded image (pure: PIL image in, integers out).

pHash (DCT of a 32x32 grey image, 64 bits; the same definition as the
``imagehash`` package) is the primary fingerprint; dHash (horizontal
gradients, 64 bits) is a second, independent opinion used to verify
near-duplicate candidates. The pHash of all 8 dihedral transforms (rotations
and mirrors) is kept so rotation/flip-invariant matching needs no re-decode.

Crops: pHash does not survive trimming 5 % off a side (the DCT grid moves).
So the pHash of a few sub-windows of the picture is kept too (``WINDOWS``:
the four corner-anchored 95 % windows and the central 90 %): a cropped copy's
full hash lands near one window hash of its original. That only proposes a
candidate; the duplicate stage confirms it on pixels (``group.geometry``).

Speed matters here (it runs once per image): the grey image is shrunk once to
32x32 and its DCT is taken once; the 8 variants come from that DCT by sign
flips and a transpose (mirroring a signal negates its odd DCT coefficients),
not from 8 resizes or 8 DCTs. The windows are resampled from one 128 px grey
copy, not from the 512 px image. The 13 median splits run as one batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

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
# Sub-windows as fractions trimmed off (left, top, right, bottom), chosen by measuring
# random crops of up to 10 % per side (bench/RESULTS.md, Duplicates).
WINDOWS: tuple[tuple[float, float, float, float], ...] = (
    (0.05, 0.05, 0.0, 0.0),
    (0.0, 0.05, 0.05, 0.0),
    (0.05, 0.0, 0.0, 0.05),
    (0.0, 0.0, 0.05, 0.05),
    (0.05, 0.05, 0.05, 0.05),
)
_WINDOW_SOURCE_SIDE = 128  # long side of the grey copy the windows are cut from


@dataclass(frozen=True)
class ImageHashes:
    phash: int
    dhash: int
    phash_variants: tuple[int, ...]
    window_phashes: tuple[int, ...] = ()  # pHash of each of WINDOWS


def _bits_to_int(bits: np.ndarray) -> int:
    # Row-major, first bit most significant: the same order as imagehash's hex strings.
    return int.from_bytes(np.packbits(bits.reshape(-1)).tobytes(), "big")


# cv2.dct is orthonormal; imagehash uses scipy's unnormalised DCT-II, whose first row and
# column weigh sqrt(2) more relative to the rest. Undo that so the bits are the same (a
# common scale does not move a median split). cv2 rather than scipy.fftpack: importing
# scipy.fft cost 0.15 s on every start of the command line.
_SCIPY_WEIGHTS = np.ones((HASH_SIZE, HASH_SIZE))
_SCIPY_WEIGHTS[0, :] *= np.sqrt(2.0)
_SCIPY_WEIGHTS[:, 0] *= np.sqrt(2.0)


def _low_dct(grey32: np.ndarray) -> np.ndarray:
    return cv2.dct(np.ascontiguousarray(grey32, dtype=np.float64))[:HASH_SIZE, :HASH_SIZE] * _SCIPY_WEIGHTS


_MIDDLE = HASH_SIZE * HASH_SIZE // 2


def _phashes_of_lows(lows: np.ndarray) -> tuple[int, ...]:
    """pHash of each 8x8 block of low DCT coefficients in ``lows`` (k, 8, 8), all in one go.

    The median exactly as np.median computes it (the mean of the two middle values), from
    one sort: np.median's generic path cost ten times more. All 13 of an image at once:
    one sort, one comparison and one bit packing instead of 13 of each.
    """
    flat = lows.reshape(len(lows), HASH_SIZE * HASH_SIZE)
    ordered = np.sort(flat, axis=1)
    bits = flat > ((ordered[:, _MIDDLE - 1] + ordered[:, _MIDDLE]) / 2)[:, None]
    return tuple(int.from_bytes(row.tobytes(), "big") for row in np.packbits(bits, axis=1))


def phash_of_array(grey32: np.ndarray) -> int:
    return _phashes_of_lows(_low_dct(grey32)[None])[0]


# (transpose?, negate odd rows?, negate odd columns?) for each DIHEDRAL transform,
# applied to the identity's DCT: a flip along an axis negates that axis's odd
# coefficients, and transposing the pixels transposes the coefficients.
_DIHEDRAL_ON_DCT = (
    (False, False, False),
    (True, True, False),  # rot90 = transpose, then flip rows
    (False, True, True),
    (True, False, True),  # rot270 = transpose, then flip columns
    (False, False, True),
    (False, True, False),
    (True, False, False),
    (True, True, True),
)
_ODD = (-1.0) ** np.arange(HASH_SIZE)


def _dihedral_lows(low: np.ndarray) -> np.ndarray:
    """The low DCT coefficients of each of the 8 ``DIHEDRAL`` transforms, from the identity's."""
    variants = np.empty((len(_DIHEDRAL_ON_DCT), HASH_SIZE, HASH_SIZE))
    for k, (transpose, odd_rows, odd_columns) in enumerate(_DIHEDRAL_ON_DCT):
        variant = low.T if transpose else low
        if odd_rows:
            variant = variant * _ODD[:, None]
        if odd_columns:
            variant = variant * _ODD[None, :]
        variants[k] = variant
    return variants


def dihedral_phashes(grey32: np.ndarray) -> tuple[int, ...]:
    """pHash of each of the 8 ``DIHEDRAL`` transforms of ``grey32``, from one DCT."""
    return _phashes_of_lows(_dihedral_lows(_low_dct(grey32)))


def dhash_of(grey: Image.Image) -> int:
    pixels = np.asarray(grey.resize((HASH_SIZE + 1, HASH_SIZE), Image.Resampling.LANCZOS), dtype=np.float64)
    return _bits_to_int(pixels[:, 1:] > pixels[:, :-1])


def _hash_source(grey: Image.Image) -> Image.Image:
    """The grey picture every hash is cut from: box-reduced once to WINDOW_SOURCE_SIDE (cheap, no aliasing)."""
    scale = _WINDOW_SOURCE_SIDE / max(grey.size)
    if scale >= 1:
        return grey
    return grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))), Image.Resampling.BOX)


def _window_lows(small: Image.Image) -> np.ndarray:
    """The low DCT coefficients of each of ``WINDOWS`` of the hash source picture."""
    w, h = small.size
    lows = np.empty((len(WINDOWS), HASH_SIZE, HASH_SIZE))
    for k, (left, top, right, bottom) in enumerate(WINDOWS):
        box = (w * left, h * top, w * (1 - right), h * (1 - bottom))
        lows[k] = _low_dct(np.asarray(small.resize((_PHASH_SIDE, _PHASH_SIDE), Image.Resampling.LANCZOS, box=box)))
    return lows


def window_phashes(small: Image.Image) -> tuple[int, ...]:
    """pHashes of ``WINDOWS`` of the hash source picture (crop candidates; the pixel check confirms)."""
    return _phashes_of_lows(_window_lows(small))


def is_informative(phash: int, dhash: int) -> bool:
    """False for hashes of a flat or featureless picture, which match each other whatever the picture.

    A median split gives exactly 32 ones unless DCT coefficients tie, which only
    happens on flat images (a uniform image sets the DC bit alone); a flat
    image has no increasing gradient either, so its dHash is (nearly) 0.
    """
    return abs(phash.bit_count() - 32) <= 4 and dhash.bit_count() >= 4


def compute_hashes(image: Image.Image) -> ImageHashes:
    """Hashes of ``image`` as displayed (orientation already applied).

    Full-picture and window hashes come from one box-reduced grey copy, so a
    cropped copy's full hash and its original's window hash are computed alike.
    """
    small = _hash_source(image if image.mode == "L" else image.convert("L"))
    low = _low_dct(np.asarray(small.resize((_PHASH_SIDE, _PHASH_SIDE), Image.Resampling.LANCZOS)))
    # The 8 variants and the 5 windows split in one batch (_phashes_of_lows).
    phashes = _phashes_of_lows(np.concatenate([_dihedral_lows(low), _window_lows(small)]))
    variants = phashes[: len(_DIHEDRAL_ON_DCT)]
    return ImageHashes(variants[0], dhash_of(small), variants, phashes[len(_DIHEDRAL_ON_DCT) :])


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
