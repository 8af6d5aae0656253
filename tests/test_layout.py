"""The package's layout rules, read from the source with ``ast``: what each module may import,
no import circle, a docstring opening every module, no file over 800 lines.

Imports are collected everywhere in a module, inside functions too (a lazy import is still a
dependency); only the import-circle check and rules marked ``runtime_only`` leave out imports
under ``if TYPE_CHECKING:``, which never run.  To add a rule, add a row to ``RULES``.

One exception holds for every rule: an object's Jupyter display hook (``_repr_html_``,
``_repr_svg_``) may import :mod:`bprop.notebook` to hand the object over, so that a Network or
a History displays itself; ``test_display_hooks_only_hand_over`` holds each such hook to its
two lines, so no drawing can creep into the math through it.
"""

from __future__ import annotations

import ast
import fnmatch
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bprop"
MAX_LINES = 800
SOURCE_SUFFIXES = (".py", ".c", ".h", ".css", ".js", ".html")

# Files allowed over MAX_LINES, each with the reason; keep it empty.
LONG_FILES_ALLOWED: set[str] = set()

# -- what the rules speak of ---------------------------------------------------------------------

MATH = (
    "bprop.activations",
    "bprop.costs",
    "bprop.backprop",
    "bprop._validate",
    "bprop.network",
    "bprop.train",
    "bprop.history",
    "bprop.divergence",
    "bprop.gradcheck",
    "bprop._compiled",
    "bprop.optimizers",
    "bprop.regularization",
    "bprop.dropout",
    "bprop.techniques",
    "bprop.fused",
    "bprop.schedules",
    "bprop.augment",
)
FILES = (
    "bprop.serialize",
    "bprop.export",
    "bprop.runs",
    "bprop.datasets",
    "bprop.images",
    "bprop.photos",
    "bprop._npz",
    "bprop._untrusted",
    "json",
    "csv",
    "io",
    "os",
    "pathlib",
    "pickle",
    "shutil",
    "subprocess",
    "tempfile",
    "urllib",
    "zipfile",
)
TERMINAL = ("bprop.cli", "argparse", "logging", "signal", "tqdm")
PAGES_AND_PLOTS = (
    "bprop.explain",
    "bprop.lab",
    "bprop.notebook",
    "bprop.plots",
    "bprop.report",
    "bprop.web",
    "matplotlib",
    "PIL",
)
# The layers built on the math: they may import it, never the other way round.
ABOVE_THE_MATH = ("bprop.diagnostics", "bprop.examples", "bprop.sklearn", "bprop.sweep")


@dataclass(frozen=True)
class Rule:
    """Modules matching ``modules`` (fnmatch patterns, minus ``except_modules``) must not
    import anything named in ``forbidden`` (a name and everything under it), except what
    ``allowed`` names."""

    why: str
    modules: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    except_modules: tuple[str, ...] = ()
    runtime_only: bool = False  # leave out imports under `if TYPE_CHECKING:`


