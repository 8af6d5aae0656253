"""A photo of a digit on paper: the paper's uneven light taken out, the digit's ink found.

:func:`bprop.images.to_mnist` prepares a clean image — a scan, a drawing, a PNG of an MNIST
digit — by inverting it and dropping ink fainter than a tenth of the strongest.  A photograph
of a digit written on paper is not clean: the light falls off across the page, a hand or the
phone casts a shadow, the sensor adds noise and JPEG its blocks.  Treated as a clean image, the
shadow is "ink" as dark as the digit, the digit shrinks into a corner of the 20×20 box and the
network answers wrongly with high confidence.  For such images (:func:`uneven`) the digit's
ink comes from :func:`digit_ink` instead:

1. the photo, reduced by area averaging so its longer side is at most :data:`WORK_SIDE`;
2. the paper's brightness at every pixel, estimated by a grey-level closing (a maximum
   filter, which lifts the paper over the ink, then a minimum filter of the same size) of
   :data:`CLOSING` of the longer side, smoothed by a box blur; the photo divided by it, so the
   paper is 1 everywhere and only the ink is dark;
3. the ink (1 − that) split from the paper by Otsu's threshold (the one that best separates
   the two classes of the histogram: N. Otsu, 1979);
4. the digit: the largest 8-connected component of ink, with the components at least
   :data:`KEEP` of its size that lie near it (the separate bar of a 5, the dot-free strokes
   of a 4), everything else (specks, the page's edge, a shadow's rim) dropped;
5. the kept ink scaled so its 99th percentile is 1.

:func:`bprop.images.to_mnist` then crops, fits the ink in 20×20 and centres it by centre of
mass, as for any image.  Only NumPy is used; nothing here reads files.
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = [
    "CLOSING",
    "KEEP",
    "MIN_SIDE",
    "NOISY",
    "UNEVEN",
    "WORK_SIDE",
    "digit_ink",
    "otsu",
    "photo_ink",
    "uneven",
]

#: Longer side, in pixels, of the reduced photo the paper and the ink are found in.
WORK_SIDE = 256
#: Width of the closing that estimates the paper, as a share of the longer side: wider than
#: any pen stroke (a digit's stroke is rarely a tenth of its height).
CLOSING = 1 / 8
#: A photo is taken for uneven when its paper's estimated brightness varies by more than this
#: (0 black, 1 white), or when the paper's own pixels vary (noise) by more than NOISY.
UNEVEN = 0.08
NOISY = 0.02
#: Images with a shorter side below this many pixels are never taken for photos (an MNIST
#: digit, a small drawing: too few pixels to tell the paper's light from the ink).
MIN_SIDE = 100
#: Components of ink at least this share of the largest one's size, near it, are kept.
KEEP = 0.15


def uneven(gray: np.ndarray) -> bool:
    """Whether ``gray`` (1 = white, dark ink on light paper) looks like a photo: paper whose
    light varies across the page, or noisy paper.  A clean scan or drawing is not."""
    return min(gray.shape) >= MIN_SIDE and _uneven(_reduced(gray))


def digit_ink(gray: np.ndarray) -> np.ndarray:
    """The digit's ink in a photo: 0 off the digit, up to 1 on it, at the reduced size (see
    the module's steps).  All zero when no ink stands out of the paper."""
    return _digit_ink(_reduced(gray))


def photo_ink(gray: np.ndarray, photo: bool | None = None) -> np.ndarray | None:
    """:func:`digit_ink` of ``gray`` when it is a photo — ``photo=True``, or by :func:`uneven`
    when ``photo`` is None — else None; the photo is reduced once for both."""
    if photo is False or (photo is None and min(gray.shape) < MIN_SIDE):
        return None
    g = _reduced(gray)
    return _digit_ink(g) if photo or _uneven(g) else None


def _uneven(g: np.ndarray) -> bool:
    """:func:`uneven` of the reduced photo ``g``."""
    if float(np.median(_border(g))) < 0.5:
        return False  # light ink on a dark ground: not paper
    paper = _paper(g, 2 * CLOSING)  # wider: ink a quarter of the page wide at its edge is no shadow
    if float(paper.max() - paper.min()) > UNEVEN:
        return True
    residual = g / np.maximum(paper, 1e-3)
    light = residual[residual > 0.8]  # the paper's pixels, not the ink's
    return light.size > 0 and float(np.std(light)) > NOISY


def _digit_ink(g: np.ndarray) -> np.ndarray:
    """:func:`digit_ink` of the reduced photo ``g``."""
    flat = np.clip(g / np.maximum(_paper(g), 1e-3), 0.0, 1.0)
    ink = 1.0 - flat
    t = otsu(ink)
    mask = ink > t
    if not mask.any():
        return np.zeros_like(ink)
    keep = _digit_mask(mask)
    top = float(np.percentile(ink[keep], 99))
    out = np.where(keep, (ink - t) / max(top - t, 1e-6), 0.0)
    return np.clip(out, 0.0, 1.0)


