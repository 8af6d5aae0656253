"""The lab in a notebook: ``bprop lab``'s page inline, in a sandboxed frame.

:func:`lab` builds the page with :func:`bprop.lab.page` and puts it in an ``<iframe srcdoc>``
whose sandbox allows scripts only (no same origin, no forms, no pop-ups): the page runs in a
document of its own and cannot reach the notebook's, which works alike in JupyterLab, the
classic Notebook and VS Code.  A network trained in Python goes into it: a 784-input model
becomes the digit pad's, a 2-input one opens in the playground and the inspector with its
points.  Model files and run folders are read through :mod:`bprop.serialize` and
:mod:`bprop.runs`.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from bprop import lab as _lab
from bprop.network import Network

#: The frame's height in pixels unless told otherwise.
HEIGHT = 900


def lab(
    net_or_run: Any = None,
    data: Any = None,
    *,
    lang: str = "en",
    eta: float = 0.3,
    mini_batch_size: int = 10,
    height: int = HEIGHT,
) -> Any:
    """``bprop lab``'s page shown inline, with a network of yours in it.

    Parameters
    ----------
    net_or_run : Network, run folder, model file, or None
        A :class:`~bprop.network.Network`, a :class:`~bprop.runs.RunFolder` or
        :class:`~bprop.runs.Run`, or the path of a run folder or ``model.npz``.  With 784
        inputs it is the digit pad's model; with 2 inputs the playground and the inspector
        open on it (``data`` then gives its points).  None: the lab alone.
    data : DataSets or (X, y), optional
        For a 2-input network, its points (inside [−1, 1]²; a DataSets' test part is the
        page's test set).  For a 784-input one, the digit pad's example images (by default
        the model's own data set when it records one and the files are at hand).
    lang : {"en", "zh"}
        The page's first language.
    eta, mini_batch_size : float, int
        η and m of the playground when training goes on there (a 2-input network).
    height : int
        The frame's height in pixels.

    Returns
    -------
    Display
        Shown by Jupyter; ``repr`` says what is in it.

    Raises
    ------
    ValueError
        For a network that fits neither the pad nor the playground, or points outside the
        page's square; FileNotFoundError for a path with no model.
    """
    from bprop.notebook import Display

    if not (isinstance(height, int) and 200 <= height <= 4000):
        raise ValueError(f"height must be a whole number of pixels, 200 to 4000; got {height!r}")
    net, meta, name = _network(net_or_run)
    model = images = network = None
    about = "the playground and the inspector"
    if net is not None and net.sizes[0] == _lab.PAD_INPUTS:
        if isinstance(data, tuple) or (data is None and not meta.get("dataset")):
            meta = meta | {"dataset": {"name": "mnist"}}
        elif data is not None:
            meta = meta | {"dataset": {"name": data.name, "class_names": list(data.class_names)}}
        model = _lab.model_data(net, meta, name)
        images = _images(data, model["dataset"])
        sizes = "-".join(map(str, net.sizes))
        about = f"the digit pad with {name} ({sizes})" + ("" if images else ", no example images")
    elif net is not None:
        X, y, test = _points(data, net)
        network = _lab.network_data(net, X, y, test=test, eta=eta, mini_batch_size=mini_batch_size)
        sizes = "-".join(map(str, net.sizes))
        about = f"the playground and the inspector on {name} ({sizes}), {len(network['y'])} points"
    tab = "pad" if model else "inspect" if network else "playground"
    page = _lab.page(lang=lang, model=model, images=images, network=network, tab=tab)
    frame = (
        f'<iframe class="bprop-lab" sandbox="allow-scripts" title="bprop lab" '
        f'style="width:100%;height:{height}px;border:1px solid #d8dde3;border-radius:4px" '
        f'srcdoc="{html.escape(page, quote=True)}"></iframe>'
    )
    return Display(frame, f"bprop lab: {about}; a {len(page.encode('utf-8')) // 1000} KB page")


def _network(net_or_run: Any) -> tuple[Network | None, dict[str, Any], str]:
    """The network, its metadata and a name, from whatever :func:`lab` was given."""
    from bprop import runs, serialize

    if net_or_run is None:
        return None, {}, ""
    if isinstance(net_or_run, Network):
        return net_or_run, {}, "your network"
    if isinstance(net_or_run, (runs.Run, runs.RunFolder)):
        net_or_run = net_or_run.path
    if isinstance(net_or_run, (str, os.PathLike)):
        path = runs.model_file(net_or_run)
        net, meta = serialize.load_model(path)
        return net, meta, Path(net_or_run).name or path.name
    raise TypeError(
        "lab() takes a Network, a run folder (RunFolder, Run or its path) or a model file's "
        f"path, not {type(net_or_run).__name__}"
    )


def _images(data: Any, dataset: str) -> dict[str, Any] | None:
    """The pad's example images: from ``data``, or the model's own data set when at hand."""
    if isinstance(data, tuple):
        X, y = data
        return _lab.pad_images(X, y)
    if data is not None:
        return _lab.pad_images(data.test.X, data.test.y)
    if dataset not in ("mnist", "fashion-mnist"):
        return None
    from bprop import datasets

    try:
        found = datasets.load(dataset, download=False)
    except (OSError, ValueError):
        return None
    return _lab.pad_images(found.test.X, found.test.y)


def _points(data: Any, net: Network) -> tuple[Any, Any, tuple[Any, Any] | None]:
    """Training points, labels and test points for a 2-input network, from ``data``."""
    if data is None:
        raise ValueError(
            "give the points the network was trained on: lab(net, data=(X, y)) or a DataSets"
        )
    if isinstance(data, tuple):
        X, y = data
        return X, y, None
    return data.train.X, data.train.y, (data.test.X, data.test.y)
