"""The proxy-fidelity study (docs/proxy-fidelity.md): which laptop-sized Table 1 protocol ranks the variants
stably and above their blurry input.

    python benchmarks/proxy_fidelity.py train --arms proxy_residual proxy_pairs proxy_long --seeds 1 2
    python benchmarks/proxy_fidelity.py collect     # copy finished jobs' small files into ablations/proxy-fidelity
    python benchmarks/proxy_fidelity.py report      # analyse every arm, write the doc's results block and figure

`train` runs each arm's Table 1 sweep (`srn-train --config-name table1 profile=<arm>`) with the study's pinned
precision, two jobs at a time with one thread each; an interrupted study resumes where it stopped (finished jobs
are skipped, unfinished ones resume from their last.ckpt). `collect` keeps what a finished job leaves that the
analysis needs (result.json, test_images.csv, the CSV log, the Hydra config), so that the study can be
re-analysed, and continued on another machine, from the repository alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from hydra.utils import instantiate

from srnlab.config import TABLE1_IDS, compose_config

ARMS = ("proxy_residual", "proxy_pairs", "proxy_long")  # the pre-registered candidates, in running order
CONTROL = "mini"  # the control arm: its committed results, ablations/results/mini
PRECISION = "32-true"  # pre-registered: the control's precision, available on every CPU
STUDY_DIR = Path("ablations") / "proxy-fidelity"
KEPT_FILES = ("result.json", "test_images.csv", "csv/metrics.csv", ".hydra/config.yaml", ".hydra/overrides.yaml")


def sweep_overrides(arm: str, log_dir: Path) -> list[str]:
    return [f"profile={arm}", "data=synthetic", f"paths.log_dir={log_dir}", f"trainer.precision={PRECISION}"]


def sweep_dir(arm: str, log_dir: Path) -> Path:
    return Path(compose_config("table1", sweep_overrides(arm, log_dir)).hydra.sweep.dir)


def ensure_data(arm: str, log_dir: Path) -> None:
    """Synthesise the arm's set once, before two parallel jobs would race to."""
    cfg = compose_config("table1", [*sweep_overrides(arm, log_dir), f"experiment=table1/{TABLE1_IDS[0]}"])
    instantiate(cfg.data).prepare_data()


def train(arm: str, seeds: list[int], log_dir: Path, jobs: int) -> int:
    """One arm's sweep over the ten variants and `seeds`, `jobs` at a time (one thread each)."""
    ensure_data(arm, log_dir)
    cmd = [
        sys.executable,
        "-m",
        "srnlab.cli.train",
        "--config-name",
        "table1",
        *sweep_overrides(arm, log_dir),
        f"seed={','.join(map(str, seeds))}",
        "hydra/launcher=joblib",
        f"hydra.launcher.n_jobs={jobs}",
    ]
    print(f"[{arm}] {' '.join(cmd)}", flush=True)
    return subprocess.call(
        cmd, env={**os.environ, "OMP_NUM_THREADS": "1" if jobs > 1 else os.environ.get("OMP_NUM_THREADS", "")}
    )


def collect(arm: str, log_dir: Path, out_dir: Path) -> int:
    """Copy the small files of the arm's finished jobs into out_dir/<arm>/<variant>/seed<n>; returns how many."""
    source = sweep_dir(arm, log_dir)
    copied = 0
    for result in sorted(source.glob("*/seed*/result.json")):
        job = result.parent
        target = out_dir / arm / job.relative_to(source)
        for name in KEPT_FILES:
            if (job / name).is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(job / name, target / name)
        copied += 1
    if (source / "multirun.yaml").is_file():
        (out_dir / arm).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "multirun.yaml", out_dir / arm / "multirun.yaml")
    return copied


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("train", "collect"))
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--log-dir", type=Path, default=Path("logs"))
    parser.add_argument("--out", type=Path, default=STUDY_DIR, help="where `collect` keeps the jobs' small files")
    parser.add_argument("--jobs", type=int, default=2, help="jobs at a time (one thread each)")
    args = parser.parse_args(argv)
    for arm in args.arms:
        if args.command == "train":
            code = train(arm, args.seeds, args.log_dir, args.jobs)
            print(f"[{arm}] exit code {code}; {collect(arm, args.log_dir, args.out)} finished jobs kept", flush=True)
        else:
            print(f"[{arm}] {collect(arm, args.log_dir, args.out)} finished jobs kept in {args.out / arm}")


if __name__ == "__main__":
    main()
