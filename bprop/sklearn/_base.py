"""scikit-learn estimators over bprop's networks: :class:`BPClassifier` and :class:`BPRegressor`.

Thin wrappers: ``fit`` builds a :class:`bprop.Network` ``[n_features, *hidden_layer_sizes,
n_outputs]`` and trains it with :func:`bprop.train.sgd` — Nielsen's mini-batch SGD with his
η (``eta``), λ (``lmbda``, L2 in the ``(1 − ηλ/n) w`` form) and mini-batch size m
(``batch_size``). One epoch is one iteration: ``max_iter`` is the number of epochs,
``loss_curve_`` the training cost C after each, ``n_iter_`` how many ran. The fitted network is
``network_``.

Defaults
--------
``BPClassifier``: sigmoid hidden layers, a softmax output layer and the log-likelihood cost
(Nielsen ch.3), so ``predict_proba`` returns the softmax outputs; scaled initialisation
w ~ N(0, 1/n_in); η = 0.5, m = 10, 30 epochs. For the book's first network pass
``output_activation="sigmoid", cost="quadratic", init="standard", eta=3.0``.

``BPRegressor``: sigmoid hidden layers, an identity output layer and the quadratic cost
C = 1/(2n) Σ‖y − a‖²; η = 0.05, m = 10, 30 epochs. Targets may be 1-D or one column per
output. Standardise targets of large magnitude (``TransformedTargetRegressor``) for plain SGD.

Like scikit-learn's ``MLPClassifier``, training stops early when the training cost has not
fallen by ``tol`` for ``n_iter_no_change`` epochs (``tol=None`` always runs ``max_iter``
epochs), or, with ``early_stopping=True``, when the score on a held-out ``validation_fraction``
of the data has not risen by ``tol``; the weights of the best validation epoch are then kept.

Scaled inputs
-------------
The estimators use ``X`` as it is, like every scikit-learn estimator: scale it first, with a
pipeline — ``make_pipeline(StandardScaler(), BPClassifier())`` — so that the scaler is fitted
on each training fold only. A sigmoid network learns only while its weighted inputs stay of
order 1; on unscaled features (wine's proline in the hundreds) it saturates at once and ends
near chance. ``fit`` therefore warns (UserWarning) when a feature's root mean square exceeds
3 (:data:`bprop.diagnostics.UNSCALED_RMS`), and a divergence then says the inputs are unscaled.

Weights, warm starts, multilabel
--------------------------------
``fit(X, y, sample_weight=s)`` trains on the weighted cost C = Σ_x s_x C_x / Σ_x s_x
(:func:`bprop.train.sgd`: BP1's δ^(x,L) scaled by ŝ_x = n s_x / Σ s; the fused NumPy step,
as the compiled kernel has no per-example scale). ``BPClassifier(class_weight="balanced")`` or
a dict ``{label: weight}`` multiplies each example's weight by its class's (scikit-learn's
``compute_sample_weight``), which ``MLPClassifier`` does not offer. ``warm_start=True`` makes
``fit`` continue the fitted network for ``max_iter`` more epochs. A ``y`` of 0/1 indicator
columns (multilabel) trains one sigmoid output per label with the cross-entropy cost in place
of the softmax / log-likelihood defaults; ``predict`` returns the indicator matrix (a > ½).
A fit that ran all ``max_iter`` epochs without meeting ``tol`` warns (``ConvergenceWarning``),
as ``MLPClassifier`` does. ``coefs_``/``intercepts_`` give the weights in scikit-learn's
orientation ``(n_in, n_out)`` (``network_.weights`` are ``(n_out, n_in)``, Nielsen's).
A sparse ``X`` (SciPy CSR, or any format, converted to CSR) is never densified whole: SGD
densifies one mini-batch at a time (:func:`bprop.train.sgd`, the fused step) and prediction
:data:`CHUNK` rows at a time.

Importing this module needs scikit-learn: ``pip install "bprop[sklearn]"``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.class_weight import compute_sample_weight
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import (
        _check_sample_weight,
        check_is_fitted,
        column_or_1d,
        validate_data,
    )
except ImportError as e:  # pragma: no cover - exercised with scikit-learn absent
    raise ImportError(
        'bprop.sklearn needs scikit-learn 1.6 or later: pip install "bprop[sklearn]"'
    ) from e

from bprop.backprop import decide
from bprop.errors import DivergenceError
from bprop.network import Network
from bprop.sklearn._support import (
    _Monitor,
    _network_from_state,
    _network_state,
    _PrintLoss,
    _require,
    _unscaled_feature,
)
from bprop.train import Callback, TrainState, schedule, sgd

__all__ = ["BPClassifier", "BPRegressor"]

Array = np.ndarray
#: scikit-learn's names for bprop's output activations (MLPClassifier's ``out_activation_``).
_SKLEARN_NAMES = {"sigmoid": "logistic"}
#: Rows of a sparse X densified at once to predict (training densifies one mini-batch).
CHUNK = 1024
_NO_Y = object()  # marks "no y given" apart from y=None, which validate_data must reject


class _BPEstimator(BaseEstimator):
    """What the classifier and the regressor share: building, training and early stopping.

    Subclasses validate ``y`` and turn it into the network's targets in ``fit`` and
    ``partial_fit``, and score a validation set (:meth:`_validation_score`).
    """

    # -- fitting --------------------------------------------------------------------------------

    def _fit(self, X: Array, T: Array, n_outputs: int, sw: Array | None = None) -> _BPEstimator:
        """Train a network on inputs ``X`` ``(n, n_features)``, targets ``T`` and example
        weights ``sw`` (or None): a fresh one, or with ``warm_start`` the fitted one."""
        self._check_params()
        self._unscaled = _unscaled_feature(X, type(self).__name__)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        warm = self.warm_start and hasattr(self, "network_")
        if warm and self.network_.sizes[0] != X.shape[1]:
            raise ValueError(
                f"warm_start: X has {X.shape[1]} features, the fitted network takes "
                f"{self.network_.sizes[0]}"
            )
        if not warm:
            self._build(X.shape[1], n_outputs, seed)
            self.loss_curve_: list[float] = []
            self.n_iter_, self.t_ = 0, 0
        X_val = T_val = sw_val = None
        if self.early_stopping:
            split = [X, T] if sw is None else [X, T, sw]
            parts = train_test_split(
                *split,
                test_size=self.validation_fraction,
                random_state=seed,
                stratify=T if self._can_stratify(T) else None,
            )
            X, X_val, T, T_val = parts[:4]
            if sw is not None:
                sw, sw_val = parts[4:]
        monitor = _Monitor(self, X_val, T_val, sw_val)
        history = self._sgd(X, T, self.n_iter_ + self.max_iter, [monitor], sw)
        self.loss_curve_ = [*self.loss_curve_, *history.column("train_cost")]
        self.n_iter_ += len(history.epochs)
        self.t_ += X.shape[0] * len(history.epochs)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else None
        if history.status == "completed" and self.tol is not None:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if self.early_stopping:
            self.validation_scores_ = monitor.scores
            self.best_validation_score_ = monitor.best_score
            assert monitor.best_parameters is not None  # kept after every epoch's first score
            self.network_.weights, self.network_.biases = monitor.best_parameters
        else:
            self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else None
        return self

    def _partial_fit(
        self, X: Array, T: Array, n_outputs: int, sw: Array | None = None
    ) -> _BPEstimator:
        """One epoch over ``(X, T)``, continuing the network (built on the first call)."""
        if not hasattr(self, "network_"):
            self._unscaled = _unscaled_feature(X, type(self).__name__)
            self._check_params()
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            self._build(X.shape[1], n_outputs, seed)
            self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
        history = self._sgd(X, T, self.n_iter_ + 1, [], sw)
        self.loss_curve_ = [*self.loss_curve_, *history.column("train_cost")]
        self.n_iter_ += len(history.epochs)
        self.t_ += X.shape[0] * len(history.epochs)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else None
        return self

    def _check_partial_fit(self) -> None:
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")

    def _weights(self, sample_weight: Any, X: Array) -> Array | None:
        """scikit-learn's checks of ``sample_weight`` (float64, ≥ 0); None when all equal."""
        if sample_weight is None:
            return None
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if not np.any(sw > 0):
            raise ValueError(
                "sample_weight: every weight is zero; give at least one non-zero weight"
            )
        # Equal weights give the unweighted cost: train it exactly so (any engine).
        return None if np.all(sw == sw[0]) else sw

    # -- scikit-learn's view of the network ------------------------------------------------------

    @property
    def coefs_(self) -> list[Array]:
        """The weights as scikit-learn holds them: ``coefs_[i]`` is ``(n_in, n_out)``, the
        transpose of bprop's ``network_.weights[i]`` ``(n_out, n_in)``, so z = a·coefs_ + b."""
        check_is_fitted(self, "network_")
        return [w.T for w in self.network_.weights]

    @property
    def intercepts_(self) -> list[Array]:
        """The biases b^l, ``(n_l,)`` each (the same arrays as ``network_.biases``)."""
        check_is_fitted(self, "network_")
        return list(self.network_.biases)

    @property
    def n_layers_(self) -> int:
        """Layers, input and output included (as MLPClassifier counts them)."""
        check_is_fitted(self, "network_")
        return len(self.network_.sizes)

    @property
    def out_activation_(self) -> str:
        """The output layer's activation by scikit-learn's name ("logistic" for sigmoid)."""
        check_is_fitted(self, "network_")
        name = self.network_.activations[-1].name
        return _SKLEARN_NAMES.get(name, name)

    def _can_stratify(self, T: Array) -> bool:
        """Whether the validation split can hold every class in proportion (classifiers)."""
        if not is_classifier(self) or T.ndim != 1:
            return False
        counts = np.bincount(T)
        n_val = int(np.ceil(self.validation_fraction * len(T)))
        return counts.min() >= 2 and len(counts) <= min(n_val, len(T) - n_val)

    def _build(self, n_features: int, n_outputs: int, seed: int) -> None:
        hidden = self.hidden_layer_sizes
        sizes = [n_features, *((hidden,) if isinstance(hidden, numbers.Integral) else hidden)]
        sizes.append(n_outputs)
        output, cost = self.output_activation, self.cost
        if getattr(self, "_multilabel", False):
            # Independent labels: one sigmoid per label, not a distribution over classes.
            output = "sigmoid" if output in (None, "softmax") else output
            cost = "cross-entropy" if cost in ("log-likelihood", "log_likelihood", "nll") else cost
        self.network_ = Network(
            sizes,
            self.activation,
            cost,
            output_activation=output,
            init=self.init,
            dtype=self.dtype,
            seed=seed,
        )
        # Each epoch's order is a pure function of (seed, epoch): partial_fit continues it.
        self._train_state = TrainState(seed=seed)

    def _sgd(
        self, X: Array, T: Array, epochs: int, callbacks: list[Callback], sw: Array | None
    ) -> Any:
        """Run :func:`bprop.train.sgd` up to epoch ``epochs`` from where training stands."""
        if self.verbose:
            callbacks = [*callbacks, _PrintLoss()]
        try:
            return self._sgd_unchecked(X, T, epochs, callbacks, sw)
        except DivergenceError as e:
            message = str(e)  # its η advice is one the core tried (bprop.train)
            if getattr(self, "_unscaled", None) is not None:
                message = f"{message} {self._unscaled}"
            raise DivergenceError(message, e.history) from None

    def _sgd_unchecked(
        self, X: Array, T: Array, epochs: int, callbacks: list[Callback], sw: Array | None
    ) -> Any:
        return sgd(
            self.network_,
            X,
            T,
            epochs,
            min(self.batch_size, X.shape[0]),  # as MLPClassifier: m is clipped to n
            schedule(self.schedule, float(self.eta), self.max_iter),
            lmbda=float(self.lmbda),
            momentum=float(self.momentum),
            optimizer=self.optimizer,
            l1=self.l1,
            max_norm=self.max_norm,
            dropout=self.dropout,
            augment=self._augmenter(X.shape[1]),
            shuffle=self.shuffle,
            callbacks=callbacks,
            state=self._train_state,
            sample_weight=sw,
        )

    def _augmenter(self, n_features: int) -> Any:
        """The ``augment(X, rng)`` of the ``augment`` spec, for square images, or None."""
        if self.augment is None:
            return None
        from bprop.augment import augmenter

        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"augment={self.augment!r} distorts square images; X has {n_features} features, "
                "which is no square number of pixels (MNIST's 28×28 images have 784)"
            )
        return augmenter(self.augment, (side, side))

    def _check_params(self) -> None:
        """Validate what the network and sgd() do not check themselves (at fit, not init)."""
        hidden = self.hidden_layer_sizes
        if isinstance(hidden, numbers.Integral):
            hidden = (hidden,)
        if not all(isinstance(h, numbers.Integral) and int(h) >= 1 for h in hidden):
            raise ValueError(
                f"hidden_layer_sizes must list positive widths, e.g. (30,) or (100, 30); "
                f"got {self.hidden_layer_sizes!r}"
            )
        _require(self.eta, "eta", "the learning rate η", low=0, strict=True)
        _require(self.batch_size, "batch_size", "the mini-batch size m", low=1, integral=True)
        _require(self.max_iter, "max_iter", "the number of epochs", low=1, integral=True)
        _require(self.n_iter_no_change, "n_iter_no_change", "the patience", low=1, integral=True)
        if self.tol is not None:
            _require(self.tol, "tol", "the improvement tolerance", low=0)
        if self.early_stopping and not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}"
            )

    def _inputs(self, X: Any, reset: bool, y: Any = _NO_Y, **kw: Any) -> Any:
        """validate_data at the boundary: X ``(n, n_features)`` as the network's float dtype."""
        dtype = np.dtype(self.dtype).type
        if y is _NO_Y:
            return validate_data(self, X, reset=reset, dtype=dtype, accept_sparse="csr")
        return validate_data(self, X, y, reset=reset, dtype=dtype, accept_sparse="csr", **kw)

    def _forward(self, X: Any) -> Array:
        """a^L for each row of ``X``; a sparse X is densified :data:`CHUNK` rows at a time."""
        if isinstance(X, np.ndarray):
            return self.network_.feedforward(X)
        parts = [
            self.network_.feedforward(X[i : i + CHUNK].toarray())
            for i in range(0, X.shape[0], CHUNK)
        ]
        return np.concatenate(parts) if parts else self.network_.feedforward(X.toarray())

    # Pickle the network by the names of its activations and cost: the registered objects
    # hold functions that the standard pickle cannot always find by name.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # a copy: it may be the instance dict itself
        if isinstance(state.get("network_"), Network):
            state["network_"] = _network_state(state["network_"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("network_"), dict):
            state = {**state, "network_": _network_from_state(state["network_"])}
        super().__setstate__(state)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        return tags


class BPClassifier(ClassifierMixin, _BPEstimator):
    """A fully connected network classifier trained by bprop's mini-batch SGD.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (30,)
        Widths of the hidden layers; the input and output layers come from the data.
    activation : str, default "sigmoid"
        σ of the hidden layers: sigmoid, tanh, relu, leaky_relu or identity.
    output_activation : str, default "softmax"
        σ of the output layer (one neuron per class, two for a binary problem).
    cost : str, default "log-likelihood"
        quadratic, cross-entropy or log-likelihood (the last two need sigmoid/softmax outputs).
    init : str, default "scaled"
        standard, scaled, glorot or he (see :class:`bprop.Network`).
    eta : float, default 0.5
        The learning rate η.
    lmbda : float, default 0.0
        λ of L2 regularisation, applied as ``w → (1 − ηλ/n) w`` with n the training-set size.
    momentum : float, default 0.0
        μ in [0, 1).
    optimizer : str, default "sgd"
        sgd (the book's), nesterov (with ``momentum``), adam or adamw (see
        :mod:`bprop.optimizers`; Adam wants a small ``eta``, e.g. 0.001).
    l1 : float, default 0.0
        λ₁ of L1 regularisation, (λ₁/n) Σ|w| added to the cost.
    max_norm : float or None, default None
        c of the max-norm constraint on each neuron's incoming weights.
    dropout : float, sequence of float or None, default None
        Inverted dropout: the hidden layers' rate, or one rate per layer before the output,
        input first (off in ``predict``).
    augment : str or None, default None
        Expanded training data (:mod:`bprop.augment`): each epoch trains on freshly
        distorted copies of the training images, e.g. ``"shift"``, ``"affine,elastic"`` or
        ``"shift:3,elastic:6:34"`` (``flip`` for clothes). The rows of ``X`` must be square
        images (784 features: 28×28); the validation split of ``early_stopping`` is not
        distorted.
    batch_size : int, default 10
        The mini-batch size m (clipped to the number of examples).
    max_iter : int, default 30
        The number of epochs.
    schedule : str, default "constant"
        η schedule: constant, cosine or step:EVERY:FACTOR.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data (stratified), stop when its accuracy has
        not risen by ``tol`` for ``n_iter_no_change`` epochs, and keep the best epoch's weights.
    validation_fraction : float, default 0.1
    n_iter_no_change : int, default 10
    tol : float or None, default 1e-4
        None disables stopping before ``max_iter``.
    shuffle : bool, default True
        Shuffle the examples every epoch.
    random_state : int, RandomState or None
        Seeds the initial weights, the shuffling and the validation split.
    dtype : {"float64", "float32"}, default "float64"
    verbose : bool, default False
        Print the training cost after each epoch.
    warm_start : bool, default False
        Let ``fit`` continue the fitted network for ``max_iter`` more epochs (same classes and
        features) instead of starting from fresh weights.
    class_weight : "balanced", dict or None, default None
        Weigh each example's cost by its class's weight: ``"balanced"`` gives class c the
        weight n / (n_classes · n_c); a dict maps labels to weights. Multiplies
        ``sample_weight``.

    Attributes
    ----------
    classes_ : array ``(n_classes,)``
        The sorted class labels; output neuron j stands for ``classes_[j]``.
    n_features_in_ : int
    network_ : bprop.Network
    loss_curve_ : list of float
        The training cost after each epoch.
    n_iter_ : int
        Epochs run.
    validation_scores_, best_validation_score_ : with ``early_stopping``
        Accuracy on the held-out set after each epoch, and the best one.
    best_loss_ : float
        Without ``early_stopping``: the lowest training cost.
    loss_ : float
        The training cost of the last epoch.
    t_ : int
        Training examples seen (epochs × examples, over warm starts and ``partial_fit``).
    coefs_, intercepts_ : lists of arrays
        The weights ``(n_in, n_out)`` (scikit-learn's orientation: ``network_.weights``
        transposed) and biases ``(n_out,)`` of each layer.
    n_layers_ : int
        Layers, input and output included.
    out_activation_ : str
        The output activation by scikit-learn's name ("logistic" for sigmoid).
    """

    classes_: np.ndarray  # set by fit and partial_fit
    _multilabel: bool

    def __init__(
        self,
        hidden_layer_sizes: Any = (30,),
        activation: str = "sigmoid",
        output_activation: str | None = "softmax",
        cost: str = "log-likelihood",
        init: str = "scaled",
        eta: float = 0.5,
        lmbda: float = 0.0,
        momentum: float = 0.0,
        optimizer: str = "sgd",
        l1: float = 0.0,
        max_norm: float | None = None,
        dropout: Any = None,
        augment: str | None = None,
        batch_size: int = 10,
        max_iter: int = 30,
        schedule: str = "constant",
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float | None = 1e-4,
        shuffle: bool = True,
        random_state: Any = None,
        dtype: str = "float64",
        verbose: bool = False,
        warm_start: bool = False,
        class_weight: Any = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.cost = cost
        self.init = init
        self.eta = eta
        self.lmbda = lmbda
        self.momentum = momentum
        self.optimizer = optimizer
        self.l1 = l1
        self.max_norm = max_norm
        self.dropout = dropout
        self.augment = augment
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.schedule = schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose
        self.warm_start = warm_start
        self.class_weight = class_weight

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BPClassifier:
        """Train on ``X`` ``(n, n_features)`` and labels ``y`` ``(n,)`` (any sortable labels),
        or a 0/1 indicator matrix ``(n, n_labels)`` (multilabel); ``sample_weight`` ``(n,)``
        weighs each example's cost C_x."""
        X, y = self._inputs(X, reset=True, y=y, multi_output=True)
        check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        if y.ndim == 2 and y.shape[1] == 1 and not multilabel:
            y = column_or_1d(y, warn=True)  # a column of labels: DataConversionWarning, as sklearn
        if y.ndim == 2 and not multilabel:
            raise ValueError(
                "y must be 1-D class labels or a 0/1 indicator matrix (multilabel); "
                f"got {y.shape[1]} columns of {type_of_target(y)} targets"
            )
        if multilabel:
            classes, T = np.arange(y.shape[1]), y.astype(X.dtype)
        else:
            classes = self._classes(np.unique(y))
            T = np.searchsorted(classes, y)
        warm = self.warm_start and hasattr(self, "network_")
        if warm and (multilabel != self._multilabel or not np.array_equal(classes, self.classes_)):
            raise ValueError(
                f"warm_start: y has classes {classes!r}, the fitted network "
                f"{self.classes_!r}; fit with warm_start=False to start again"
            )
        self.classes_, self._multilabel = classes, multilabel
        sw = self._weights(sample_weight, X)
        if self.class_weight is not None:
            # Multilabel: the product over labels of each label's weight for its 0 or 1.
            by_class = compute_sample_weight(self.class_weight, y)
            sw = by_class if sw is None else sw * by_class
        return self._fit(X, T, len(self.classes_), sw)

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> BPClassifier:
        """One epoch of SGD over ``(X, y)``; pass every label in ``classes`` on the first call."""
        self._check_partial_fit()
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        X, y = self._inputs(X, reset=first, y=y)
        check_classification_targets(y)
        if first:
            self.classes_ = self._classes(np.unique(np.asarray(classes)))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={classes!r} differs from the classes of the first partial_fit call, "
                f"{self.classes_!r}"
            )
        unseen = ~np.isin(y, self.classes_)
        if unseen.any():
            raise ValueError(
                f"y holds labels not in classes: {np.unique(y[unseen])!r}; pass every label "
                "in classes= on the first call"
            )
        if first:
            self._multilabel = False
        elif self._multilabel:
            raise ValueError("partial_fit takes class labels; fit the multilabel network with fit")
        sw = self._weights(sample_weight, X)
        return self._partial_fit(X, np.searchsorted(self.classes_, y), len(self.classes_), sw)

    def predict(self, X: Any) -> Array:
        """The predicted label of each row of ``X``: the class of the most activated output."""
        check_is_fitted(self)
        X = self._inputs(X, reset=False)
        if self._multilabel:
            return (self._forward(X) > 0.5).astype(np.int64)  # (n, n_labels)
        return self.classes_[decide(self._forward(X))]

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities ``(n, n_classes)``, columns in the order of ``classes_``.

        Softmax outputs are returned as they are. Other outputs (e.g. the book's sigmoid
        layer) are normalised so each row sums to 1, after shifting rows with negative
        outputs (tanh, identity) up by their minimum; a row of equal outputs is uniform.
        """
        check_is_fitted(self)
        a = self._forward(self._inputs(X, reset=False))  # (n, n_classes)
        if self.network_.activations[-1].name == "softmax" or self._multilabel:
            return a  # multilabel: each label's own probability, as MLPClassifier
        a = a - np.minimum(a.min(axis=1, keepdims=True), 0)
        total = a.sum(axis=1, keepdims=True)
        uniform = np.full_like(a, 1.0 / a.shape[1])
        return np.divide(a, total, out=uniform, where=total > 0)

    def predict_log_proba(self, X: Any) -> Array:
        """The logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _classes(self, classes: Array) -> Array:
        if len(classes) < 2:
            raise ValueError(
                f"BPClassifier needs at least 2 classes in y, got one class: {classes!r}"
            )
        return classes

    def _validation_score(self, X: Array, labels: Array, sw: Array | None = None) -> float:
        if self._multilabel:
            predicted = (self._forward(X) > 0.5).astype(labels.dtype)
        else:
            predicted = decide(self._forward(X))
        return float(accuracy_score(labels, predicted, sample_weight=sw))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = True
        return tags


class BPRegressor(RegressorMixin, _BPEstimator):
    """A fully connected network regressor trained by bprop's mini-batch SGD.

    The parameters are those of :class:`BPClassifier`, with regression defaults: an identity
    output layer (one neuron per target), the quadratic cost and η = 0.05. With
    ``early_stopping`` the validation score is R² and the split is not stratified.

    Attributes
    ----------
    n_features_in_ : int
    n_outputs_ : int
        Number of targets (columns of ``y``; 1 for a 1-D ``y``).
    network_, loss_curve_, n_iter_, validation_scores_, best_validation_score_, best_loss_
        As for :class:`BPClassifier`; so are ``loss_``, ``t_``, ``coefs_``, ``intercepts_``,
        ``n_layers_`` and ``out_activation_``. (``class_weight`` is the classifier's only.)
    """

    def __init__(
        self,
        hidden_layer_sizes: Any = (30,),
        activation: str = "sigmoid",
        output_activation: str | None = "identity",
        cost: str = "quadratic",
        init: str = "scaled",
        eta: float = 0.05,
        lmbda: float = 0.0,
        momentum: float = 0.0,
        optimizer: str = "sgd",
        l1: float = 0.0,
        max_norm: float | None = None,
        dropout: Any = None,
        augment: str | None = None,
        batch_size: int = 10,
        max_iter: int = 30,
        schedule: str = "constant",
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float | None = 1e-4,
        shuffle: bool = True,
        random_state: Any = None,
        dtype: str = "float64",
        verbose: bool = False,
        warm_start: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.cost = cost
        self.init = init
        self.eta = eta
        self.lmbda = lmbda
        self.momentum = momentum
        self.optimizer = optimizer
        self.l1 = l1
        self.max_norm = max_norm
        self.dropout = dropout
        self.augment = augment
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.schedule = schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose
        self.warm_start = warm_start

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BPRegressor:
        """Train on ``X`` ``(n, n_features)`` and targets ``y`` ``(n,)`` or ``(n, n_outputs)``;
        ``sample_weight`` ``(n,)`` weighs each example's cost C_x."""
        warm = self.warm_start and hasattr(self, "network_")
        n_outputs = self.n_outputs_ if warm else None
        X, T = self._targets(X, y, reset=True)
        if warm and T.shape[1] != n_outputs:
            raise ValueError(
                f"warm_start: y has {T.shape[1]} targets per row, expected {n_outputs}"
            )
        return self._fit(X, T, self.n_outputs_, self._weights(sample_weight, X))

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> BPRegressor:
        """One epoch of SGD over ``(X, y)``, continuing from the previous call."""
        self._check_partial_fit()
        first = not hasattr(self, "network_")
        X, T = self._targets(X, y, reset=first)
        if not first and T.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {T.shape[1]} targets per row, expected {self.n_outputs_}")
        return self._partial_fit(X, T, self.n_outputs_, self._weights(sample_weight, X))

    def predict(self, X: Any) -> Array:
        """The network's output a^L for each row: ``(n,)``, or ``(n, n_outputs)`` if fitted so."""
        check_is_fitted(self)
        a = self._forward(self._inputs(X, reset=False))  # (n, n_outputs)
        a = a.astype(np.float64, copy=False)  # float64 predictions whatever the network's dtype
        return a[:, 0] if self._y_1d else a

    def _targets(self, X: Any, y: Any, reset: bool) -> tuple[Array, Array]:
        X, y = self._inputs(X, reset=reset, y=y, multi_output=True, y_numeric=True)
        if reset:
            self._y_1d = y.ndim == 1
        T = y.reshape(len(y), -1).astype(X.dtype, copy=False)  # (n, n_outputs)
        if reset:
            self.n_outputs_ = T.shape[1]
        return X, T

    def _validation_score(self, X: Array, T: Array, sw: Array | None = None) -> float:
        return float(r2_score(T, self._forward(X), sample_weight=sw))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
