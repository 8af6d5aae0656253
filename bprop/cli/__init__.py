"""The ``bprop`` command: train, evaluate, predict and explain.

Each subcommand is a pair: ``_NAME_parser(sub)`` declares its flags, ``_NAME(args)`` runs it and
returns the exit code.  :func:`main` turns every expected failure (bad flags, missing files,
wrong shapes) into one line on stderr and exit code 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130
# Mini-batches between progress-bar updates and Ctrl-C checks in the compiled engine (the
# NumPy engines report every mini-batch).
PROGRESS_EVERY = 50


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2), not usage + message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bprop`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("bprop: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `bprop evaluate … | head`: the reader left, nothing is wrong
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's flush quiet
        return 0
    except (ValueError, TypeError, OSError, ImportError) as e:
        if args.debug:
            raise
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"bprop {args.command}: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bprop`` command and its subcommands."""
    from bprop import __version__

    parser = _Parser(
        prog="bprop",
        description="Backpropagation for fully connected networks, exactly as the book says.",
    )
    parser.add_argument("--version", action="version", version=f"bprop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands = (
        _train_parser,
        _evaluate_parser,
        _predict_parser,
        _explain_parser,
        _plot_parser,
        _report_parser,
        _sweep_parser,
        _bench_parser,
    )
    for add in commands:
        p = add(sub)
        p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return parser


# -- shared helpers ----------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers like 784,30,10, got {text!r}"
        ) from None
    if len(values) < 2 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"need at least two positive layer sizes, got {text!r}")
    return values


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value > 0 or value != value:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
        return value

    return parse


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0, got {text!r}")
    return value


def _load_data(name: str, data_dir: str | None, dtype: Any) -> Any:
    from bprop import datasets

    kw: dict[str, Any] = {"dtype": dtype}
    return datasets.load(name, data_dir=data_dir, **kw)


def _model_path(path: str) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / "model.npz"
    if not p.is_file():
        raise FileNotFoundError(
            f"no model at {path}: give a model .npz file or a run folder written by bprop train"
        )
    return p


# -- train -------------------------------------------------------------------------------------

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
}
# --engine → sgd's `compiled`; "numba" is what run folders of the earlier numba engine say.
_ENGINES = {"auto": None, "compiled": True, "numba": True, "numpy": False}


def _train_parser(sub: Any) -> argparse.ArgumentParser:
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
    p.add_argument(
        "--sizes",
        type=_int_list,
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
        "--eta", type=_positive(float), default=d["eta"], help="learning rate η (default: 3.0)"
    )
    p.add_argument(
        "--schedule",
        default=d["schedule"],
        help="η schedule: constant, cosine or step:EVERY:FACTOR",
    )
    p.add_argument(
        "--lmbda", type=_non_negative, default=d["lmbda"], help="L2 regularisation λ (default: 0)"
    )
    p.add_argument(
        "--momentum",
        type=_non_negative,
        default=d["momentum"],
        help="momentum μ in [0, 1) (default: 0)",
    )
    p.add_argument("--epochs", type=_positive(int), default=d["epochs"])
    p.add_argument(
        "--batch-size",
        type=_positive(int),
        default=d["batch_size"],
        help="mini-batch size m (default: 10)",
    )
    p.add_argument("--seed", type=int, help="seed of the weights and the shuffling")
    p.add_argument(
        "--limit",
        type=_positive(int),
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
    p.add_argument("--out", help="run folder to write (default: runs/<timestamp>)")
    p.add_argument("--resume", metavar="RUN", help="continue an interrupted run from its folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--no-diagnostics",
        action="store_true",
        help="do not record diagnostics.json (per-layer learning speed, saturation, warnings)",
    )
    p.add_argument("--plot", action="store_true", help="draw the run's figures at the end")
    p.add_argument("--report", action="store_true", help="write RUN/report.html at the end")
    p.set_defaults(func=_train)
    return p


class _Reporter:
    """Training's voice in the terminal: a progress bar per epoch and the book's epoch line."""

    def __init__(self, n_batches: int, show_bar: bool) -> None:
        self.n_batches, self.show_bar = n_batches, show_bar
        self.bar: Any = None
        self.tqdm: Any = None
        if show_bar:
            try:
                from tqdm import tqdm

                self.tqdm = tqdm
            except ImportError:
                self.show_bar = False

    def start_epoch(self, epoch: int, done: int) -> None:
        if self.show_bar:
            self.bar = self.tqdm(
                total=self.n_batches,
                initial=done,
                desc=f"Epoch {epoch}",
                unit="batch",
                leave=False,
                file=sys.stderr,
                dynamic_ncols=True,
                mininterval=0.2,
            )

    def batch(self, done: int) -> None:
        """``done`` mini-batches of the epoch are trained."""
        if self.bar is not None:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def line(self, text: str) -> None:
        self.close()
        print(text, flush=True)

    def warn(self, warning: Any) -> None:
        """A diagnostics warning, on stderr, above the progress bar."""
        text = f"Warning ({warning.code}): {warning.message}"
        if self.bar is not None:
            self.tqdm.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)


