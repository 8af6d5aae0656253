"""Photographs of handwritten digits, made for the tests: MNIST test digits "written" on a
sheet of paper and photographed badly.

Each photo puts one digit, enlarged and turned by up to 12°, in dark ink on paper with its own
grain, lit unevenly (the light falls off across the page by up to half), with a soft shadow
beside the digit, sensor noise, and saved as a JPEG of quality 70 — what a phone gives of a
page on a desk.  Deterministic for a seed.
"""

from __future__ import annotations

import io

import numpy as np


def photo_jpeg(digit: np.ndarray, seed: int) -> bytes:
    """A JPEG photo of ``digit`` (28×28 or 784 values in [0, 1], ink high)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    side = int(rng.integers(240, 400))
    h = w = side
    # Paper: a light grey with a fine grain.
    paper = 0.86 + 0.04 * rng.standard_normal((h // 8 + 1, w // 8 + 1))
    paper = np.asarray(Image.fromarray(paper.astype(np.float32), "F").resize((w, h), Image.BICUBIC))
    # The digit, enlarged to about half the page and turned a little.
    size = int(side * rng.uniform(0.4, 0.6))
    ink = Image.fromarray((np.reshape(digit, (28, 28)) * 255).astype(np.uint8), "L")
    ink = ink.resize((size, size), Image.BICUBIC).rotate(float(rng.uniform(-12, 12)), Image.BICUBIC)
    layer = np.zeros((h, w))
    top = int(rng.integers(side // 8, side - size - side // 8))
    left = int(rng.integers(side // 8, side - size - side // 8))
    layer[top : top + size, left : left + size] = np.asarray(ink) / 255.0
    page = paper * (1.0 - 0.8 * layer)
    # Uneven light: a gradient across the page in a random direction, down to 0.5-0.8.
    y, x = np.mgrid[0:h, 0:w] / side
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * x + np.sin(angle) * y
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    light = 1.0 - rng.uniform(0.2, 0.5) * ramp
    # A soft shadow (a hand, the phone) beside the digit.
    cy, cx = rng.uniform(0, 1, 2)
    shadow = np.exp(-(((y - cy) / 0.25) ** 2 + ((x - cx) / 0.35) ** 2))
    light *= 1.0 - rng.uniform(0.2, 0.4) * shadow
    page = page * light + 0.025 * rng.standard_normal((h, w))
    out = Image.fromarray((np.clip(page, 0, 1) * 255).astype(np.uint8), "L").convert("RGB")
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=70)
    return buf.getvalue()
