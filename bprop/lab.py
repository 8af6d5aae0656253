"""The lab page: backpropagation to watch and touch, as one self-contained HTML file.

:func:`page` writes the HTML of ``bprop lab``: a playground that trains small networks on 2-D
points in the browser, an inspector that shows every number of one mini-batch step (BP1–BP4),
and, given a 784-input model, a digit pad.  The page's math is ``bprop/web/lab_net.js``, a
JavaScript port of :mod:`bprop.backprop`, :mod:`bprop.network` and :mod:`bprop.train` that the
tests hold to this library's numbers; the pad's preprocessing is ``bprop/web/lab_images.js``, a
port of :mod:`bprop.images`.

This module builds the page's data from things bprop has already loaded and validated — a
:class:`~bprop.network.Network` and its metadata, a :class:`~bprop.datasets.DataSets` — checks
that they fit the page (two features for the playground, 28×28 inputs for the pad, sizes that
keep the file small), and embeds them as JSON escaped for a ``<script>`` element.  It never
reads or writes files and never prints: the ``bprop lab`` command does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from bprop import web
from bprop.network import Network

LANGS = ("en", "zh")
TABS = ("playground", "inspect", "pad")
#: The playground's limits: points of a user's data set, and classes (one output neuron each).
MAX_POINTS = 5000
MAX_CLASSES = 8
#: The digit pad's model: inputs (a 28×28 field), and parameters at most (about 8 MB of page).
PAD_INPUTS = 784
MAX_PARAMETERS = 1_000_000
#: Test images per class embedded for the digit pad.
IMAGES_PER_CLASS = 2
#: The playground's networks: hidden layers and neurons per layer at most, the activations
#: its menus offer (hidden layers, output layer) and its costs (as ``lab.js`` has them).
MAX_HIDDEN = 6
MAX_NEURONS = 8
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
OUTPUT_ACTIVATIONS = ("sigmoid", "softmax", "tanh", "relu", "leaky_relu", "identity")
LAB_COSTS = ("quadratic", "cross-entropy", "log-likelihood")

#: The page's scripts, in the order they run: the math and the data first (no DOM), then the
#: words, the drawing helpers, the three views, and lab.js, which starts the page.
SCRIPTS = (
    "lab_net.js",
    "lab_images.js",
    "lab_data.js",
    "lab_words.js",
    "lab_view.js",
    "lab_playground.js",
    "lab_inspect.js",
    "lab_pad.js",
    "lab.js",
)


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and ``\\u0026`` (and the line
    separators U+2028/U+2029 as escapes), so no string in the data — a CSV cell holding
    ``</script>`` or ``<!--`` — can end the element or change how the page is parsed; JSON
    reads the escapes back as the same characters.
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _base64(a: np.ndarray, dtype: str) -> str:
    """An array's values as base64 of little-endian ``dtype`` bytes (exact for floats)."""
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")


def playground_data(data: Any, name: str) -> dict[str, Any]:
    """The playground's view of a user's data set: every point, scaled into [−1, 1]².

    Parameters
    ----------
    data : bprop.datasets.DataSets
        Two features per example; its train and test parts are joined (the page makes its own
        split with its test-share control).
    name : str
        How the page names the data set (e.g. the CSV's file name).

    Returns
    -------
    dict
        ``X`` (rows of two numbers in [−1, 1]: each feature scaled linearly from its range in
        the data), ``y`` (labels 0 … K−1), ``class_names``, ``ranges`` (each feature's
        ``[min, max]`` before scaling) and ``name``.

    Raises
    ------
    ValueError
        Not two features, more than :data:`MAX_POINTS` points or :data:`MAX_CLASSES` classes.
    """
    parts = [data.train] + ([data.validation] if data.validation is not None else []) + [data.test]
    X = np.concatenate([p.X for p in parts]).astype(np.float64)
    y = np.concatenate([p.y for p in parts])
    if X.shape[1] != 2:
        raise ValueError(
            f"the playground draws points in a plane, so it takes data with 2 feature columns "
            f"(x1, x2, label); {name} has {X.shape[1]}"
        )
    if len(X) > MAX_POINTS:
        raise ValueError(
            f"{name} has {len(X)} points; the playground takes at most {MAX_POINTS}: use a sample"
        )
    if data.n_classes > MAX_CLASSES:
        raise ValueError(
            f"{name} has {data.n_classes} classes; the playground shows at most {MAX_CLASSES}"
        )
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    scaled = 2.0 * (X - lo) / span - 1.0
    return {
        "name": name,
        "X": scaled.tolist(),
        "y": y.tolist(),
        "class_names": list(data.class_names),
        "ranges": [[float(a), float(b)] for a, b in zip(lo, hi)],
    }