def _train(args: argparse.Namespace) -> int:
    from bprop import serialize
    from bprop.errors import DivergenceError
    from bprop.network import Network
    from bprop.train import Callback, History, schedule

    if args.resume:
        run = Path(args.resume)
        config = _read_config(run)
        ckpt = run / "checkpoint.npz"
        if not ckpt.is_file():
            raise FileNotFoundError(
                f"{run} has no checkpoint.npz to resume from (a finished run keeps only "
                "model.npz; start a new run instead)"
            )
        net, state, history, _ = serialize.load_checkpoint(ckpt)
        print(f"Resuming {run} at epoch {state.epoch}, mini-batch {state.batch}", flush=True)
    else:
        config = {k: getattr(args, k) for k in TRAIN_DEFAULTS}
        if config["seed"] is None:
            config["seed"] = int(np.random.SeedSequence().entropy % (2**31))
        run = Path(args.out) if args.out else Path("runs") / time.strftime("%Y%m%d-%H%M%S")
        net = state = history = None

    data = _load_data(config["dataset"], config["data_dir"], np.dtype(config["dtype"]).type)
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
        history = History()
        run.mkdir(parents=True, exist_ok=True)
        serialize.write_json(run / "config.json", config)
    eta = schedule(config["schedule"], config["eta"], config["epochs"])
    meta = {
        "training": config,
        "dataset": {
            "name": data.name,
            "digest": data.digest,
            "class_names": list(data.class_names),
        },
    }
    n_batches = -(-len(X) // config["batch_size"])
    reporter = _Reporter(n_batches, show_bar=not args.no_progress)
    stopper = _StopOnSignal()
    diagnostics = None
    if not args.no_diagnostics:
        diagnostics = _diagnostics_callback(X, y, n_batches, reporter.warn, run)

    class Report(Callback):
        def on_train_begin(self, net: Any, state: Any) -> None:
            reporter.start_epoch(state.epoch, state.batch)

        def on_batch_end(self, state: Any) -> None:
            reporter.batch(state.batch)
            if stopper.requested:
                state.stop_requested = True

        def next_batch_end(self, state: Any) -> int:
            return state.batch + PROGRESS_EVERY  # the bar and Ctrl-C need no more

        def on_epoch_end(self, record: Any, net: Any, state: Any) -> None:
            reporter.line(record.book_line())
            serialize.save_checkpoint(run / "checkpoint.npz", net, state, history, **meta)
            _write_history(run, history)
            if diagnostics is not None:
                _write_diagnostics(run, diagnostics)
            if state.epoch < config["epochs"] and not stopper.requested:
                reporter.start_epoch(state.epoch, 0)

    if not args.resume:
        print(
            f"Training {net} on {data.name}: {len(X)} examples, {config['epochs']} epochs, "
            f"mini-batch {config['batch_size']}, η = {config['eta']:g} → {run}",
            flush=True,
        )
    with stopper:
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
                # Diagnostics first, so that Report saves the epoch's fresh record.
                callbacks=[c for c in (diagnostics, Report()) if c is not None],
                verbose=False,
                state=state,
                history=history,
            )
        except DivergenceError as e:
            reporter.close()
            serialize.save_model(run / "model.npz", net, **meta, status="diverged")
            _write_history(run, e.history)
            if diagnostics is not None:
                _write_diagnostics(run, diagnostics)
            print(f"bprop train: {e} Saved those weights to {run / 'model.npz'}.", file=sys.stderr)
            _plot_and_report(args, run)
            return EXIT_DIVERGED
    if history.status == "interrupted":
        reporter.close()
        serialize.save_checkpoint(run / "checkpoint.npz", net, history.state, history, **meta)
        _write_history(run, history)
        if diagnostics is not None:
            _write_diagnostics(run, diagnostics)
        s = history.state
        print(
            f"Interrupted at epoch {s.epoch}, mini-batch {s.batch} of {n_batches}; checkpoint "
            f"saved in {run / 'checkpoint.npz'}. Resume with: bprop train --resume {run}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    serialize.save_model(run / "model.npz", net, **meta, status="completed")
    _write_history(run, history)
    (run / "checkpoint.npz").unlink(missing_ok=True)
    last = history.epochs[-1] if history.epochs else None
    accuracy = f" ({last.test_accuracy:.2%} on {config['eval_on']})" if last else ""
    print(f"Saved {run / 'model.npz'}{accuracy}", flush=True)
    if diagnostics is not None:
        _write_diagnostics(run, diagnostics)
    _plot_and_report(args, run)
    return 0


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


def _read_config(run: Path) -> dict[str, Any]:
    path = run / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run} is not a bprop run folder (no config.json)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    return TRAIN_DEFAULTS | config


