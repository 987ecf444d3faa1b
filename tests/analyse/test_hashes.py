import imagehash
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy.fftpack import dct

from tests.conftest import FIXTURES
from xmpcull.analyse.decode import decode_rendered
from xmpcull.analyse.hashes import DIHEDRAL, WINDOWS, compute_hashes, dihedral_phashes, hamming, phash_of_array

PIL_ORDER = [
    None,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_180,
    Image.Transpose.ROTATE_270,
    Image.Transpose.FLIP_LEFT_RIGHT,
    Image.Transpose.FLIP_TOP_BOTTOM,
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
]


@pytest.mark.parametrize("name", ["photos/mongolels.jpg", "photos/astronaut.png", "camera/Sumo_Museum.jpg"])
def test_phash_and_dhash_follow_the_imagehash_definition(name: str) -> None:
    image = decode_rendered(FIXTURES / name).image
    hashes = compute_hashes(image)
    # Same definitions; ours box-reduces before the Lanczos filter (6x faster), which moves
    # a bit or a few, far below the thresholds (pHash 10, dHash 12) and the same for every image.
    assert hamming(hashes.phash, int(str(imagehash.phash(image)), 16)) <= 2
    assert hamming(hashes.dhash, int(str(imagehash.dhash(image)), 16)) <= 6


@pytest.mark.parametrize("index", range(8))
def test_each_variant_is_the_hash_of_the_transposed_picture(index: int) -> None:
    image = decode_rendered(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg").image
    turned = image if PIL_ORDER[index] is None else image.transpose(PIL_ORDER[index])
    # Resizing then transposing equals transposing then resizing, up to float rounding.
    assert hamming(compute_hashes(image).phash_variants[index], compute_hashes(turned).phash) <= 2


@pytest.mark.parametrize("window", range(len(WINDOWS)))
def test_a_cropped_copy_hashes_like_the_matching_window_of_its_original(window: int) -> None:
    image = decode_rendered(FIXTURES / "photos/mongolels.jpg").image
    left, top, right, bottom = WINDOWS[window]
    w, h = image.size
    cropped = image.crop((round(w * left), round(h * top), round(w * (1 - right)), round(h * (1 - bottom))))
    original, copy = compute_hashes(image), compute_hashes(cropped)
    assert hamming(copy.phash, original.window_phashes[window]) <= 6
    assert hamming(copy.phash, original.phash) > hamming(copy.phash, original.window_phashes[window])


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 255), st.booleans())
def test_variants_from_one_dct_equal_the_hash_of_each_turned_array(seed: int, contrast: int, smooth: bool) -> None:
    rng = np.random.default_rng(seed)
    grey32 = rng.integers(0, contrast + 1, (32, 32)).astype(np.float64)
    if smooth:  # picture-like: mostly low frequencies
        grey32 = np.cumsum(np.cumsum(grey32 - contrast / 2, axis=0), axis=1)
    # The shortcut (sign flips and a transpose of one DCT) must give exactly the hash
    # a DCT of each turned array gives, bit for bit. The only exception is a coefficient
    # that equals the median in exact arithmetic (near-flat pictures): there float
    # rounding decides the bit either way, so such ties are left out.
    for turn in DIHEDRAL:
        low = dct(dct(np.ascontiguousarray(turn(grey32)), axis=0), axis=1)[:8, :8]
        assume(np.abs(low - np.median(low)).min() > 1e-6 * (np.abs(low).max() + 1))
    expected = tuple(phash_of_array(np.ascontiguousarray(turn(grey32))) for turn in DIHEDRAL)
    assert dihedral_phashes(grey32) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 255))
def test_the_median_split_is_bit_for_bit_numpys(seed: int, levels: int) -> None:
    # Cached hashes were made with np.median; the faster split must give the same bits,
    # ties included (few grey levels make many coefficients equal).
    # Split in one batch of 13 (as compute_hashes does), each row against its own median.
    from xmpcull.analyse.hashes import _bits_to_int, _phashes_of_lows

    rng = np.random.default_rng(seed)
    lows = np.round(rng.normal(size=(13, 8, 8)) * levels) / levels
    assert _phashes_of_lows(lows) == tuple(_bits_to_int(low > np.median(low)) for low in lows)
    assert _bits_to_int(lows[0] > 0) == int("".join("1" if v > 0 else "0" for v in lows[0].ravel()), 2)
