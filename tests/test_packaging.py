"""The wheel is the product: built from the project's files and installed into a fresh environment, its
commands work from an empty folder far from the repository, with the configs they ship."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pyproject.toml", "README.md", "requirements.txt")


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment holding the wheel; the pinned dependencies are reused from this one."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"  # a copy, so that the build leaves nothing in the repository
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp / "dist", source,
        cwd=tmp)  # fmt: skip
    (wheel,) = (tmp / "dist").glob("srnlab-*.whl")
    env_dir = tmp / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp).stdout.strip()
    purelib = Path(purelib)
    (purelib / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp)
    return env_dir


def test_the_wheel_carries_the_configs_and_its_commands_run_outside_the_repository(installed, tmp_path) -> None:
    bin_dir = installed / "bin"
    where = run(bin_dir / "python", "-c", "import srnlab.config as c; print(c.__file__); print(c.CONFIG_DIR)",
                cwd=tmp_path).stdout.split()  # fmt: skip
    assert all(Path(p).is_relative_to(installed) for p in where), where
    assert (Path(where[1]) / "experiment" / "table1" / "sr_edrb3.yaml").is_file()

    summary = run(bin_dir / "srn-summary", cwd=tmp_path).stdout
    assert "3,764,195" in summary and "SR-EDRB3" in summary
    env = {"PATH": str(bin_dir), "WANDB_MODE": "offline", "HOME": str(tmp_path)}
    run(bin_dir / "srn-train", "profile=smoke", "logger=csv", "data.synthesize.n_train=4", "data.synthesize.n_test=2",
        "data.synthesize.size=[64,64]", "hydra.run.dir=run", cwd=tmp_path, env=env)  # fmt: skip
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["status"] == "ok" and result["global_step"] == 4
    assert (tmp_path / "data" / "synthetic" / "recipe.json").is_file()  # the data went where the user is
    assert not (REPO / "build").exists()