def _write_history(run: Path, history: Any) -> None:
    from bprop import serialize

    data = history.to_dict()
    serialize.write_json(run / "history.json", data)
    out = io.StringIO()
    columns = [
        "epoch",
        "eta",
        "train_cost",
        "train_accuracy",
        "test_cost",
        "test_correct",
        "test_total",
        "test_accuracy",
        "seconds",
    ]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(data["epochs"])
    serialize.write_text(run / "history.csv", out.getvalue())


class _StopOnSignal:
    """SIGINT/SIGTERM ask training to stop after the current mini-batch; a second SIGINT aborts."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopOnSignal:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        print(
            "Stopping after this mini-batch (Ctrl-C again to abort without saving)...",
            file=sys.stderr,
            flush=True,
        )


# -- evaluate ----------------------------------------------------------------------------------


def _evaluate_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "evaluate",
        help="accuracy, per-class accuracy and confusion matrix of a saved model",
        description="Evaluate a saved model: accuracy, per-class accuracy, confusion matrix.",
    )
    p.add_argument("model", help="model .npz file or run folder")
    p.add_argument("--dataset", help="data set (default: the one the model was trained on)")
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/")
    p.add_argument("--split", choices=["test", "validation", "train"], default="test")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.set_defaults(func=_evaluate)
    return p


def _evaluate(args: argparse.Namespace) -> int:
    from bprop import serialize

    path = _model_path(args.model)
    net, meta = serialize.load_model(path)
    name = args.dataset or meta.get("dataset", {}).get("name")
    if not name:
        raise ValueError(f"{path} does not record its data set: pass --dataset")
    data = _load_data(name, args.data_dir, net.dtype)
    split = getattr(data, args.split)
    if split is None:
        raise ValueError(f"{name} has no {args.split} set")
    if split.X.shape[1] != net.sizes[0]:
        raise ValueError(
            f"the model takes {net.sizes[0]} inputs but {name} has {split.X.shape[1]} features"
        )
    if data.n_classes > net.sizes[-1]:
        raise ValueError(
            f"{name} has {data.n_classes} classes but the model has {net.sizes[-1]} outputs"
        )
    predicted = net.predict(split.X)
    k = net.sizes[-1]
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (split.y, predicted), 1)
    correct = int(np.trace(confusion))
    names = list(data.class_names) + [str(i) for i in range(len(data.class_names), k)]
    print(f"{path} on {name} ({args.split}): {correct} / {len(split)} = {correct / len(split):.2%}")
    print("\nPer class:")
    width = max(len(n) for n in names)
    per_class = []
    for i in range(k):
        total = int(confusion[i].sum())
        acc = confusion[i, i] / total if total else float("nan")
        per_class.append(acc)
        label = f"{i:>2}" if names[i] == str(i) else f"{i:>2} {names[i]:<{width}}"
        print(f"  {label}  {confusion[i, i]:>6} / {total:<6} {acc:7.2%}")
    print("\nConfusion matrix (rows: true class, columns: predicted):")
    cell = max(len(str(confusion.max())), 3) + 1
    print("    " + "".join(f"{j:>{cell}}" for j in range(k)))
    for i in range(k):
        print(f"  {i:>2}" + "".join(f"{v:>{cell}}" for v in confusion[i]))
    if args.json:
        serialize.write_json(
            args.json,
            {
                "model": str(path),
                "dataset": name,
                "split": args.split,
                "correct": correct,
                "total": len(split),
                "accuracy": correct / len(split),
                "per_class_accuracy": dict(zip(names, per_class)),
                "confusion_matrix": confusion.tolist(),
            },
        )
    return 0


# -- predict -----------------------------------------------------------------------------------


def _predict_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "predict",
        help="classify PNG/JPEG images with a saved model",
        description=(
            "Classify images of digits (or clothes) with a saved model. Each image is "
            "preprocessed the way the data set was made: greyscale, inverted when the "
            "background is light, fitted in 20×20 and centred by centre of mass in 28×28 "
            "(MNIST), or fitted in 28×28 (Fashion-MNIST)."
        ),
    )
    p.add_argument("model", help="model .npz file or run folder")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument(
        "--style",
        choices=["mnist", "fashion-mnist"],
        help="preprocessing (default: from the model's data set)",
    )
    p.add_argument("--top", type=_positive(int), default=3, help="show the N likeliest classes")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_predict)
    return p


def _predict(args: argparse.Namespace) -> int:
    from bprop import serialize

    path = _model_path(args.model)
    net, meta = serialize.load_model(path)
    from bprop import images

    dataset = meta.get("dataset", {})
    style = args.style or ("fashion-mnist" if dataset.get("name") == "fashion-mnist" else "mnist")
    if net.sizes[0] != 784:
        raise ValueError(
            f"the model takes {net.sizes[0]} inputs; predict reads 28×28 images (784 inputs)"
        )
    names = list(dataset.get("class_names") or [])
    names += [str(i) for i in range(len(names), net.sizes[-1])]
    X = np.stack([images.preprocess(image, style) for image in args.images])
    out = net.feedforward(X)
    results = []
    for image, a in zip(args.images, out):
        # Softmax outputs are probabilities; other outputs are normalised to sum to 1.
        p = a / a.sum() if net.activations[-1].name != "softmax" and a.sum() > 0 else a
        order = np.argsort(-p)[: args.top]
        results.append(
            {
                "image": image,
                "class": int(order[0]),
                "name": names[order[0]],
                "probabilities": {names[i]: float(p[i]) for i in range(len(p))},
            }
        )
        if not args.json:
            top = ", ".join(f"{names[i]} {p[i]:.1%}" for i in order)
            print(f"{image}: {names[order[0]]}   ({top})")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


# ---- explain: begin ----
def _explain_parser(sub: Any) -> argparse.ArgumentParser:
    from bprop.explain import FORMATS, LANGS

    p = sub.add_parser(
        "explain",
        help="backpropagation worked step by step",
        description=(
            "One training step of a small network, every number written out. With no options: "
            "the article's 2-2-2 example (seeds/003), line for line, and its errata."
        ),
    )
    p.add_argument("--lang", choices=LANGS, default="en", help="language (default en)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.add_argument("--matrix", action="store_true", help="Nielsen's matrix form, BP1-BP4")
    p.add_argument(
        "--steps",
        type=_non_negative_int,
        metavar="N",
        help="run N updates and print a table of the error per step",
    )
    p.add_argument("--spec", metavar="FILE.json", help="network, example and eta from a JSON file")
    p.add_argument("--sizes", type=_int_list, help="layer sizes, e.g. 2,2,2 (random weights)")
    p.add_argument("--activation", help="activation function (sigmoid, tanh, relu, ...)")
    p.add_argument("--cost", help="cost: quadratic, cross-entropy or log-likelihood")
    p.add_argument("--eta", type=_positive(float), help="learning rate")
    p.add_argument("--inputs", type=_float_list, help="the example's inputs, e.g. 0.05,0.10")
    p.add_argument("--targets", type=_float_list, help="its targets, e.g. 0.01,0.99")
    p.add_argument("--seed", type=int, help="random initial weights and biases from this seed")
    p.add_argument(
        "--update-biases",
        action="store_true",
        help="update the biases too (the article holds them fixed)",
    )
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=_explain)
    return p


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0, got {text!r}")
    return value


def _float_list(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers like 0.05,0.10, got {text!r}"
        ) from None


def _explain_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The spec: the article's, or --spec's, or --sizes's; then the other flags override it."""
    from bprop import explain

    if args.spec:
        path = Path(args.spec)
        if not path.is_file():
            raise FileNotFoundError(f"no spec file {args.spec!r}")
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{args.spec} is not valid JSON: {e}") from None
        if not isinstance(spec, dict):
            raise ValueError(f"{args.spec} must hold a JSON object with 'sizes', 'inputs', ...")
    elif args.sizes:
        spec = {"sizes": args.sizes}
        article = explain.article_spec()
        if args.sizes[0] == len(article["inputs"]):
            spec["inputs"] = article["inputs"]
        if args.sizes[-1] == len(article["targets"]):
            spec["targets"] = article["targets"]
    else:
        spec = explain.article_spec()
    if args.seed is not None:
        spec = {k: v for k, v in spec.items() if k not in ("weights", "biases")}
        spec["seed"] = args.seed
    for key in ("activation", "cost", "eta", "inputs", "targets"):
        if getattr(args, key) is not None:
            spec[key] = getattr(args, key)
    if args.activation is not None:
        spec.pop("output_activation", None)
    if args.update_biases:
        spec["update_biases"] = True
    return spec


