"""``bprop train``: train a network by mini-batch SGD and keep the run in a run folder.

:func:`add_parser` declares the flags, :func:`run` trains: it builds the network, trains it
through :meth:`bprop.network.Network.SGD` with callbacks that draw the progress bar, record
diagnostics and save a checkpoint after every epoch, and stops cleanly on Ctrl-C (resume with
``--resume``).  The math stays in :mod:`bprop.train`; this module only wires it to the terminal
and the files.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from bprop.cli._common import (
    EXIT_DIVERGED,
    EXIT_INTERRUPTED,
    add_data_flags,
    int_list,
    load_data,
    non_negative,
    positive,
    seed,
)
from bprop.cli._terminal import Reporter, StopOnSignal, count

if TYPE_CHECKING:
    from bprop.network import Network
    from bprop.runs import RunFolder
    from bprop.train import History, TrainState

TRAIN_DEFAULTS: dict[str, Any] = {
    "dataset": "mnist",
    "data_dir": None,
    "sizes": None,
    "activation": "sigmoid",
    "output_activation": None,
    "cost": "quadratic",
    "init": "standard",
    "dtype": "float64",
    "eta": 3.0,
    "schedule": "constant",
    "lmbda": 0.0,
    "momentum": 0.0,
    "epochs": 30,
    "batch_size": 10,
    "seed": None,
    "limit": None,
    "eval_on": "test",
    "shuffle": True,
    "update_biases": True,
    "engine": "auto",
    "flush_subnormals": False,
    "header": "auto",
    "scale": "auto",
    "optimizer": "sgd",
    "l1": 0.0,
    "max_norm": None,
    "dropout": None,
    "early_stop": None,
    "augment": None,
}
# What a run folder without these keys used (written before bprop scaled CSV / npz features).
_OLD_RUN_DEFAULTS = {"scale": "none"}
# --engine → sgd's `compiled`; "numba" is what run folders of the earlier numba engine say.
_ENGINES = {"auto": None, "compiled": True, "numba": True, "numpy": False}
# The compiled kernel's versions as its README names them.
_ISA_NAMES = {"avx512": "AVX-512", "avx2": "AVX2", "generic": "baseline x86-64 or portable C"}
# Mini-batches between progress-bar updates and Ctrl-C checks in the compiled engine (the
# NumPy engines report every mini-batch).
PROGRESS_EVERY = 50


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train",
        help="train a network (default: the book's 784-30-10 on MNIST)",
        description=(
            "Train a network by mini-batch SGD. With no options: the book's network, "
            "784-30-10, sigmoid, quadratic cost, η = 3.0, mini-batch 10, 30 epochs, on MNIST."
        ),
    )
    d = TRAIN_DEFAULTS
    p.add_argument(
        "--dataset",
        default=d["dataset"],
        help="mnist, fashion-mnist, csv:PATH or npz:PATH (default: mnist)",
    )
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/ (searched first)")
    add_data_flags(p)
    p.add_argument(
        "--sizes",
        type=int_list,
        help="layer sizes, input first (default: INPUTS,30,CLASSES e.g. 784,30,10)",
    )
    p.add_argument(
        "--activation",
        default=d["activation"],
        help="sigmoid, tanh, relu, leaky_relu or identity (default: sigmoid)",
    )
    p.add_argument(
        "--output-activation",
        help="activation of the output layer, e.g. softmax (default: as --activation)",
    )
    p.add_argument(
        "--cost",
        default=d["cost"],
        help="quadratic, cross-entropy or log-likelihood (default: quadratic)",
    )
    p.add_argument(
        "--init",
        default=d["init"],
        help="standard, scaled, glorot or he (default: standard, N(0,1))",
    )
    p.add_argument("--dtype", default=d["dtype"], choices=["float64", "float32"])
    p.add_argument(
        "--engine",
        default=d["engine"],
        choices=["auto", "compiled", "numpy"],
        help="the training step: compiled C (fastest for small networks), NumPy's, or auto: "
        "compiled when bprop's C kernel is built and the matrices are small (default: auto)",
    )
    p.add_argument(
        "--eta", type=positive(float), default=d["eta"], help="learning rate η (default: 3.0)"
    )
    p.add_argument(
        "--schedule",
        default=d["schedule"],
        help="η schedule: constant, cosine, step:EVERY:FACTOR or plateau:N:FACTOR (η times "
        "FACTOR when accuracy stalls N epochs, until η falls to 1/128 of its start; needs "
        "--eval-on validation)",
    )
    p.add_argument(
        "--optimizer",
        default=d["optimizer"],
        help="sgd (the book's, default), nesterov (with --momentum), adam or adamw "
        "(adam:BETA1:BETA2:EPS sets Adam's constants; adamw decays by --lmbda, decoupled)",
    )
    p.add_argument(
        "--l1", type=non_negative(float), default=d["l1"], help="L1 regularisation λ₁ (default: 0)"
    )
    p.add_argument(
        "--max-norm",
        type=positive(float),
        help="max-norm c: each neuron's incoming weights kept to a Euclidean norm ≤ c",
    )
    p.add_argument(
        "--dropout",
        type=rate_list,
        help="dropout rate of the hidden layers (0.5), or one rate per layer before the output, "
        "input first (0.2,0.5,0.5)",
    )
    p.add_argument(
        "--early-stop",
        type=positive(int),
        metavar="N",
        help="stop when validation accuracy has not improved for N epochs (needs --eval-on "
        "validation)",
    )
    p.add_argument(
        "--augment",
        help="expand the training images each epoch: shift, affine, elastic, flip, comma-separated "
        "(shift:PIXELS, affine:DEGREES:SCALE:SHEAR, elastic:SIGMA:ALPHA, flip:SHARE)",
    )
    p.add_argument(
        "--lmbda",
        type=non_negative(float),
        default=d["lmbda"],
        help="L2 regularisation λ (default: 0)",
    )
    p.add_argument(
        "--momentum",
        type=non_negative(float),
        default=d["momentum"],
        help="momentum μ in [0, 1) (default: 0)",
    )
    p.add_argument("--epochs", type=positive(int), default=_DefaultEpochs(d["epochs"]))
    p.add_argument(
        "--batch-size",
        type=positive(int),
        default=d["batch_size"],
        help="mini-batch size m (default: 10)",
    )
    p.add_argument("--seed", type=seed, help="seed of the weights and the shuffling")
    p.add_argument(
        "--limit",
        type=positive(int),
        help="train on the first N training examples only (for quick runs)",
    )
    p.add_argument(
        "--eval-on",
        choices=["test", "validation"],
        default=d["eval_on"],
        help="which set the per-epoch line counts (default: test, as the book)",
    )
    p.add_argument(
        "--no-shuffle",
        dest="shuffle",
        action="store_false",
        help="keep the training data's order in every epoch",
    )
    p.add_argument(
        "--fixed-biases",
        dest="update_biases",
        action="store_false",
        help="never update the biases (as the seeds' program does)",
    )
    p.add_argument(
        "--flush-subnormals",
        action="store_true",
        help="flush numbers below 1e-38 (float32) / 1e-308 (float64) to zero while training: "
        "faster where saturated sigmoids make such numbers, results differ only there",
    )
    p.add_argument("--out", help="run folder to write (default: runs/<timestamp>)")
    p.add_argument("--resume", metavar="RUN", help="continue an interrupted run from its folder")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="train into an --out folder that holds another run, removing that run's files",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--no-diagnostics",
        action="store_true",
        help="do not record diagnostics.json (per-layer learning speed, saturation, warnings)",
    )
    p.add_argument("--plot", action="store_true", help="draw the run's figures at the end")
    p.add_argument("--report", action="store_true", help="write RUN/report.html at the end")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """``bprop train``: the run holds its folder's lock from before it reads the folder (a
    resumed run) or from when it makes it (a new one) until it has written its last file."""
    if args.resume and args.overwrite:
        raise ValueError("--overwrite makes a new run; it cannot go with --resume")
    with contextlib.ExitStack() as held:
        return _run(args, held)


def _new_folder(args: argparse.Namespace, config: dict[str, Any], held: Any) -> Any:
    """The new run's folder, made (and locked) only once everything was checked: ``--out``,
    or ``runs/<timestamp>-<random>``, made exclusively, so that runs started in the same second
    cannot share one."""
    from bprop import runs

    if args.out:
        folder = runs.RunFolder(args.out)
        held.enter_context(folder.lock())
        folder.create(config, overwrite=args.overwrite)
        return folder
    for _ in range(100):
        folder = runs.RunFolder(runs.new_run_path())
        try:
            folder.create(config, exclusive=True)
        except FileExistsError:
            continue
        held.enter_context(folder.lock())
        return folder
    raise FileExistsError(f"could not make a new run folder in {runs.RUNS}: give --out")


class _DefaultEpochs(int):
    """``--epochs``' default, told apart from an ``--epochs`` the user gave (with --resume)."""


