"""srnlab: a Lightning + Hydra reproduction of the SRN-DeblurNet ablation study (Tao et al., CVPR 2018)."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

__version__ = "0.1.0"

# Modules that lived at the package root before srnlab 0.2 grouped them into subpackages. Run folders keep the
# `_target_` paths of the config they trained with (`.hydra/config.yaml`), and users' scripts import the old
# names: both still resolve, to the same module object as the new name.
MOVED_MODULES = {
    "srnlab.checkpoints": "srnlab.runs.checkpoints",
    "srnlab.weights": "srnlab.runs.weights",
    "srnlab.results": "srnlab.runs.results",
    "srnlab.runfiles": "srnlab.runs.files",
    "srnlab.deblurrer": "srnlab.infer.deblurrer",
    "srnlab.deblurring": "srnlab.infer.photos",
    "srnlab.tiling": "srnlab.infer.tiling",
    "srnlab.self_ensemble": "srnlab.infer.self_ensemble",
    "srnlab.claims": "srnlab.report.claims",
    "srnlab.significance": "srnlab.report.significance",
    "srnlab.summary": "srnlab.report.summary",
    "srnlab.plotting": "srnlab.report.colors",
    "srnlab.dashboard": "srnlab.report.dashboard.spec",
    "srnlab.dashboard_figure": "srnlab.report.dashboard.figure",
    "srnlab.dashboard_publish": "srnlab.report.dashboard.publish",
    "srnlab.wandb_offline": "srnlab.report.dashboard.offline_runs",
    "srnlab.loggers": "srnlab.lit.loggers",
}


class _MovedModuleLoader(importlib.abc.Loader):
    def __init__(self, new_name: str) -> None:
        self.new_name = new_name
        self.new_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.new_name)
        self.new_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The module is the new one, already executed; the import system gave it the old name's spec."""
        module.__spec__ = self.new_spec


class _MovedModuleFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        new_name = MOVED_MODULES.get(fullname)
        return importlib.machinery.ModuleSpec(fullname, _MovedModuleLoader(new_name)) if new_name else None


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())
