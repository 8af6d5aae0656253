"""Photos of digits on paper (#15 item 6): the paper's light taken out, the digit found.

Sixty photo-like JPEGs of MNIST test digits (uneven light, a shadow, grain, noise, turned,
quality 70; ``tests/photo_digits.py``) are classified by a chapter-3 style network trained for
two epochs: through :func:`bprop.images.preprocess` at least 90% are right, where the clean
image pipeline alone (the shadow taken for ink, the digit shrunk into a corner) gets most
wrong."""

from __future__ import annotations

import numpy as np
import pytest

import bprop
from bprop import datasets, images, photos
from tests.photo_digits import photo_jpeg

pytest.importorskip("PIL")


@pytest.fixture(scope="module")
def mnist():
    try:
        return datasets.load("mnist")
    except datasets.DatasetNotFoundError as exc:
        pytest.skip(f"MNIST not found: {exc}")


@pytest.fixture(scope="module")
def chapter3(mnist):
    """784-100-10 sigmoid, cross-entropy, λ = 5, η = 0.5, m = 10 (Nielsen's chapter 3), two
    epochs: about 95% on the test digits."""
    net = bprop.Network([784, 100, 10], cost="cross-entropy", seed=0)
    net.SGD(mnist.train.X, mnist.train.y, 2, 10, 0.5, lmbda=5.0, seed=0)
    return net


def test_photos_of_digits_are_read_as_the_digits(mnist, chapter3, tmp_path):
    n = 60
    new, clean = [], []
    for i in range(n):
        path = tmp_path / f"digit{i}.jpg"
        path.write_bytes(photo_jpeg(mnist.test.X[i], seed=i))
        new.append(images.preprocess(path))
        clean.append(images.to_mnist(images.load_image(path), photo=False))
    truth = mnist.test.y[:n]
    right = float(np.mean(chapter3.predict(np.stack(new)) == truth))
    before = float(np.mean(chapter3.predict(np.stack(clean)) == truth))
    assert right >= 0.9, (right, before)
    assert before <= 0.5  # what the clean pipeline made of the same photos
    # Each input looks like an MNIST digit: ink fills a 20-pixel box, centred, background 0.
    x = np.stack(new).reshape(n, 28, 28)
    assert np.all(x[:, :2, :] == 0) and np.all(x[:, :, :2] == 0)
    assert np.all(x.max(axis=(1, 2)) == 1.0)


def test_clean_images_are_not_taken_for_photos(mnist):
    """A scan, a drawing or an enlarged MNIST digit keeps the clean pipeline (which the lab's
    JavaScript reproduces exactly)."""
    digit = mnist.test.X[0].reshape(28, 28)
    big = np.kron(1 - digit, np.ones((8, 8)))  # 224 × 224, dark on white, noise-free
    assert not photos.uneven(big) and not photos.uneven(1 - digit)
    assert not photos.uneven(np.ones((300, 300)))


def test_the_paper_is_flattened_and_a_shadow_is_no_ink():
    """A bar of ink on paper lit from one side, with a dark soft shadow: the ink found is the
    bar and nothing of the shadow or the dim side."""
    h = w = 300
    y, x = np.mgrid[0:h, 0:w] / h
    paper = (
        0.9
        * (1 - 0.5 * x)
        * (1 - 0.4 * np.exp(-(((y - 0.2) / 0.15) ** 2 + ((x - 0.8) / 0.2) ** 2)))
    )
    g = paper.copy()
    g[100:200, 140:160] *= 0.15  # the bar
    assert photos.uneven(g)
    ink = photos.digit_ink(g)  # at the reduced size, 256 × 256
    scale = 256 / 300
    bar = np.zeros_like(ink, bool)
    bar[
        int(100 * scale) + 2 : int(200 * scale) - 2, int(140 * scale) + 2 : int(160 * scale) - 2
    ] = True
    assert ink[bar].min() > 0.5
    far = np.ones_like(ink, bool)
    far[int(90 * scale) : int(210 * scale), int(130 * scale) : int(170 * scale)] = False
    assert ink[far].max() == 0.0


def test_otsu_splits_two_classes_between_them():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0.2, 0.03, 5000), rng.normal(0.7, 0.05, 1000)])
    t = photos.otsu(np.clip(values, 0, 1))
    assert 0.3 < t < 0.6


def test_specks_away_from_the_digit_are_dropped_and_a_digits_parts_kept():
    """A 5 written with a separate top bar keeps its bar; a speck in a corner goes."""
    mask = np.zeros((100, 100), bool)
    mask[30:80, 40:46] = True  # the stroke
    mask[22:26, 40:70] = True  # its bar, apart from it, 120 pixels (40% of the stroke)
    mask[2:4, 95:97] = True  # a speck
    keep = photos._digit_mask(mask)
    assert keep[30:80, 40:46].all() and keep[22:26, 40:70].all() and not keep[2:4, 95:97].any()