def model_data(net: Network, meta: dict[str, Any], name: str) -> dict[str, Any]:
    """The digit pad's view of a model: its layers and exact parameters.

    Parameters
    ----------
    net : Network
        784 inputs (a 28×28 field), at most :data:`MAX_PARAMETERS` parameters.
    meta : dict
        The model's metadata (:func:`bprop.serialize.load_model`): its data set's name and
        class names, when recorded.
    name : str
        How the page names the model (e.g. the run folder).

    Returns
    -------
    dict
        ``sizes``, ``activations``, ``cost``, ``dtype`` (``"float64"`` or ``"float32"``),
        ``weights`` and ``biases`` (base64 of the little-endian values of that dtype,
        ``weights[i]`` row by row: the page reads back exactly the library's numbers),
        ``class_names``, ``style`` (how a drawing is prepared) and ``name``.

    Raises
    ------
    ValueError
        Not 784 inputs, or too many parameters for a page.
    """
    if net.sizes[0] != PAD_INPUTS:
        raise ValueError(
            f"the digit pad draws 28×28 images, so it takes a model with {PAD_INPUTS} inputs "
            f"(trained on MNIST or Fashion-MNIST); {name} has {net.sizes[0]}"
        )
    n_params = sum(w.size + b.size for w, b in zip(net.weights, net.biases))
    if n_params > MAX_PARAMETERS:
        raise ValueError(
            f"{name} has {n_params:,} parameters; the lab embeds at most {MAX_PARAMETERS:,} "
            "(about 8 MB of page)"
        )
    dtype = np.dtype(net.dtype).name
    code = "<f8" if dtype == "float64" else "<f4"
    dataset = meta.get("dataset") or {}
    names = [str(c) for c in dataset.get("class_names") or []]
    names += [str(i) for i in range(len(names), net.sizes[-1])]
    return {
        "name": name,
        "sizes": list(net.sizes),
        "activations": [a.name for a in net.activations],
        "cost": net.cost.name,
        "dtype": dtype,
        "weights": [_base64(w, code) for w in net.weights],
        "biases": [_base64(b, code) for b in net.biases],
        "class_names": names[: net.sizes[-1]],
        "dataset": str(dataset.get("name") or ""),
        "style": "fashion-mnist" if dataset.get("name") == "fashion-mnist" else "mnist",
    }