RULES = (
    Rule(
        "the math knows nothing of files, terminals, pages or plots",
        MATH,
        FILES + TERMINAL + PAGES_AND_PLOTS + ABOVE_THE_MATH,
    ),
    Rule(
        "bprop._memory only asks the operating system how much memory is free (the math asks it "
        "before allocating a network): it knows nothing of bprop",
        ("bprop._memory",),
        ("bprop", "numpy", *TERMINAL, *PAGES_AND_PLOTS),
    ),
    Rule(
        "train never needs network: Network.SGD imports train, train takes the math from backprop",
        ("bprop.train",),
        ("bprop.network",),
        runtime_only=True,
    ),
    Rule(
        "bprop.web only reads and fills templates: it knows nothing of bprop",
        ("bprop.web", "bprop.web.*"),
        ("bprop",),
        allowed=("bprop.web",),
    ),
    Rule(
        "the run folder's files are written and read by bprop.runs, which never prints or draws",
        ("bprop.runs",),
        TERMINAL + PAGES_AND_PLOTS,
    ),
    Rule(
        "bprop._untrusted only opens regular files and parses bounded JSON: it knows nothing of "
        "bprop",
        ("bprop._untrusted",),
        ("bprop", *TERMINAL, *PAGES_AND_PLOTS),
    ),
    Rule(
        "file formats know no run folder and no command",
        ("bprop.serialize", "bprop._npz"),
        ("bprop.runs", "bprop.cli"),
    ),
    Rule(
        "exports write and read other libraries' formats: no run folder, command, page or plot",
        ("bprop.export", "bprop.export.*"),
        ("bprop.runs", *TERMINAL, *PAGES_AND_PLOTS, *ABOVE_THE_MATH),
    ),
    Rule(
        "plots write into the run folder through bprop.runs",
        ("bprop.plots",),
        ("bprop.serialize",),
    ),
    Rule(
        "explain's formats lay out the numbers the derivation computed: no NumPy, no network",
        ("bprop.explain.formats", "bprop.explain.formats.*"),
        ("numpy", "bprop.network", "bprop.backprop", "bprop.train", *FILES, *TERMINAL),
    ),
    Rule(
        "explain's derivation computes the numbers and knows no document, format or page",
        ("bprop.explain.derivation",),
        ("bprop.explain.blocks", "bprop.explain.formats", *FILES, *TERMINAL, *PAGES_AND_PLOTS),
    ),
    Rule(
        "explain's i18n holds the English and Chinese words, nothing else",
        ("bprop.explain.i18n",),
        ("bprop", "numpy"),
    ),
    Rule(
        "data sets are read without the network, training, run folders or the terminal "
        "(only a download shows a progress bar)",
        ("bprop.datasets", "bprop.datasets.*"),
        (*MATH, *ABOVE_THE_MATH, "bprop.runs", "bprop.serialize", *TERMINAL, *PAGES_AND_PLOTS),
        allowed=("tqdm",),
    ),
    Rule(
        "the lab builds its page from objects bprop has loaded: it reads no file, draws no "
        "plot and prints nothing (bprop lab loads, writes and prints)",
        ("bprop.lab",),
        (
            *(f for f in FILES if f not in ("json", "io")),
            *TERMINAL,
            "bprop.explain",
            "bprop.plots",
            "bprop.report",
            "matplotlib",
            "PIL",
        ),
    ),
    Rule(
        "the notebook's displays draw what they are handed: no command line, no matplotlib "
        "figures, no file formats of their own (run folders and models through bprop.runs and "
        "bprop.serialize)",
        ("bprop.notebook", "bprop.notebook.*"),
        (
            "bprop.cli",
            "argparse",
            "logging",
            "signal",
            "bprop.plots",
            "bprop.report",
            "matplotlib",
            "PIL",
            "bprop._npz",
            "json",
            "csv",
            "pickle",
            "shutil",
            "subprocess",
            "tempfile",
            "zipfile",
        ),
    ),
    Rule(
        "only bprop.datasets.fetch reaches the network",
        ("bprop", "bprop.*"),
        ("urllib", "http.client", "socket"),
        except_modules=("bprop.datasets.fetch",),
    ),
    Rule(
        "only the command line parses arguments",
        ("bprop", "bprop.*"),
        ("argparse",),
        except_modules=("bprop.cli", "bprop.cli.*"),
    ),
    Rule(
        "only bprop.plots draws with matplotlib",
        ("bprop", "bprop.*"),
        ("matplotlib",),
        except_modules=("bprop.plots",),
    ),
)

# -- reading the source --------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    name: str  # the module imported (bprop.runs for `from bprop import runs`)
    line: int
    at_import_time: bool  # runs when the module is imported: not in a function, not TYPE_CHECKING
    type_checking: bool
    function: str | None = None  # the innermost function it stands in, if any


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of bprop by name, its file as value."""
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _base(module: str, node: ast.ImportFrom) -> str:
    """The module ``from … import`` reads from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = module.split(".")
    if modules()[module].name != "__init__.py":
        package = package[:-1]
    package = package[: len(package) - node.level + 1]
    return ".".join(package + ([node.module] if node.module else []))


@cache
def imports(module: str) -> tuple[Import, ...]:
    """Every import in ``module``'s source, with where it stands."""
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    found: list[Import] = []

    def visit(
        node: ast.AST, in_function: bool, type_checking: bool, function: str | None = None
    ) -> None:
        def add(name: str) -> None:
            now = not in_function and not type_checking
            found.append(Import(name, node.lineno, now, type_checking, function))

        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                add(full if full in modules() else base)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        for field, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            for child in children:
                if not isinstance(child, ast.AST):
                    continue
                inside = in_function or isinstance(
                    node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
                )
                guarded = type_checking or (
                    isinstance(node, ast.If) and field == "body" and _is_type_checking(node.test)
                )
                visit(child, inside, guarded, function)

    visit(tree, False, False)
    return tuple(found)


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _matches(module: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(module, p) for p in patterns)


#: Jupyter's display hooks, which may hand their object to bprop.notebook (see the docstring).
DISPLAY_HOOKS = ("_repr_html_", "_repr_svg_")


def _display_hook(imp: Import) -> bool:
    return _under(imp.name, "bprop.notebook") and imp.function in DISPLAY_HOOKS


# -- the rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.why)
def test_import_rules(rule):
    covered = [
        m for m in modules() if _matches(m, rule.modules) and not _matches(m, rule.except_modules)
    ]
    assert covered, f"the rule covers no module: {rule.modules}"
    broken = [
        f"{modules()[m].relative_to(ROOT)}:{imp.line} imports {imp.name}"
        for m in covered
        for imp in imports(m)
        if not (rule.runtime_only and imp.type_checking)
        and any(_under(imp.name, f) for f in rule.forbidden)
        and not any(_under(imp.name, a) for a in rule.allowed)
        and not _display_hook(imp)
    ]
    assert not broken, f"{rule.why}:\n" + "\n".join(broken)