def _explain(args: argparse.Namespace) -> int:
    from bprop import explain

    spec = _explain_spec(args)
    sizes = spec.get("sizes")
    if args.steps is None and isinstance(sizes, list) and all(isinstance(n, int) for n in sizes):
        explain.check_limits(sizes, matrix=args.matrix and args.format != "html")
    problem = explain.problem_from_spec(spec)
    if args.steps is not None:
        rows = explain.error_table(
            problem.net,
            problem.x,
            problem.y,
            problem.eta,
            args.steps,
            update_biases=problem.update_biases,
        )
        text = explain.render_steps(rows, problem, lang=args.lang, fmt=args.format)
    else:
        explain.check_limits(problem.net.sizes, matrix=args.matrix and args.format != "html")
        d = explain.derive(
            problem.net, problem.x, problem.y, problem.eta, update_biases=problem.update_biases
        )
        errata = explain.errata() if d.is_article else None
        text = explain.render(d, lang=args.lang, fmt=args.format, matrix=args.matrix, errata=errata)
    if args.out:
        _explain_write(Path(args.out), text)
    else:
        sys.stdout.write(text)
    return 0


def _explain_write(path: Path, text: str) -> None:
    """Write atomically: a temporary file beside ``path``, then one rename."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=".explain-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- explain: end ----


# ---- plot and report: begin ----
def _plot_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "plot",
        help="PNG figures of a training run",
        description=(
            "Draw a run's figures into RUN/figures/: cost, accuracy, per-layer learning speed, "
            "saturation, first-layer weights, confusion matrix and misclassified test images."
        ),
    )
    p.add_argument("run", metavar="RUN", help="run folder written by bprop train")
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/ (searched first)")
    p.set_defaults(func=_plot)
    return p


def _plot(args: argparse.Namespace) -> int:
    from bprop.plots import write_figures

    for path in write_figures(args.run, data_dir=args.data_dir):
        print(path)
    return 0


def _report_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "report",
        help="a self-contained HTML report of a training run",
        description=(
            "Write one self-contained HTML file (figures embedded) summarising a run: "
            "configuration, accuracies, warnings and figures. Several runs (say, quadratic "
            "and cross-entropy cost) are also compared side by side."
        ),
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders written by bprop train")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="HTML file to write (default: RUN/report.html; report.html for several runs)",
    )
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/ (searched first)")
    p.set_defaults(func=_report)
    return p


def _report(args: argparse.Namespace) -> int:
    from bprop.report import write_report

    print(write_report(args.runs, args.out, data_dir=args.data_dir))
    return 0


def _diagnostics_callback(X: Any, y: Any, n_batches: int, warn: Any, run: Path) -> Any:
    """The Diagnostics callback of ``bprop train``, continuing a resumed run's records."""
    from bprop.diagnostics import Diagnostics, probe_sample

    saved = run / "diagnostics.json"
    previous = json.loads(saved.read_text(encoding="utf-8")) if saved.is_file() else None
    X_probe, y_probe = probe_sample(X, y)
    return Diagnostics(
        X_probe, y_probe, batches_per_epoch=n_batches, on_warning=warn, previous=previous
    )


