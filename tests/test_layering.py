"""The architecture's import rules (ARCHITECTURE.md, "Layers and who may import whom")."""
import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _files(package: str):
    return sorted((REPO / package).rglob("*.py"))


def test_metrics_use_only_numpy_scipy_pycocotools():
    allowed = {"numpy", "scipy", "pycocotools", "metrics"} | set(sys.stdlib_module_names)
    for path in _files("metrics"):
        extra = _imports(path) - allowed
        # the optional Java tokenizer mode of CIDEr imports pycocoevalcap lazily
        extra.discard("pycocoevalcap")
        assert not extra, f"{path.relative_to(REPO)} imports {sorted(extra)}"


def test_jax_only_inside_the_unified_io_adapter():
    for package in ("grit_eval", "metrics", "results", "model_adapters"):
        for path in _files(package):
            if {"unified_io", "unified_io_2"} & set(path.parts):
                continue
            bad = _imports(path) & {"jax", "jaxlib", "flax", "optax"}
            assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"


def test_hydra_only_in_the_cli():
    for package in ("grit_eval", "metrics", "results", "model_adapters"):
        for path in _files(package):
            # the sweep callback subclasses hydra's Callback; Hydra calls it, nothing else does
            if path.name.endswith("cli.py") or path.relative_to(REPO).as_posix() == "grit_eval/hydra_callbacks.py":
                continue
            bad = _imports(path) & {"hydra", "omegaconf"}
            assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"


def test_pandas_only_in_results():
    for package in ("grit_eval", "metrics", "model_adapters"):
        for path in _files(package):
            assert "pandas" not in _imports(path), f"{path.relative_to(REPO)} imports pandas"


def test_importing_the_harness_does_not_import_jax():
    code = ("import sys, grit_eval.cli, grit_eval.run.runner, grit_eval.registry, metrics, results, "
            "model_adapters.prior, model_adapters.oracle\n"
            "import model_adapters.unified_io, model_adapters.unified_io_2.checkpoint\n"
            "assert 'jax' not in sys.modules, 'jax was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def _project_imports(path: Path) -> set[str]:
    """Full dotted names of the project modules ``path`` imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
        found.update(n for n in names if n.split(".")[0] in PROJECT_PACKAGES)
    return found


PROJECT_PACKAGES = {"grit_eval", "model_adapters", "metrics", "results"}
# grit_eval modules the lower layers may import: leaves that import nothing of the project.
# types holds the task table and value types; formats the submission file encodings; errors
# the error types and the one-line command-line contract.
LEAF_MODULES = {"grit_eval.types", "grit_eval.formats", "grit_eval.errors"}


def test_results_and_metrics_do_not_reach_up_the_stack():
    for path in _files("results"):
        bad = {m for m in _project_imports(path) if m.split(".")[0] != "results"
               and m != "metrics" and not m.startswith("metrics.")
               and m not in {"grit_eval.types", "grit_eval.errors"}}
        assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"
    for path in _files("model_adapters"):
        assert "results" not in _imports(path), f"{path.relative_to(REPO)} imports results"


def test_adapters_import_only_the_types_and_formats_of_the_core():
    for path in _files("model_adapters"):
        bad = {m for m in _project_imports(path) if m.startswith("grit_eval") and m not in LEAF_MODULES}
        assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"


def test_leaf_modules_import_nothing_of_the_project():
    for module in LEAF_MODULES:
        path = REPO / (module.replace(".", "/") + ".py")
        assert not _project_imports(path), f"{module} imports {sorted(_project_imports(path))}"
