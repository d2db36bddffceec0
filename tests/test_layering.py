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


def test_results_and_metrics_do_not_reach_up_the_stack():
    for package, banned in (("results", {"grit_eval", "model_adapters"}),
                            ("model_adapters", {"results"})):
        for path in _files(package):
            bad = _imports(path) & banned
            assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"
