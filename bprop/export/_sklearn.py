"""scikit-learn: a Network as a fitted ``MLPClassifier`` or ``MLPRegressor``, and such an
estimator back.

scikit-learn's perceptrons compute a wᵀ… the other way round: ``coefs_[i]`` is ``(n_in, n_out)``,
the transpose of bprop's w, and ``intercepts_[i]`` is b.  They have one activation for every
hidden layer (``identity``, ``logistic`` — bprop's sigmoid —, ``tanh``, ``relu``) and an output
activation set by the task: ``softmax`` for a classifier of several classes, ``logistic`` for
a binary or multilabel one, ``identity`` for a regressor.  :func:`to_sklearn` sets every fitted
attribute that ``predict``/``predict_proba`` read; a network that scikit-learn cannot express
(leaky_relu, hidden layers of different activations, several sigmoid outputs read as one
class) is refused, saying why.

No file is written here: scikit-learn's models are saved as pickles, which bprop never writes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bprop.export._layers import UnsupportedModelError, check_builtin, need, network_from_layers
from bprop.network import Network

#: bprop's activation name → scikit-learn's (hidden layers); the output's may also be softmax.
HIDDEN = {"identity": "identity", "sigmoid": "logistic", "tanh": "tanh", "relu": "relu"}
_BPROP = {v: k for k, v in HIDDEN.items()} | {"softmax": "softmax"}
KINDS = ("auto", "classifier", "multilabel", "regressor")


def to_sklearn(net: Network, kind: str = "auto") -> Any:
    """``net`` as a fitted scikit-learn ``MLPClassifier`` or ``MLPRegressor``.

    Parameters
    ----------
    net : Network
    kind : {"auto", "classifier", "multilabel", "regressor"}
        auto: a softmax output (two or more neurons) or one sigmoid output gives an
        ``MLPClassifier`` whose ``predict`` answers as ``net.predict`` does (classes
        ``0 … n_out−1``); several sigmoid outputs are refused (scikit-learn reads them one by
        one, bprop answers the largest: choose multilabel or regressor); other outputs give an
        ``MLPRegressor`` whose ``predict`` returns ``net.feedforward``.  multilabel: sigmoid
        outputs read one by one (each > ½), as scikit-learn's multilabel classifier does.
        regressor: any expressible output, raw.

    Returns
    -------
    MLPClassifier or MLPRegressor
        With ``coefs_`` (w transposed), ``intercepts_``, ``n_layers_``, ``n_outputs_``,
        ``out_activation_``, ``n_features_in_`` and, for classifiers, ``classes_`` set.

    Raises
    ------
    UnsupportedModelError
        When scikit-learn's perceptrons cannot compute what ``net`` does.
    """
    nn = need("sklearn.neural_network", "bprop.export.to_sklearn")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    check_builtin(net, "scikit-learn")
    names = [a.name for a in net.activations]
    hidden, out, n_out = names[:-1], names[-1], net.sizes[-1]
    if len(set(hidden)) > 1:
        raise UnsupportedModelError(
            f"scikit-learn's perceptrons have one activation for all hidden layers; this "
            f"network's are {', '.join(hidden)}"
        )
    for name in [*hidden, out]:
        if name not in HIDDEN and name != "softmax":
            raise UnsupportedModelError(
                f"scikit-learn has no {name} activation (it has identity, logistic, tanh, relu "
                "and a softmax output)"
            )
    classifies = (out == "softmax" and n_out > 1) or (out == "sigmoid" and n_out == 1)
    if kind == "auto":
        # several sigmoid outputs: bprop answers the largest, scikit-learn none of its kinds
        kind = "classifier" if classifies or out == "sigmoid" else "regressor"
    if kind == "classifier" and not classifies:
        raise UnsupportedModelError(
            f"a scikit-learn classifier ends in softmax (two or more classes) or one logistic "
            f"output, not {n_out} {out} output{'s' * (n_out > 1)}"
            + (
                ": several sigmoid outputs are read one by one by its multilabel classifier "
                "(kind='multilabel'), where bprop answers the largest (kind='regressor' gives "
                "the raw outputs)"
                if out == "sigmoid"
                else ""
            )
        )
    if kind == "multilabel" and out != "sigmoid":
        raise UnsupportedModelError(f"a multilabel classifier has sigmoid outputs, not {out}")
    cls = nn.MLPRegressor if kind == "regressor" else nn.MLPClassifier
    model = cls(
        hidden_layer_sizes=tuple(net.sizes[1:-1]),
        activation=HIDDEN[hidden[0] if hidden else "relu"],
    )
    model.coefs_ = [w.T.copy() for w in net.weights]
    model.intercepts_ = [b.copy() for b in net.biases]
    model.n_layers_ = len(net.sizes)
    model.n_outputs_ = n_out
    model.n_features_in_ = net.sizes[0]
    model.out_activation_ = "logistic" if out == "sigmoid" else out
    model.n_iter_ = 0
    model.t_ = 0
    if kind != "regressor":
        preprocessing = need("sklearn.preprocessing", "bprop.export.to_sklearn")
        classes = np.arange(max(n_out, 2))
        binarizer = preprocessing.LabelBinarizer()
        binarizer.fit(np.eye(n_out, dtype=int) if kind == "multilabel" else classes)
        model._label_binarizer = binarizer
        model.classes_ = binarizer.classes_
    return model


def from_sklearn(mlp: Any, cost: str | None = None) -> Network:
    """A Network computing what a fitted ``MLPClassifier`` or ``MLPRegressor`` computes.

    Parameters
    ----------
    mlp : MLPClassifier or MLPRegressor
        Fitted. The network's outputs are in the order of ``mlp.classes_`` (class ``i`` of the
        network is ``mlp.classes_[i]``; a binary classifier has one sigmoid output).
    cost : str, optional
        Default: log-likelihood for a softmax output, cross-entropy for a logistic one (as
        scikit-learn trains them), quadratic for a regressor.

    Raises
    ------
    UnsupportedModelError
        Not a fitted scikit-learn perceptron.
    """
    nn = need("sklearn.neural_network", "bprop.export.from_sklearn")
    if not isinstance(mlp, (nn.MLPClassifier, nn.MLPRegressor)):
        raise UnsupportedModelError(
            f"from_sklearn reads MLPClassifier and MLPRegressor, not {type(mlp).__name__}"
        )
    if not hasattr(mlp, "coefs_"):
        raise UnsupportedModelError(f"the {type(mlp).__name__} is not fitted: fit it first")
    n = len(mlp.coefs_)
    hidden, out = mlp.activation, mlp.out_activation_
    for name in (hidden, out):
        if name not in _BPROP:
            raise UnsupportedModelError(f"bprop has no equivalent of scikit-learn's {name!r}")
    acts = [_BPROP[hidden]] * (n - 1) + [_BPROP[out]]
    if cost is None and isinstance(mlp, nn.MLPRegressor):
        cost = "quadratic"
    weights = [np.asarray(c).T.copy() for c in mlp.coefs_]
    biases = [np.asarray(b).copy() for b in mlp.intercepts_]
    return network_from_layers(weights, biases, acts, cost, f"the {type(mlp).__name__}")