def _resumed_config(args: argparse.Namespace, config: dict[str, Any], state: Any) -> dict[str, Any]:
    """The resumed run's config: config.json's, checked as a new run's flags are.  The only
    flag that may change it is ``--epochs`` (to train on past the planned end); any other
    training flag given with ``--resume`` is refused, since the run goes on as it began."""
    from bprop._schema import check_config

    given = [k for k in TRAIN_DEFAULTS if k != "epochs" and getattr(args, k) != TRAIN_DEFAULTS[k]]
    extend = not isinstance(args.epochs, _DefaultEpochs)
    if args.out:
        given.insert(0, "out")
    if given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise ValueError(
            f"--resume continues the run with the settings in its config.json; {flags} would "
            "change it (only --epochs may, to train longer): start a new run instead"
        )
    if extend:
        if args.epochs < state.epoch + (state.batch > 0):
            raise ValueError(
                f"--epochs {args.epochs} with --resume: the run is already in epoch {state.epoch}"
            )
        config["epochs"] = args.epochs
    return check_config(config, f"{args.resume}/config.json")


def _check_same_data(config: dict[str, Any], data: Any, new: bool) -> None:
    """Record the digest of a csv:/npz: file in a new run's config; on resume, refuse a file
    that has changed since (the checkpoint's weights were learnt from the recorded one)."""
    from bprop import datasets

    if config["dataset"].partition(":")[0].lower() not in datasets.FILE_KINDS:
        return
    recorded = config.get("data_digest")
    if new:
        config["data_digest"] = data.digest
    elif recorded is not None and recorded != data.digest:  # runs before 0.1 recorded none
        path = config["dataset"].partition(":")[2]
        raise ValueError(
            f"{path} has changed since this run began training on it (SHA-256 "
            f"{data.digest}… now, {recorded}… then): put back the file it trained on, or "
            "start a new run on the new file"
        )