def _write_diagnostics(run: Path, diagnostics: Any) -> None:
    from bprop import serialize

    serialize.write_json(run / "diagnostics.json", diagnostics.to_dict())


def _plot_and_report(args: argparse.Namespace, run: Path) -> None:
    """``bprop train --plot`` / ``--report``: draw the figures and the report of ``run``."""
    if getattr(args, "plot", False):
        from bprop.plots import write_figures

        for path in write_figures(run, data_dir=args.data_dir):
            print(f"Wrote {path}")
    if getattr(args, "report", False):
        from bprop.report import write_report

        print(f"Wrote {write_report(run, data_dir=args.data_dir)}")


# ---- plot and report: end ----


# -- bench -------------------------------------------------------------------------------------

BENCHMARKS = ("speed", "accuracy")


def _bench_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bench",
        help="run a benchmark of a source checkout (speed or accuracy)",
        description=(
            "Run benchmarks/speed.py or benchmarks/accuracy.py of the source checkout this bprop "
            "is installed from, passing the remaining arguments on "
            "(bprop bench speed --help lists them)."
        ),
    )
    p.add_argument("benchmark", choices=BENCHMARKS)
    p.add_argument("arguments", nargs=argparse.REMAINDER, help="the benchmark's own arguments")
    p.set_defaults(func=_bench)
    return p


