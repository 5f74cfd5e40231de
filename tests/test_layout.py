"""The package's shape: a small root, subpackages in layers that import only downwards and never in a cycle, and
the module paths of earlier versions (kept in saved run configs and users' scripts) still resolving."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from hydra.utils import get_object, instantiate
from omegaconf import OmegaConf

import srnlab

PACKAGE = Path(srnlab.__file__).parent
REPO = PACKAGE.parents[1]

# Lowest first: a module may import from its own layer and the layers below it, never from a layer above.
LAYERS = (
    ("srnlab", "srnlab.errors"),
    ("srnlab.image_io", "srnlab.precision", "srnlab.config"),
    ("srnlab.models", "srnlab.data"),
    ("srnlab.runs",),
    ("srnlab.infer",),
    ("srnlab.lit",),
    ("srnlab.training", "srnlab.evaluation", "srnlab.release"),
    ("srnlab.report",),
    ("srnlab.cli", "srnlab.studies"),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported_modules(name: str) -> set[str]:
    """The srnlab modules `name` imports anywhere in its source (also inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {m for m in found if m in MODULES and m != name}


def layer_of(name: str) -> int:
    matches = [(len(prefix), i) for i, layer in enumerate(LAYERS) for prefix in layer
               if name == prefix or name.startswith(prefix + ".")]  # fmt: skip
    return max(matches)[1]


def test_the_package_root_holds_at_most_eight_modules() -> None:
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= 8, root


def test_modules_import_only_from_their_own_layer_or_below() -> None:
    upward = [(m, d) for m in MODULES for d in imported_modules(m) if layer_of(d) > layer_of(m)]
    assert not upward


def test_the_import_graph_has_no_cycle() -> None:
    graph = {m: imported_modules(m) for m in MODULES}
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for dep in graph[module]:
            assert state.get(dep) != "open", " -> ".join([*path[path.index(dep) :], dep])
            if dep not in state:
                visit(dep, [*path, dep])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("old", sorted(srnlab.MOVED_MODULES))
def test_a_module_path_of_an_earlier_version_is_the_moved_module(old: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(srnlab.MOVED_MODULES[old])


def test_a_run_config_saved_before_the_move_still_instantiates(tmp_path) -> None:
    """A job's .hydra/config.yaml written by srnlab 0.1 (committed with the proxy study): every `_target_` in it
    resolves, and its CSV logger (whose module moved) is built."""
    saved = OmegaConf.load(REPO / "ablations/proxy-fidelity/proxy_long/ss/seed1/.hydra/config.yaml")
    targets = [node["_target_"] for node in _nodes(OmegaConf.to_container(saved)) if "_target_" in node]
    assert "srnlab.loggers.ResumableCSVLogger" in targets
    for target in targets:
        assert get_object(target) is not None, target
    logger = instantiate(saved.logger.csv, save_dir=str(tmp_path))
    assert type(logger).__module__ == "srnlab.lit.loggers"


def _nodes(tree: object) -> list[dict]:
    if isinstance(tree, dict):
        return [tree, *(n for v in tree.values() for n in _nodes(v))]
    if isinstance(tree, list):
        return [n for v in tree for n in _nodes(v)]
    return []