def otsu(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of ``values`` in [0, 1]: the level that maximises the variance
    between the two classes it splits the histogram into."""
    hist, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    p = hist / max(hist.sum(), 1)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)
    mu = np.cumsum(p * centres)
    total = mu[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total * w0 - mu) ** 2 / (w0 * (1.0 - w0))
    between[~np.isfinite(between)] = 0.0
    return float(edges[int(np.argmax(between)) + 1])


# -- internals --------------------------------------------------------------------------------


def _reduced(gray: np.ndarray) -> np.ndarray:
    """``gray`` shrunk by area averaging so its longer side is at most WORK_SIDE."""
    from bprop.images import _resample_matrix

    h, w = gray.shape
    scale = min(1.0, WORK_SIDE / max(h, w))
    if scale == 1.0:
        return np.asarray(gray, dtype=np.float64)
    out_h, out_w = max(1, round(h * scale)), max(1, round(w * scale))
    return _resample_matrix(h, out_h) @ gray @ _resample_matrix(w, out_w).T


def _border(g: np.ndarray) -> np.ndarray:
    return np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])


def _paper(g: np.ndarray, share: float = CLOSING) -> np.ndarray:
    """The paper's brightness at every pixel: a closing (max, then min, filter) ``share`` of
    the longer side wide, wider than a stroke, then a box blur of twice its width."""
    k = max(3, int(max(g.shape) * share) | 1)
    closed = _filter(_filter(g, k, np.max), k, np.min)
    return _box_blur(closed, 2 * k + 1)


def _filter(a: np.ndarray, k: int, reduce: object) -> np.ndarray:
    """A k × k maximum or minimum filter (edges repeated), separably."""
    r = k // 2
    for axis in (0, 1):
        padded = np.pad(a, [(r, r) if ax == axis else (0, 0) for ax in (0, 1)], mode="edge")
        windows = np.lib.stride_tricks.sliding_window_view(padded, k, axis=axis)
        a = reduce(windows, axis=-1)  # type: ignore[operator]
    return a


def _box_blur(a: np.ndarray, k: int) -> np.ndarray:
    """The mean over a k × k window (edges repeated), by cumulative sums."""
    r = k // 2
    for axis in (0, 1):
        padded = np.pad(a, [(r + 1, r) if ax == axis else (0, 0) for ax in (0, 1)], mode="edge")
        c = np.cumsum(padded, axis=axis)
        hi = np.take(c, np.arange(k, c.shape[axis]), axis=axis)
        lo = np.take(c, np.arange(0, c.shape[axis] - k), axis=axis)
        a = (hi - lo) / k
    return a


def _digit_mask(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of ``mask`` and the sizeable ones near it."""
    labels, sizes, boxes = _components(mask)
    biggest = int(np.argmax(sizes))
    top, left, bottom, right = boxes[biggest]
    pad_y, pad_x = (bottom - top + 1) // 2, (right - left + 1) // 2
    keep = np.zeros(len(sizes) + 1, bool)
    for i, (size, (t2, l2, b2, r2)) in enumerate(zip(sizes, boxes)):
        near = (
            t2 <= bottom + pad_y
            and b2 >= top - pad_y
            and l2 <= right + pad_x
            and r2 >= left - pad_x
        )
        keep[i + 1] = i == biggest or (size >= KEEP * sizes[biggest] and near)
    return keep[labels]


def _components(mask: np.ndarray) -> tuple[np.ndarray, list[int], list[tuple[int, int, int, int]]]:
    """8-connected components of ``mask``: labels (0 off the mask, 1 … n), each one's size and
    bounding box (top, left, bottom, right)."""
    h, w = mask.shape
    labels = np.zeros((h, w), np.int64)
    sizes: list[int] = []
    boxes: list[tuple[int, int, int, int]] = []
    todo: deque[tuple[int, int]] = deque()
    for y0, x0 in zip(*np.nonzero(mask)):
        if labels[y0, x0]:
            continue
        n = len(sizes) + 1
        labels[y0, x0] = n
        todo.append((int(y0), int(x0)))
        size, top, left, bottom, right = 0, int(y0), int(x0), int(y0), int(x0)
        while todo:
            y, x = todo.popleft()
            size += 1
            top, left = min(top, y), min(left, x)
            bottom, right = max(bottom, y), max(right, x)
            for yy in (y - 1, y, y + 1):
                if 0 <= yy < h:
                    for xx in (x - 1, x, x + 1):
                        if 0 <= xx < w and mask[yy, xx] and not labels[yy, xx]:
                            labels[yy, xx] = n
                            todo.append((yy, xx))
        sizes.append(size)
        boxes.append((top, left, bottom, right))
    return labels, sizes, boxes