def _bench(args: argparse.Namespace) -> int:
    import subprocess

    script = Path(__file__).resolve().parents[1] / "benchmarks" / f"{args.benchmark}.py"
    if not script.is_file():
        raise FileNotFoundError(
            f"benchmarks/{args.benchmark}.py is not next to this installation of bprop; the "
            "benchmarks ship with the source: git clone the repository and pip install -e it"
        )
    return subprocess.call([sys.executable, str(script), *args.arguments])


# ---- sweep: begin ----
def _sweep_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "sweep",
        help="a hyperparameter grid, locally or on a Dask cluster",
        description=(
            "Train a BPClassifier for every combination of the listed values and score each "
            "on the validation set (MNIST: the 10,000 validation images; other data sets: "
            "--validation-fraction of the training set). Runs on all local cores, or on a "
            "Dask cluster with --scheduler. Needs scikit-learn: pip install 'bprop[sklearn]'."
        ),
    )
    p.add_argument("--dataset", default="mnist", help="mnist, fashion-mnist, csv:PATH, npz:PATH")
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/")
    values = _number_list(float)
    p.add_argument("--eta", type=values, default=[0.5], help="η values: 0.1,0.5,3 (default: 0.5)")
    p.add_argument("--lmbda", type=values, default=[0.0], help="λ values: 0,5 (default: 0)")
    p.add_argument(
        "--hidden",
        type=_hidden_list,
        default=[(30,)],
        help="hidden widths: 30,100 (one layer each) or 100-30 (two layers) (default: 30)",
    )
    p.add_argument(
        "--batch-size", type=_number_list(int), default=[10], help="m values (default: 10)"
    )
    p.add_argument("--momentum", type=values, default=[0.0], help="μ values (default: 0)")
    p.add_argument("--epochs", type=_positive(int), default=10, help="epochs (default: 10)")
    p.add_argument("--activation", default="sigmoid", help="hidden activation (sigmoid)")
    p.add_argument("--output-activation", default="softmax", help="output activation (softmax)")
    p.add_argument("--cost", default="log-likelihood", help="cost (log-likelihood)")
    p.add_argument("--init", default="scaled", help="initialisation (scaled: N(0, 1/n_in))")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--limit", type=_positive(int), help="train on the first N examples only")
    p.add_argument(
        "--validation-fraction",
        type=float,
        default=0.2,
        help="held-out share of the training set when the data set has no validation set",
    )
    p.add_argument("--seed", type=int, help="seed of every grid point's weights and shuffling")
    p.add_argument("--n-jobs", type=int, default=-1, help="grid points at once (-1: all cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster")
    p.add_argument("--out", help="results CSV (default: runs/sweep-<timestamp>.csv)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_sweep)
    return p


def _number_list(kind: type) -> Any:
    def parse(text: str) -> list[Any]:
        try:
            values = [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated numbers like 0.1,0.5,3, got {text!r}"
            ) from None
        if not values or any(not v >= 0 for v in values):
            raise argparse.ArgumentTypeError(f"expected numbers ≥ 0, got {text!r}")
        return values

    return parse


def _hidden_list(text: str) -> list[tuple[int, ...]]:
    try:
        values = [tuple(int(w) for w in v.split("-")) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected hidden widths like 30,100 or 100-30, got {text!r}"
        ) from None
    if not values or any(min(v) < 1 for v in values):
        raise argparse.ArgumentTypeError(f"hidden widths must be ≥ 1, got {text!r}")
    return values


def _sweep(args: argparse.Namespace) -> int:
    from bprop import serialize, sweep

    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2**31)
    data = _load_data(args.dataset, args.data_dir, np.dtype(args.dtype).type)
    X, y, validation = data.train.X, data.train.y, data.validation
    if validation is None:
        if not 0 < args.validation_fraction < 1:
            raise ValueError(
                f"--validation-fraction must be in (0, 1), got {args.validation_fraction}"
            )
        order = np.random.default_rng(seed).permutation(len(y))
        n_val = max(1, round(args.validation_fraction * len(y)))
        X_val, y_val, X, y = X[order[:n_val]], y[order[:n_val]], X[order[n_val:]], y[order[n_val:]]
    else:
        X_val, y_val = validation.X, validation.y
    if args.limit:
        X, y = X[: args.limit], y[: args.limit]
    grid = {
        "eta": args.eta,
        "lmbda": args.lmbda,
        "hidden_layer_sizes": args.hidden,
        "batch_size": args.batch_size,
        "momentum": args.momentum,
    }
    base = {
        "activation": args.activation,
        "output_activation": args.output_activation,
        "cost": args.cost,
        "init": args.init,
        "dtype": args.dtype,
        "max_iter": args.epochs,
        "tol": None,
        "random_state": seed,
    }
    n_points = len(sweep.grid_points(grid))
    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else "local cores"
    print(
        f"Sweeping {n_points} grid points on {data.name} ({len(y)} training, {len(y_val)} "
        f"validation examples, {args.epochs} epochs, seed {seed}) on {where}",
        flush=True,
    )
    bar = _sweep_bar(n_points, show=not args.no_progress)
    try:
        rows = sweep.run(
            grid,
            X,
            y,
            X_val,
            y_val,
            base=base,
            n_jobs=args.n_jobs,
            scheduler=args.scheduler,
            on_result=(lambda row: bar.update(1)) if bar is not None else None,
        )
    finally:
        if bar is not None:
            bar.close()
    out = Path(args.out or Path("runs") / time.strftime("sweep-%Y%m%d-%H%M%S.csv"))
    serialize.write_text(out, sweep.to_csv(rows))
    print(sweep.format_table(rows))
    print(f"Wrote {out}", flush=True)
    return 0


def _sweep_bar(total: int, show: bool) -> Any:
    if not show:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="Sweep", unit="point", file=sys.stderr, dynamic_ncols=True)


# ---- sweep: end ----


def _not_yet(args: argparse.Namespace) -> int:
    raise ValueError(f"bprop {args.command} is not available yet")


if __name__ == "__main__":
    sys.exit(main())
