"""Reading photos and scans of digits or clothes and preparing them like MNIST / Fashion-MNIST.

A network trained on MNIST has only ever seen white ink on black, fitted in a 20×20 box and
centred by centre of mass in a 28×28 field; one trained on Fashion-MNIST has seen light
articles on black, trimmed and scaled so the longest edge fills the 28×28 field. A photo of a
digit written in black on white paper must be brought to the same form before the network sees
it, or the predictions are no better than chance. This module does that::

    >>> from bprop import images
    >>> x = images.preprocess("three.png")                  # (784,), like one row of MNIST
    >>> x = images.preprocess("shoe.jpg", "fashion-mnist")  # like one row of Fashion-MNIST

Steps (:func:`to_mnist`, after LeCun, Cortes and Burges, *The MNIST database*; a photo of a
digit on unevenly lit or noisy paper has steps 2–3 done by :mod:`bprop.photos` instead, which
divides out the paper's light and keeps only the digit's ink):

1. greyscale, 1 = white (:func:`load_image`);
2. invert when the background is light, judged by the median of the border pixels, and scale
   so the background is 0 and full contrast is 1;
3. drop faint noise (≤ :data:`NOISE_FRACTION` of the strongest ink) and crop to the bounding
   box of the ink;
4. scale, anti-aliased (area averaging), so the longer side is 20 pixels, keeping the aspect
   ratio;
5. place in a 28×28 field so the centre of mass of the intensities falls on pixel (14, 14)
   (an integer shift, like the original; clipped so nothing falls off);
6. scale so the maximum is 1.

:func:`to_fashion_mnist` follows Zalando's recipe instead: trim, scale so the longest edge is 28,
centre the bounding box (the spare pixel of an odd margin goes to the top / left, as in the data
set), dark background. Zalando also sharpened the product photos; that step is left out, since a
photo of an article is no sharper than the originals were.

Only NumPy is imported with the module; Pillow (``pip install "bprop[cli]"``) is imported by
:func:`load_image` when an image file is read.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from bprop._untrusted import open_regular

__all__ = [
    "FASHION_SIZE",
    "FIELD",
    "MAX_PIXELS",
    "MIN_CONTRAST",
    "MNIST_BOX",
    "NOISE_FRACTION",
    "STYLES",
    "BlankImageError",
    "load_image",
    "preprocess",
    "to_fashion_mnist",
    "to_mnist",
]

#: The preprocessing styles :func:`preprocess` knows.
STYLES: tuple[str, ...] = ("mnist", "fashion-mnist")

#: Side of the square field of both data sets, in pixels (28×28 = 784 inputs).
FIELD = 28
#: MNIST digits are scaled so their longer side is this many pixels.
MNIST_BOX = 20
#: Fashion-MNIST articles are scaled so their longest edge is this many pixels.
FASHION_SIZE = 28
#: Pixels no stronger than this fraction of the strongest ink are noise: set to 0 and left out
#: of the bounding box.
NOISE_FRACTION = 0.1
#: An image whose strongest ink differs from the background by less than this (on the 0–1
#: scale, after normalising) is blank.
MIN_CONTRAST = 0.1
#: Images with more pixels than this are refused before they are decoded (50 megapixels; a
#: phone photo has 12–48).
MAX_PIXELS = 50_000_000
MAX_FILE_BYTES = 100 * 2**20

_PILLOW_HINT = 'reading images needs Pillow: pip install "bprop[cli]"'


class BlankImageError(ValueError):
    """The image holds no ink: every pixel is (close to) the background."""


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as greyscale, 1 = white.

    Any image Pillow can read is accepted (PNG and JPEG above all). Colour is turned to grey
    with ITU-R 601 luma (Pillow's ``"L"`` conversion), transparent pixels are composited on
    white, palette images are expanded, 16-bit images keep their precision, and the EXIF
    orientation of photos is applied. Only the first frame of an animation is read.

    Parameters
    ----------
    path : str or path-like
        The image file.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(h, w)``, values in [0, 1]: 0 is black, 1 is white.

    Raises
    ------
    ImportError
        Pillow is not installed (``pip install "bprop[cli]"``).
    FileNotFoundError
        There is no file at ``path``.
    IsADirectoryError
        ``path`` is a folder.
    ValueError
        The file is not an image Pillow can read, or is truncated, or has more than
        :data:`MAX_PIXELS` pixels (or trips Pillow's decompression-bomb guard).
    """
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError as exc:
        raise ImportError(_PILLOW_HINT) from exc

    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{p} is a folder, not an image file")
    if not p.exists():
        # One-argument form: str(error) is the message alone, as the CLI prints it.
        raise FileNotFoundError(f"image file not found: {p}")

    # Outside the try: a PermissionError is not a format error. A FIFO or device is refused
    # before a byte is read (reading one would wait for ever, or never end).
    with open_regular(p, what="image file") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{p} is over {MAX_FILE_BYTES >> 20} MB: too large for an image to read")
    # Pillow reads a chunk of whatever length the file declares; from memory such a read is
    # bounded by the file's real size (a file object would allocate the declared length first).
    with io.BytesIO(data) as fp:
        try:
            with warnings.catch_warnings():
                # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(fp) as im:
                    w, h = im.size
                    if w * h > MAX_PIXELS:
                        raise _TooLargeError(
                            f"{p} is {w}×{h} pixels ({w * h / 1e6:.1f} megapixels); images "
                            f"over {MAX_PIXELS / 1e6:.0f} megapixels are refused"
                        )
                    im.load()
                    im = _upright(im, ImageOps)
                    gray = _to_gray(im)
        except (_TooLargeError, _NonFiniteError) as exc:
            raise ValueError(str(exc).replace("{path}", str(p))) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ValueError(
                f"{p} is too large to read safely (Pillow's decompression-bomb guard): {exc}"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
            # Pillow reports unknown formats as UnidentifiedImageError (an OSError), truncated
            # data as OSError, and some corrupt headers as SyntaxError or ValueError.
            detail = "unknown file format" if isinstance(exc, UnidentifiedImageError) else exc
            raise ValueError(f"{p} is not a PNG/JPEG image Pillow can read: {detail}") from None
    if gray.size == 0:
        raise ValueError(f"{p} is not a PNG/JPEG image Pillow can read: it has no pixels")
    return gray


def to_mnist(gray: Any, photo: bool | None = None) -> np.ndarray:
    """Prepare a greyscale image the way MNIST's digits were made.

    Parameters
    ----------
    gray : array_like, shape ``(h, w)``
        Greyscale image with values in [0, 1], 1 = white (as :func:`load_image` returns). Dark
        ink on light paper and light ink on a dark background are both accepted.
    photo : bool, optional
        Take the paper's uneven light and noise out first and keep only the digit's ink
        (:func:`bprop.photos.digit_ink`); None (the default) does so when the image looks like
        a photo (:func:`bprop.photos.uneven`), not for a clean scan or drawing.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(784,)``: the 28×28 field row by row, ink high, background 0,
        maximum 1. The ink's longer side is 20 pixels and its centre of mass (of the
        intensities, in pixel-index coordinates) is within half a pixel of (14, 14) unless the
        shift had to be clipped to keep the ink inside the field.

    Raises
    ------
    ValueError
        ``gray`` is not a 2-D array of finite values in [0, 1].
    BlankImageError
        No ink was found (a ValueError).
    """
    from bprop import photos

    g = _check_gray(gray)
    ink = photos.photo_ink(g, photo)  # None: not a photo, or photo=False
    box = _resize_longest(_trimmed_ink(g) if ink is None else _cropped(ink), MNIST_BOX)
    box /= box.max()
    h, w = box.shape
    total = box.sum()
    cy = (box.sum(axis=1) @ np.arange(h)) / total
    cx = (box.sum(axis=0) @ np.arange(w)) / total
    centre = FIELD // 2
    top = min(max(int(np.floor(centre - cy + 0.5)), 0), FIELD - h)
    left = min(max(int(np.floor(centre - cx + 0.5)), 0), FIELD - w)
    field = np.zeros((FIELD, FIELD))
    field[top : top + h, left : left + w] = box
    return field.ravel()


def to_fashion_mnist(gray: Any) -> np.ndarray:
    """Prepare a greyscale image the way Fashion-MNIST's articles were made.

    Parameters
    ----------
    gray : array_like, shape ``(h, w)``
        Greyscale image with values in [0, 1], 1 = white; a light background (a product photo)
        or a dark one.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(784,)``: the 28×28 field row by row, article light, background 0,
        maximum 1. The longest edge of the article spans the field; the shorter is centred by
        its bounding box.

    Raises
    ------
    ValueError
        ``gray`` is not a 2-D array of finite values in [0, 1].
    BlankImageError
        No article was found (a ValueError).
    """
    box = _resize_longest(_trimmed_ink(_check_gray(gray)), FASHION_SIZE)
    box /= box.max()
    h, w = box.shape
    top, left = (FIELD - h + 1) // 2, (FIELD - w + 1) // 2
    field = np.zeros((FIELD, FIELD))
    field[top : top + h, left : left + w] = box
    return field.ravel()


def preprocess(path: str | os.PathLike[str], style: str = "mnist") -> np.ndarray:
    """Read an image file and prepare it as one input row for a network.

    Parameters
    ----------
    path : str or path-like
        A PNG or JPEG (any image Pillow reads).
    style : {"mnist", "fashion-mnist"}
        :func:`to_mnist` (digits) or :func:`to_fashion_mnist` (clothes).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(784,)``, values in [0, 1]; stack several with ``numpy.stack`` for
        ``Network.feedforward`` / ``Network.predict``.

    Raises
    ------
    ValueError
        Unknown ``style``; and the errors of :func:`load_image`. :class:`BlankImageError` (a
        ValueError) names the file when it holds no ink.
    FileNotFoundError, ImportError
        As for :func:`load_image`.
    """
    key = style.replace("_", "-").lower() if isinstance(style, str) else style
    if key not in STYLES:
        from bprop.errors import unknown_name

        raise unknown_name("preprocessing style", str(style), STYLES)
    gray = load_image(path)
    try:
        return to_mnist(gray) if key == "mnist" else to_fashion_mnist(gray)
    except BlankImageError:
        raise BlankImageError(f"no ink found in {path}: is it blank?") from None


# -- internals --------------------------------------------------------------------------------


class _TooLargeError(Exception):
    """Raised inside :func:`load_image`'s try block; turned into a ValueError outside it."""


class _NonFiniteError(Exception):
    """A float image's NaN or infinite pixels; a ValueError outside :func:`load_image`."""


def _upright(im: Any, ImageOps: Any) -> Any:
    """Apply a photo's EXIF orientation; a broken EXIF block is ignored, not fatal."""
    try:
        return ImageOps.exif_transpose(im) or im
    except Exception:  # EXIF is optional metadata; the pixels are what matter
        return im


def _to_gray(im: Any) -> np.ndarray:
    """Pillow image → float64 ``(h, w)`` in [0, 1], 1 = white, alpha composited on white."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        # 16-bit greyscale (PNG opens as I;16); 32-bit integer images are taken as 16-bit too.
        return np.clip(np.asarray(im, dtype=np.float64) / 65535.0, 0.0, 1.0)
    if mode == "F":
        a = np.asarray(im, dtype=np.float64)
        bad = int(np.count_nonzero(~np.isfinite(a)))
        if bad:  # one inf would rescale every other pixel to 0; NaN has no shade at all
            raise _NonFiniteError(
                f"{{path}} holds {bad} NaN or infinite pixel value{'s' if bad > 1 else ''} (of "
                f"{a.size}): a float image must hold finite shades"
            )
        top = float(a.max()) if a.size else 1.0
        scale = 1.0 if top <= 1.0 else 255.0 if top <= 255.0 else 65535.0
        return np.clip(np.nan_to_num(a / scale), 0.0, 1.0)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    if has_alpha:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float64) / 255.0
        luma = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
        alpha = rgba[..., 3]
        return np.clip(luma * alpha + (1.0 - alpha), 0.0, 1.0)
    if mode != "L":
        try:
            im = im.convert("L")
        except ValueError:  # modes without a direct conversion (LAB, HSV, ...)
            im = im.convert("RGB").convert("L")
    return np.asarray(im, dtype=np.float64) / 255.0


def _check_gray(gray: Any) -> np.ndarray:
    g = np.asarray(gray, dtype=np.float64)
    if g.ndim != 2 or g.size == 0:
        raise ValueError(f"expected a greyscale image of shape (h, w), got shape {g.shape}")
    if not np.isfinite(g).all():
        raise ValueError("the image holds NaN or infinite values")
    lo, hi = float(g.min()), float(g.max())
    if lo < -1e-9 or hi > 1 + 1e-9:
        raise ValueError(
            f"greyscale values must lie in [0, 1] (1 = white), got {lo:g} … {hi:g}; "
            "divide 8-bit images by 255"
        )
    return np.clip(g, 0.0, 1.0)


def _ink(g: np.ndarray) -> np.ndarray:
    """Ink intensity: background 0, full contrast 1, inverted when the background is light.

    The background is the median of the border pixels (robust to ink touching the edge and to
    large dark strokes, which would pull a whole-image mean the wrong way).
    """
    border = np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])
    bg = float(np.median(border))
    ink = (bg - g) / bg if bg >= 0.5 else (g - bg) / (1.0 - bg)
    return np.clip(ink, 0.0, 1.0)


def _trimmed_ink(g: np.ndarray) -> np.ndarray:
    """Ink of ``g`` (checked by :func:`_check_gray`) with faint noise removed, cropped to the
    bounding box of the ink."""
    ink = _ink(g)
    peak = float(ink.max())
    if peak >= MIN_CONTRAST:
        ink[ink <= NOISE_FRACTION * peak] = 0.0
    return _cropped(ink)


def _cropped(ink: np.ndarray) -> np.ndarray:
    """``ink`` cropped to the bounding box of its non-zero pixels; BlankImageError when its
    strongest ink is below MIN_CONTRAST."""
    if float(ink.max()) < MIN_CONTRAST:
        raise BlankImageError("no ink found in the image: is it blank?")
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _resize_longest(a: np.ndarray, size: int) -> np.ndarray:
    """Scale ``a`` so its longer side is ``size``, keeping the aspect ratio (≥ 1 pixel)."""
    h, w = a.shape
    scale = size / max(h, w)
    out_h = min(size, max(1, int(np.floor(h * scale + 0.5))))
    out_w = min(size, max(1, int(np.floor(w * scale + 0.5))))
    return _resample_matrix(h, out_h) @ a @ _resample_matrix(w, out_w).T


def _resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` weights resampling a line of ``n_in`` pixels to ``n_out``.

    Shrinking averages areas: output pixel i covers input [i·s, (i+1)·s), s = n_in / n_out, and
    each input pixel counts by its overlap with that interval (anti-aliasing, as MNIST's
    digits were made). Enlarging interpolates linearly between pixel centres. Rows sum to 1.
    """
    if n_out == n_in:
        return np.eye(n_in)
    if n_out < n_in:
        edges = np.arange(n_out + 1) * (n_in / n_out)
        j = np.arange(n_in)
        lo = np.maximum(edges[:-1, None], j[None, :])
        hi = np.minimum(edges[1:, None], j[None, :] + 1)
        weights = np.clip(hi - lo, 0.0, None)
    else:
        centres = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        weights = np.clip(1.0 - np.abs(np.arange(n_in)[None, :] - centres[:, None]), 0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)
