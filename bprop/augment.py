"""Artificially expanded training data (Nielsen, chapter 3; Simard et al. 2003): each epoch
trains on freshly distorted copies of the training images.

Every transform works on a whole array of images ``(n, H, W)`` at once — NumPy indexing and
matrix products, in chunks of :data:`CHUNK` images to bound memory, never a Python loop over
images:

* :func:`shift` moves each image by whole pixels (exact moves, zeros shifted in);
* :func:`affine` rotates, scales and shears each image about its centre;
* :func:`elastic` displaces every pixel by a random field u (uniform in [−1, 1]) smoothed by
  a Gaussian of σ and scaled by α: the pixel at p takes the value at p + α (G_σ * u)(p);
* :func:`flip` mirrors images left to right (Fashion-MNIST; a mirrored digit is another
  character, so not for MNIST).

Resampling is bilinear, with zeros outside the image; a displacement of 0 is the identity.
:func:`augmenter` turns a spec such as ``"shift,elastic"`` into the ``augment(X, rng)``
callable :func:`bprop.train.sgd` takes (X one flattened image per row).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Array = np.ndarray
CHUNK = 8192
#: The transforms a spec may name, with their default parameters.
DEFAULTS: dict[str, tuple[float, ...]] = {
    "shift": (2,),  # at most this many pixels each way
    "affine": (10.0, 0.1, 0.1),  # rotation ±degrees, scale ±share, shear ±share
    # σ and α. Simard et al. 2003 used σ = 4, α = 34 ("elastic:4:34"): with this normalised
    # Gaussian that moves pixels by 1.3 px (s.d.) and bends strokes enough that a model trained
    # on such images still scores 6 points lower on distorted test digits than on clean ones
    # (a 1 turns into a "("); σ = 6 moves them by 0.9 px and keeps the label
    # (tests/test_augment.py::test_each_transform_keeps_the_labels).
    "elastic": (6.0, 34.0),
    "flip": (0.5,),  # share of images mirrored
}


def shift(images: Array, dy: Array, dx: Array) -> Array:
    """Each image ``images[i]`` moved down by ``dy[i]`` and right by ``dx[i]`` whole pixels."""
    n, h, w = images.shape
    s = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    padded = np.pad(images, ((0, 0), (s, s), (s, s)))
    rows = (np.arange(h)[None, :] - dy[:, None] + s)[:, :, None]  # out[r, c] = in[r − dy, c − dx]
    cols = (np.arange(w)[None, :] - dx[:, None] + s)[:, None, :]
    return padded[np.arange(n)[:, None, None], rows, cols]


def random_shift(images: Array, rng: np.random.Generator, most: float = 2) -> Array:
    """:func:`shift` by offsets drawn uniformly from −most … most pixels."""
    k = int(most)
    dy, dx = rng.integers(-k, k + 1, (2, len(images)))
    return shift(images, dy, dx)


def flip(images: Array, rng: np.random.Generator, share: float = 0.5) -> Array:
    """A random ``share`` of the images mirrored left to right."""
    out = images.copy()
    chosen = rng.random(len(images)) < share
    out[chosen] = images[chosen, :, ::-1]
    return out


def sample(images: Array, rows: Array, cols: Array) -> Array:
    """Bilinear resampling: ``out[i, r, c]`` is ``images[i]`` at ``(rows, cols)[i, r, c]``,
    zero outside the image; integer coordinates give the pixels exactly."""
    n, h, w = images.shape
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    rr = np.clip(rows + 1, 0, h + 1)
    cc = np.clip(cols + 1, 0, w + 1)
    r0 = np.minimum(np.floor(rr), h).astype(np.intp)
    c0 = np.minimum(np.floor(cc), w).astype(np.intp)
    fr, fc = rr - r0, cc - c0
    flat = padded.ravel()
    at = r0 * (w + 2) + c0  # flat indices of the top-left neighbours
    at += (np.arange(n) * ((h + 2) * (w + 2)))[:, None, None]
    top = flat.take(at) * (1 - fc) + flat.take(at + 1) * fc
    at += w + 2
    bottom = flat.take(at) * (1 - fc) + flat.take(at + 1) * fc
    return (top * (1 - fr) + bottom * fr).astype(images.dtype, copy=False)


def affine(
    images: Array,
    rng: np.random.Generator,
    degrees: float = 10,
    scale: float = 0.1,
    shear: float = 0.1,
) -> Array:
    """Each image rotated by up to ±``degrees``, scaled by 1 ± ``scale`` and sheared by up to
    ±``shear``, about its centre (drawn uniformly per image; the ranges are symmetric, so
    the map drawn for where each output pixel reads from is as likely as its inverse)."""
    n, h, w = images.shape
    theta = np.deg2rad(rng.uniform(-degrees, degrees, n))
    k = rng.uniform(1 - scale, 1 + scale, n)
    sh = rng.uniform(-shear, shear, n)
    # Output pixel p reads the input at M (p − centre) + centre.
    cos, sin = np.cos(theta) / k, np.sin(theta) / k
    a, b, c, d = cos, -sin + sh * cos, sin, cos + sh * sin
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    y, x = y - (h - 1) / 2, x - (w - 1) / 2
    rows = a[:, None, None] * y + b[:, None, None] * x + (h - 1) / 2
    cols = c[:, None, None] * y + d[:, None, None] * x + (w - 1) / 2
    return sample(images, rows, cols)


def gaussian_matrix(size: int, sigma: float) -> Array:
    """G with ``G @ f`` the convolution of f with a normalised Gaussian of σ (zeros outside)."""
    t = np.arange(size)
    g = np.exp(-0.5 * ((t[:, None] - t[None, :]) / sigma) ** 2)
    radius = np.arange(-int(4 * sigma), int(4 * sigma) + 1)
    return g / np.exp(-0.5 * (radius / sigma) ** 2).sum()


def elastic(images: Array, rng: np.random.Generator, sigma: float = 6, alpha: float = 34) -> Array:
    """Simard's elastic distortion: each pixel reads the image at p + α (G_σ * u)(p), with u
    uniform in [−1, 1] per pixel and direction; α = 0 returns the images unchanged.  Simard
    et al. used σ = 4; the default σ = 6 is gentler (see :data:`DEFAULTS`)."""
    n, h, w = images.shape
    gh, gw = gaussian_matrix(h, sigma), gaussian_matrix(w, sigma)
    u = rng.uniform(-1, 1, (2, n, h, w))
    field = alpha * (gh @ u @ gw.T)  # separable 2-D Gaussian smoothing, in bulk
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    return sample(images, y + field[0], x + field[1])


TRANSFORMS: dict[str, Callable[..., Array]] = {
    "shift": random_shift,
    "affine": affine,
    "elastic": elastic,
    "flip": flip,
}


def parse(spec: str) -> list[tuple[str, tuple[float, ...]]]:
    """``"shift:3,elastic:4:34"`` → ``[("shift", (3,)), ("elastic", (4, 34))]``."""
    steps = []
    for part in spec.split(","):
        name, *args = part.strip().split(":")
        if name not in TRANSFORMS:
            from bprop.errors import unknown_name

            raise unknown_name("augmentation", name, TRANSFORMS)
        try:
            numbers = tuple(float(a) for a in args)
        except ValueError:
            numbers = (float("nan"),)
        if len(numbers) > len(DEFAULTS[name]) or not all(
            np.isfinite(v) and v >= 0 for v in numbers
        ):
            raise ValueError(
                f"augmentation {part!r}: {name} takes up to {len(DEFAULTS[name])} numbers ≥ 0"
            )
        steps.append((name, numbers + DEFAULTS[name][len(numbers) :]))
    return steps


def augmenter(spec: str, shape: tuple[int, int]) -> Callable[[Array, np.random.Generator], Array]:
    """The ``augment(X, rng)`` of a spec, for rows of X holding images of ``shape``."""
    steps = parse(spec)
    h, w = shape

    def augment(X: Array, rng: np.random.Generator) -> Array:
        if X.shape[1] != h * w:
            raise ValueError(f"augmentation needs {h}×{w} images, got {X.shape[1]} features")
        out = np.empty_like(X)
        for start in range(0, len(X), CHUNK):
            images = X[start : start + CHUNK].reshape(-1, h, w)
            for name, args in steps:
                images = TRANSFORMS[name](images, rng, *args)
            out[start : start + CHUNK] = images.reshape(len(images), -1)
        return out

    augment.spec = spec  # type: ignore[attr-defined]  # recorded in history.config
    return augment


def describe(spec: str) -> dict[str, Any]:
    """The spec with every parameter spelled out, for the run's records."""
    return {name: list(args) for name, args in parse(spec)}
