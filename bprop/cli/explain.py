"""``bprop explain``: one training step of a small network with every number written out.

The derivation and its rendering are :mod:`bprop.explain`'s; this module turns the flags into
a spec and writes the page to standard output or, atomically, to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bprop.cli._common import float_list, int_list, non_negative, positive, seed


def add_parser(sub: Any) -> argparse.ArgumentParser:
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
        type=non_negative(int),
        metavar="N",
        help="run N updates and print a table of the error per step",
    )
    p.add_argument("--spec", metavar="FILE.json", help="network, example and eta from a JSON file")
    p.add_argument("--sizes", type=int_list, help="layer sizes, e.g. 2,2,2 (random weights)")
    p.add_argument("--activation", help="activation function (sigmoid, tanh, relu, ...)")
    p.add_argument(
        "--output-activation",
        help="activation of the output layer, e.g. sigmoid or softmax (default: as --activation)",
    )
    p.add_argument("--cost", help="cost: quadratic, cross-entropy or log-likelihood")
    p.add_argument("--eta", type=positive(float), help="learning rate")
    p.add_argument("--inputs", type=float_list, help="the example's inputs, e.g. 0.05,0.10")
    p.add_argument("--targets", type=float_list, help="its targets, e.g. 0.01,0.99")
    p.add_argument("--seed", type=seed, help="random initial weights and biases from this seed")
    p.add_argument(
        "--update-biases",
        action="store_true",
        help="update the biases too (the article holds them fixed)",
    )
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=run)
    return p


def _explain_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The spec: the article's, or --spec's, or --sizes's; then the other flags override it."""
    from bprop import explain

    if args.spec:
        from bprop._untrusted import read_json

        path = Path(args.spec)
        if not path.exists():
            raise FileNotFoundError(f"no spec file {args.spec!r}")
        spec = read_json(path, "spec file", max_bytes=2**20)  # bounded size and depth
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
    if args.activation is not None:
        spec.pop("output_activation", None)
    for key in ("activation", "output_activation", "cost", "eta", "inputs", "targets"):
        if getattr(args, key) is not None:
            spec[key] = getattr(args, key)
    if args.update_biases:
        spec["update_biases"] = True
    return spec


def run(args: argparse.Namespace) -> int:
    from bprop import explain

    spec = _explain_spec(args)
    sizes = spec.get("sizes")
    matrix, steps = args.matrix and args.format != "html", args.steps is not None
    # Before the network is made: a typo like 2,1000000000,2 must not allocate anything.
    if isinstance(sizes, list) and sizes and all(isinstance(n, int) for n in sizes):
        explain.check_limits(sizes, matrix=matrix, steps=steps)
    problem = explain.problem_from_spec(spec)
    explain.check_limits(problem.net.sizes, matrix=matrix, steps=steps)
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
    """Write ``text`` to ``--out`` as every writer does (``serialize.write_text``): atomically
    for a file, directly for ``-``, ``/dev/stdout`` or a FIFO, keeping a replaced file's mode."""
    from bprop.serialize import write_text

    write_text(path, text)