def test_display_hooks_only_hand_over():
    """Outside bprop.notebook, a display hook is two lines: import the drawing, return it."""
    found = []
    for module, path in modules().items():
        if _under(module, "bprop.notebook"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or node.name not in DISPLAY_HOOKS:
                continue
            found.append(module)
            body = [s for s in node.body if not isinstance(s, ast.Expr)]  # a docstring may stand
            imp, ret = body if len(body) == 2 else (None, None)
            assert (
                isinstance(imp, ast.ImportFrom)
                and imp.module == "bprop.notebook"
                and isinstance(ret, ast.Return)
                and isinstance(ret.value, ast.Call)
                and [ast.unparse(a) for a in ret.value.args] == ["self"]
            ), f"{path.relative_to(ROOT)}:{node.lineno}: {node.name} must only hand self over"
    # Every object the notebook displays has its hook (and the check above saw them).
    for module in ("bprop.network", "bprop.history", "bprop.runs", "bprop.datasets.splits"):
        assert module in found, module
    assert "bprop.explain.derivation" in found


def test_the_math_modules_exist():
    """A renamed math module would silently drop out of the rules above."""
    assert set(MATH) <= set(modules())


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def _import_time_graph() -> dict[str, set[str]]:
    return {
        m: {i.name for i in imports(m) if i.at_import_time and i.name in modules() and i.name != m}
        for m in modules()
    }


def test_no_module_level_import_circle():
    cycles = _cycles(_import_time_graph())
    assert not cycles, f"modules importing each other when imported: {cycles}"


def test_the_circle_check_finds_circles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_read_as_written():
    """The collector resolves ``from bprop import runs`` and sees lazy and TYPE_CHECKING ones."""
    by_name = {i.name: i for i in imports("bprop.network")}
    assert by_name["bprop.backprop"].at_import_time
    assert not by_name["bprop.train"].at_import_time  # in SGD, and under TYPE_CHECKING
    assert any(i.type_checking for i in imports("bprop.network") if i.name == "bprop.train")
    train_cli = {i.name: i for i in imports("bprop.cli.train")}
    assert train_cli["bprop.cli._common"].at_import_time
    assert not train_cli["bprop.runs"].at_import_time  # `from bprop import runs` in run()


def test_train_imports_without_network():
    """``bprop.train`` loads, and trains, with ``bprop.network`` never imported.

    ``bprop/__init__.py`` imports both, so the package is stood in for by a bare one.
    """
    code = (
        "import sys, types\n"
        f"package = types.ModuleType('bprop'); package.__path__ = [{str(PACKAGE)!r}]\n"
        "sys.modules['bprop'] = package\n"
        "import bprop.train\n"
        "assert 'bprop.network' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_importing_the_cli_stays_cheap():
    """The commands import their heavy modules when they run, not when bprop.cli is imported."""
    heavy = [
        "matplotlib",
        "sklearn",
        "joblib",
        "dask",
        "tqdm",
        "PIL",
        "bprop.explain",
        "bprop.datasets",
        "bprop.plots",
        "bprop.report",
        "bprop.runs",
        "bprop.serialize",
        "bprop.diagnostics",
        "bprop.export",
        "torch",
        "onnx",
        "onnxruntime",
        "safetensors",
    ]
    code = (
        f"import sys\nimport bprop.cli\nprint(' '.join(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == []


# -- docstrings and sizes ------------------------------------------------------------------------


@pytest.mark.parametrize("module", sorted(modules()))
def test_every_module_opens_with_a_docstring(module):
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    first = tree.body[0] if tree.body else None
    assert (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
        and first.value.value.strip()
    ), f"{modules()[module].relative_to(ROOT)} must open with a docstring saying what it holds"


def _source_files() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*")
        if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts
    )


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_source_file_is_over_800_lines():
    long = {
        f"{p.relative_to(ROOT)} ({_lines(p)} lines)"
        for p in _source_files()
        if _lines(p) > MAX_LINES and p.relative_to(ROOT).as_posix() not in LONG_FILES_ALLOWED
    }
    assert not long, f"split these into a subpackage, one concept per module: {sorted(long)}"


def test_the_long_files_allowed_are_still_long():
    """An entry of LONG_FILES_ALLOWED that was split or shortened must leave the list."""
    stale = [
        name
        for name in sorted(LONG_FILES_ALLOWED)
        if not (ROOT / name).is_file() or _lines(ROOT / name) <= MAX_LINES
    ]
    assert not stale, f"remove from LONG_FILES_ALLOWED: {stale}"