def network_data(
    net: Network,
    X: Any,
    y: Any,
    *,
    test: tuple[Any, Any] | None = None,
    eta: float = 0.3,
    mini_batch_size: int = 10,
) -> dict[str, Any]:
    """A network trained outside the page, with its 2-D data, for the playground to start with.

    The page opens on this network (its exact weights) and these points instead of its own, so
    the inspector shows BP1–BP4 for it and training goes on from where it is.

    Parameters
    ----------
    net : Network
        2 inputs, at most :data:`MAX_HIDDEN` hidden layers of at most :data:`MAX_NEURONS`
        neurons, one output per class, activations and cost that the page offers.
    X : array ``(n, 2)``
        Its training points, inside [−1, 1]² (the square the page draws).
    y : array ``(n,)``
        Their labels 0 … K−1, K = the network's outputs.
    test : (X_test, y_test), optional
        Points the page reports test accuracy on (by default the training points).
    eta, mini_batch_size : float, int
        The page's η and m when training goes on there.

    Raises
    ------
    ValueError
        Saying what does not fit the page.
    """
    sizes, acts = list(net.sizes), [a.name for a in net.activations]
    hidden = sizes[1:-1]
    problems = []
    if sizes[0] != 2:
        problems.append(
            f"the playground's networks take 2 inputs (points in a plane), not {sizes[0]}"
        )
    if len(hidden) > MAX_HIDDEN or any(n > MAX_NEURONS for n in hidden):
        problems.append(
            f"it draws at most {MAX_HIDDEN} hidden layers of at most {MAX_NEURONS} neurons, "
            f"not {'-'.join(map(str, sizes))}"
        )
    if not 2 <= sizes[-1] <= MAX_CLASSES:
        problems.append(
            f"it needs one output neuron per class (2 to {MAX_CLASSES}), not {sizes[-1]}"
        )
    if any(a not in HIDDEN_ACTIVATIONS for a in acts[:-1]) or acts[-1] not in OUTPUT_ACTIVATIONS:
        problems.append(f"it offers the activations {', '.join(OUTPUT_ACTIVATIONS)}, not {acts}")
    if net.cost.name not in LAB_COSTS:
        problems.append(f"it offers the costs {', '.join(LAB_COSTS)}, not {net.cost.name}")
    if problems:
        raise ValueError("this network does not fit the lab's playground: " + "; ".join(problems))
    parts = [_points(X, y, sizes[-1], "X, y")]
    if test is not None:
        parts.append(_points(*test, sizes[-1], "the test points"))
    if not (isinstance(mini_batch_size, int) and mini_batch_size >= 1):
        raise ValueError(f"mini_batch_size must be a whole number ≥ 1, got {mini_batch_size!r}")
    if not (isinstance(eta, (int, float)) and np.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be a number > 0, got {eta!r}")
    (X, y), (tX, ty) = parts[0], parts[-1]
    return {
        "sizes": sizes,
        "activations": acts,
        "cost": net.cost.name,
        "weights": [np.asarray(w, np.float64).tolist() for w in net.weights],
        "biases": [np.asarray(b, np.float64).tolist() for b in net.biases],
        "X": X.tolist(),
        "y": y.tolist(),
        "test": {"X": tX.tolist(), "y": ty.tolist()},
        "eta": float(eta),
        "mini_batch_size": min(mini_batch_size, len(X)),
    }


def _points(X: Any, y: Any, n_classes: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` checked to be 2-D points in [−1, 1]² with labels below ``n_classes``."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (len(X),) or not 1 <= len(X) <= MAX_POINTS:
        raise ValueError(
            f"{what}: the playground takes 1 to {MAX_POINTS} points, X of shape (n, 2) and y of "
            f"shape (n,); got {X.shape} and {y.shape}"
        )
    if not np.all(np.isfinite(X)) or np.abs(X).max() > 1.0:
        raise ValueError(
            f"{what}: the playground draws the square [-1, 1]², so the points must lie inside "
            "it: scale them before training (e.g. X / abs(X).max())"
        )
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"{what}: the labels must be whole numbers 0 … {n_classes - 1}")
    return X, y.astype(np.int64)


def pad_images(X: np.ndarray, y: np.ndarray, per_class: int = IMAGES_PER_CLASS) -> dict[str, Any]:
    """The first ``per_class`` test images of each class, for the pad's one-click examples.

    ``X`` ``(m, 784)`` holds pixel values k/255 (as bprop loads MNIST), ``y`` ``(m,)`` the
    labels.  Returns ``labels`` and ``pixels`` (base64 of the images' bytes, 784 each).
    """
    picks = [int(i) for c in np.unique(y) for i in np.flatnonzero(y == c)[:per_class]]
    pixels = np.rint(np.asarray(X)[picks] * 255.0).clip(0, 255).astype(np.uint8)
    return {
        "labels": [int(y[i]) for i in picks],
        "pixels": base64.b64encode(pixels.tobytes()).decode("ascii"),
    }


def page(
    *,
    lang: str = "en",
    playground: dict[str, Any] | None = None,
    model: dict[str, Any] | None = None,
    images: dict[str, Any] | None = None,
    network: dict[str, Any] | None = None,
    tab: str = "playground",
) -> str:
    """The lab as one self-contained HTML page (no network access, opens from ``file://``).

    Parameters
    ----------
    lang : {"en", "zh"}
        The page's first language; a toggle in the page switches.
    playground : dict, optional
        A user's data set, from :func:`playground_data`.
    model : dict, optional
        The digit pad's model, from :func:`model_data`.
    images : dict, optional
        The pad's test images, from :func:`pad_images`.
    network : dict, optional
        A network and its points for the playground to open on, from :func:`network_data`.
    tab : {"playground", "inspect", "pad"}
        The tab the page opens on.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; choose one of: {', '.join(LANGS)}")
    if tab not in TABS or (tab == "pad" and model is None):
        raise ValueError(f"the page opens on one of the tabs {', '.join(TABS)} (pad: with a model)")
    data = {
        "tab": tab,
        "lang": lang,
        "playground": playground,
        "model": model,
        "images": images,
        "network": network,
    }
    scripts = []
    for name in SCRIPTS:
        text = web.asset(name)
        if "</script" in text.lower() or "<!--" in text:
            raise AssertionError(f"bprop/web/{name} must not contain </script or <!--")
        scripts.append(f"<script>\n{text}</script>")
    return web.fill(
        "lab.html",
        html_lang="zh-CN" if lang == "zh" else "en",
        css=web.asset("lab.css"),
        data=script_json(data),
        scripts="\n".join(scripts),
    )


__all__: Sequence[str] = (
    "LANGS",
    "MAX_CLASSES",
    "MAX_PARAMETERS",
    "MAX_POINTS",
    "SCRIPTS",
    "model_data",
    "network_data",
    "pad_images",
    "page",
    "playground_data",
    "script_json",
)