def _run(args: argparse.Namespace, held: contextlib.ExitStack) -> int:
    from bprop import datasets, runs
    from bprop.errors import DivergenceError
    from bprop.network import Network
    from bprop.train import Callback, History, check_hyperparameters, schedule

    folder: RunFolder | None
    net: Network | None
    state: TrainState | None
    history: History | None
    if args.resume:
        folder = runs.RunFolder(args.resume)
        held.enter_context(folder.lock())
        saved, net, state, history = folder.reopen()
        config = _resumed_config(args, TRAIN_DEFAULTS | _OLD_RUN_DEFAULTS | saved, state)
        print(
            f"Resuming {folder.path} at epoch {state.epoch}, mini-batch {state.batch}", flush=True
        )
    else:
        config = {k: getattr(args, k) for k in TRAIN_DEFAULTS}
        if config["seed"] is None:
            config["seed"] = cast(int, np.random.SeedSequence().entropy) % (2**31)
        config["run_id"] = runs.new_run_id()  # the checkpoint carries it: resume checks it
        # csv:/npz: files by absolute path: evaluate, plot and resume find them from anywhere
        config["dataset"] = datasets.file_spec(config["dataset"])
        folder = None  # made once everything is checked (_new_folder)
        net = state = history = None

    data = load_data(
        config["dataset"],
        config["data_dir"],
        np.dtype(config["dtype"]).type,
        header=config["header"],
        scale=config["scale"],
    )
    _check_same_data(config, data, new=not args.resume)
    X, y = data.train.X, data.train.y
    if config["limit"]:
        X, y = X[: config["limit"]], y[: config["limit"]]
    evaluation = data.validation if config["eval_on"] == "validation" else data.test
    if evaluation is None:
        raise ValueError(f"{config['dataset']} has no {config['eval_on']} set")
    if net is None:
        if config["sizes"] is None:
            config["sizes"] = [data.n_features, 30, data.n_classes]
        _check_sizes_fit(config["sizes"], data)
        net = Network(
            config["sizes"],
            config["activation"],
            config["cost"],
            output_activation=config["output_activation"],
            init=config["init"],
            dtype=config["dtype"],
            seed=config["seed"],
        )
        _check_pairing(net)
        history = History()
    eta = schedule(config["schedule"], config["eta"], config["epochs"])
    techniques = _techniques(config, eta, data)
    check_hyperparameters(
        config["epochs"], config["batch_size"], len(X), eta, config["lmbda"], config["momentum"]
    )
    if folder is None:
        folder = _new_folder(args, config, held)
    out: RunFolder = folder  # for the callback below
    meta = {
        "training": config,
        "dataset": {
            "name": data.name,
            "digest": data.digest,
            "class_names": list(data.class_names),
        },
    }
    if config["dataset"].partition(":")[0] in datasets.FILE_KINDS:
        meta["dataset"]["path"] = config["dataset"].partition(":")[2]
    if data.scaling is not None:  # evaluate, predict and plot apply the very same transform
        meta["scaling"] = data.scaling.to_dict()
    n_batches = -(-len(X) // config["batch_size"])
    reporter = Reporter(n_batches, show_bar=not args.no_progress)
    stopper = StopOnSignal()
    diagnostics = None
    if not args.no_diagnostics:
        diagnostics = _diagnostics_callback(X, y, n_batches, reporter.warn, folder)

    class Report(Callback):
        def on_train_begin(self, net: Any, state: Any) -> None:
            reporter.start_epoch(state.epoch, state.batch)

        def on_batch_end(self, state: Any) -> None:
            reporter.batch(state.batch)
            if stopper.requested:
                stopper.announce(reporter)
                state.stop_requested = True

        def next_batch_end(self, state: Any) -> int:
            return state.batch + PROGRESS_EVERY  # the bar and Ctrl-C need no more

        def on_epoch_end(self, record: Any, net: Any, state: Any) -> None:
            stopper.announce(reporter)
            reporter.line(record.book_line())
            assert history is not None  # the History training fills in
            out.save_checkpoint(net, state, history, **meta)
            out.write_history(history)
            if diagnostics is not None:
                out.write_diagnostics(diagnostics)
            if state.epoch < config["epochs"] and not stopper.requested:
                reporter.start_epoch(state.epoch, 0)

    if data.scaling is not None and not args.resume:
        print(f"Scaling the features: {data.scaling.reason}", flush=True)
    if not args.resume:
        print(
            f"Training {net} on {data.name}: {count(len(X), 'example')}, "
            f"{count(config['epochs'], 'epoch')}, mini-batch {config['batch_size']}, "
            f"η = {config['eta']:g} → {folder.path}",
            flush=True,
        )
    print(f"Engine: {describe_engine(net, config, X)}", flush=True)
    with stopper, _chance_warnings_to(reporter):
        try:
            history = net.SGD(
                X,
                y,
                config["epochs"],
                config["batch_size"],
                eta,
                lmbda=config["lmbda"],
                momentum=config["momentum"],
                shuffle=config["shuffle"],
                update_biases=config["update_biases"],
                test_data=(evaluation.X, evaluation.y),
                seed=config["seed"],
                compiled=_ENGINES[config["engine"]],
                **techniques,
                flush_subnormals=config["flush_subnormals"],
                # Diagnostics first, so that Report saves the epoch's fresh record.
                callbacks=[c for c in (diagnostics, Report()) if c is not None],
                verbose=False,
                state=state,
                history=history,
            )
        except DivergenceError as e:
            reporter.close()
            folder.save_model(net, **meta, status="diverged")
            folder.write_history(e.history)
            if diagnostics is not None:
                folder.write_diagnostics(diagnostics)
            print(f"bprop train: {e} Saved those weights to {folder.model_path}.", file=sys.stderr)
            _plot_and_report(args, folder.path)
            return EXIT_DIVERGED
    if history.status == "interrupted":
        stopper.announce(reporter)
        reporter.close()
        s = history.state
        assert s is not None  # an interrupted run returns where it stands
        folder.save_checkpoint(net, s, history, **meta)
        folder.write_history(history)
        if diagnostics is not None:
            folder.write_diagnostics(diagnostics)
        print(
            f"Interrupted at epoch {s.epoch}, mini-batch {s.batch} of {n_batches}; checkpoint "
            f"saved in {folder.checkpoint_path}. Resume with: bprop train --resume {folder.path}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    folder.save_model(net, **meta, status="completed")
    folder.write_history(history)
    folder.drop_checkpoint()
    last = history.epochs[-1] if history.epochs else None
    accuracy = f" ({last.test_accuracy:.2%} on {config['eval_on']})" if last else ""
    print(f"Saved {folder.model_path}{accuracy}", flush=True)
    if diagnostics is not None:
        folder.write_diagnostics(diagnostics)
    _plot_and_report(args, folder.path)
    return 0


def rate_list(text: str) -> float | list[float]:
    """``0.5`` → 0.5 (the hidden layers' dropout rate); ``0.2,0.5`` → one rate per layer."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a rate like 0.5 or 0.2,0.5, got {text!r}"
        ) from None
    if not all(0 <= v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"dropout rates must be in [0, 1), got {text!r}")
    return values[0] if len(values) == 1 and "," not in text else values


def _techniques(config: dict[str, Any], eta: Any, data: Any) -> dict[str, Any]:
    """The options of chapter 3 and after, as :func:`bprop.train.sgd` takes them, checked
    against the run (early stopping and the plateau schedule judge the validation set)."""
    from bprop import optimizers

    judged = config["early_stop"] or getattr(eta, "reads_accuracy", False)
    if judged and config["eval_on"] != "validation":
        raise ValueError(
            "--early-stop and --schedule plateau judge the validation set, never the test set: "
            "add --eval-on validation"
        )
    optimizers.get(config["optimizer"])
    augment = None
    if config["augment"]:
        from bprop.augment import augmenter

        side = round(data.n_features**0.5)
        if side * side != data.n_features:
            raise ValueError(
                f"--augment distorts square images, but {data.name} has {data.n_features} "
                "features per example"
            )
        augment = augmenter(config["augment"], (side, side))
    return {
        "optimizer": config["optimizer"],
        "l1": config["l1"],
        "max_norm": config["max_norm"],
        "dropout": config["dropout"],
        "early_stop": config["early_stop"],
        "augment": augment,
    }


def describe_engine(net: Any, config: dict[str, Any], X: Any = None) -> str:
    """Which training step will run, and what its last bits depend on: the compiled kernel's
    version (instruction set) or the BLAS library and kernel under NumPy's, and bprop's version.
    Seeded float64 runs repeat bit for bit only where this line is the same (see the README's
    Reproducibility)."""
    from bprop import __version__, _compiled
    from bprop.engines import engine_for, gathers_columns, input_share, sparse_input
    from bprop.techniques import engine_note

    extended = config.get("optimizer", "sgd") != "sgd" or config.get("l1") or config.get("dropout")
    note = engine_note(bool(extended or config.get("max_norm")), bool(config.get("augment")))
    if note and _ENGINES[config["engine"]] is True:
        raise ValueError(f"--engine compiled cannot train this run: {note}")
    compiled = False if note else _ENGINES[config["engine"]]
    engine = engine_for(net, config["batch_size"], compiled=compiled, X=X)
    if engine == "compiled":
        isa = _compiled.instruction_set()
        what = f"compiled (bprop's C kernel, {_ISA_NAMES.get(isa, isa)} version"
        if X is not None and sparse_input(X, config["batch_size"]):
            what += f"; first layer over the non-zero inputs, {input_share(X):.0%} of them"
        what += ")"
    else:
        what = f"NumPy ({blas_description()})"
        if not _compiled.available():
            what += (
                "; bprop's C kernel is not built, so the compiled engine is missing"
                " (reinstall bprop from a wheel, or where a C compiler is at hand)"
            )
        elif note:
            what += f"; not the compiled kernel: {note}"
        sparse = X is not None and sparse_input(X, config["batch_size"])
        if not note and sparse and gathers_columns(net):
            what += "; first layer over the input columns each mini-batch uses"
    flushed = ", subnormals flushed to zero" if config.get("flush_subnormals") else ""
    return f"{what}{flushed}, bprop {__version__}, NumPy {np.__version__}"


def blas_description() -> str:
    """``OpenBLAS 0.3.31, SkylakeX kernel``: the BLAS NumPy calls (threadpoolctl's account)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS not known: threadpoolctl is not installed"
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            name = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}.get(
                lib.get("internal_api", ""), lib.get("internal_api", "BLAS")
            )
            kernel = f", {lib['architecture']} kernel" if lib.get("architecture") else ""
            return f"{name} {lib.get('version') or ''}".strip() + kernel
    return "BLAS not known"


def _check_pairing(net: Any) -> None:
    """Refuse a cost and output layer that train but learn no classifier (log-likelihood with
    sigmoid outputs: 12–16% on MNIST where the other pairings reach 92–93%)."""
    from bprop.costs import pairing_problem

    problem = pairing_problem(net.cost, net.activations[-1])
    if problem:
        raise ValueError(f"{problem}: use --output-activation softmax, or --cost cross-entropy")


def _check_sizes_fit(sizes: list[int], data: Any) -> None:
    if sizes[0] != data.n_features:
        raise ValueError(
            f"--sizes starts with {sizes[0]} inputs but {data.name} has {data.n_features} "
            f"features per example: use --sizes {data.n_features},...,{data.n_classes}"
        )
    if sizes[-1] != data.n_classes:
        raise ValueError(
            f"--sizes ends with {sizes[-1]} outputs but {data.name} has {data.n_classes} "
            f"classes: use --sizes {data.n_features},...,{data.n_classes}"
        )


def _diagnostics_callback(X: Any, y: Any, n_batches: int, warn: Any, folder: RunFolder) -> Any:
    """The Diagnostics callback of ``bprop train``, continuing a resumed run's records."""
    from bprop.diagnostics import Diagnostics, probe_sample

    previous = folder.read_diagnostics()
    X_probe, y_probe = probe_sample(X, y)
    return Diagnostics(
        X_probe, y_probe, batches_per_epoch=n_batches, on_warning=warn, previous=previous
    )


def _plot_and_report(args: argparse.Namespace, run: Path) -> None:
    """``bprop train --plot`` / ``--report``: draw the figures and the report of ``run``."""
    if getattr(args, "plot", False):
        from bprop.plots import write_figures

        for path in write_figures(run, data_dir=args.data_dir):
            print(f"Wrote {path}")
    if getattr(args, "report", False):
        from bprop.report import write_report

        print(f"Wrote {write_report(run, data_dir=args.data_dir)}")


@contextlib.contextmanager
def _chance_warnings_to(reporter: Reporter) -> Iterator[None]:
    """Training's ChanceWarning ("no better than chance after epoch N") goes to stderr the way
    the diagnostics' warnings do; other warnings are shown as Python shows them."""
    from bprop.errors import ChanceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("always", ChanceWarning)
        show = warnings.showwarning

        def route(message: Any, category: Any, *rest: Any, **kw: Any) -> None:
            if issubclass(category, ChanceWarning):
                reporter.warn(SimpleNamespace(code="chance", message=str(message)))
            else:
                show(message, category, *rest, **kw)

        warnings.showwarning = route
        yield
