"""A Table 1 sweep as Hydra recorded it: its variants, seeds, profile and data, and each job's record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from srnlab.config import TABLE1_IDS, compose_config, experiment_ids
from srnlab.errors import UserError
from srnlab.runs.files import read_json
from srnlab.runs.results import PROGRESS_FILE, RunResult, read_test_images

MULTIRUN_FILE = "multirun.yaml"  # what Hydra records of a sweep in its folder


@dataclass(frozen=True)
class Sweep:
    """A Table 1 sweep as Hydra recorded it in the sweep folder's multirun.yaml: which variants it ran with which
    seeds, with which profile on which data. Each job's folder is <variant>/seed<n>; `seeds` is empty for a
    sweep from before seeds were an axis, whose jobs are <variant>/."""

    runs_dir: Path
    ids: tuple[str, ...]
    profile: str | None = None
    data: str | None = None
    seeds: tuple[int, ...] = ()

    @classmethod
    def read(cls, runs_dir: Path) -> Sweep:
        """The sweep in `runs_dir`; a folder without multirun.yaml (jobs copied by hand) is read as holding
        Table 1's variants, with the seeds its folders show."""
        recorded = runs_dir / MULTIRUN_FILE
        if not recorded.is_file():
            seeds = {int(p.name.removeprefix("seed")) for p in runs_dir.glob("*/seed*") if p.name[4:].isdigit()}
            return cls(runs_dir, TABLE1_IDS, seeds=tuple(sorted(seeds)))
        return cls._from_config(runs_dir, OmegaConf.load(recorded))

    @classmethod
    def configured(cls, overrides: list[str]) -> Sweep:
        """The sweep `srn-train --config-name table1 <overrides>` writes (or wrote): as its folder recorded it,
        or as composed where it has not run (its results may be committed while its folder is gone)."""
        cfg = compose_config("table1", overrides)
        runs_dir = Path(cfg.hydra.sweep.dir)
        return cls.read(runs_dir) if (runs_dir / MULTIRUN_FILE).is_file() else cls._from_config(runs_dir, cfg)

    @classmethod
    def _from_config(cls, runs_dir: Path, cfg: DictConfig) -> Sweep:
        """From the sweep's config with its `hydra` node: the experiments and seeds given on the command line,
        else the swept lists."""
        swept = {**cfg.hydra.sweeper.params, **dict(o.split("=", 1) for o in cfg.hydra.overrides.task if "=" in o)}
        return cls(
            runs_dir,
            experiment_ids(swept["experiment"]),
            cfg.get("profile_name"),
            cfg.hydra.runtime.choices.get("data"),
            _swept_values("seed", swept["seed"]) if "seed" in swept else (),
        )

    def results_dir(self) -> Path:
        """ablations/results/<profile>, or <profile>-<data> for other data than the synthetic default."""
        if self.profile is None:
            raise UserError(f"{self.runs_dir} has no multirun.yaml to name its results folder: pass --out")
        name = self.profile if self.data in (None, "synthetic") else f"{self.profile}-{self.data}"
        return Path("ablations") / "results" / name

    def job_dir(self, exp_id: str, seed: int | None) -> Path:
        return self.runs_dir / exp_id if seed is None else self.runs_dir / exp_id / f"seed{seed}"

    @cached_property
    def seed_results(self) -> dict[str, dict[int | None, RunResult | None]]:
        """Every job's result record (None for a job that has not finished), per variant and seed, read once."""
        seeds = self.seeds or (None,)
        return {exp_id: {s: RunResult.read(self.job_dir(exp_id, s)) for s in seeds} for exp_id in self.ids}

    def lead_seed(self, exp_id: str) -> int | None:
        """The seed whose job stands for the variant where one job must (best checkpoint, curves)."""
        return lead_seed(self.seed_results[exp_id])

    def unfinished(self) -> dict[str, str]:
        """The status of each variant none of whose jobs left a record but one of which left a checkpoint (it
        was killed, or is still training): 'interrupted at step N (resumable)', N from its progress.json."""
        statuses = {}
        for exp_id, jobs in self.seed_results.items():
            folders = [self.job_dir(exp_id, s) for s, r in jobs.items() if r is None]
            started = [f for f in folders if (f / "checkpoints" / "last.ckpt").is_file()]
            if started and not any(jobs.values()):
                steps = [(read_json(f / PROGRESS_FILE) or {}).get("global_step") for f in started]
                statuses[exp_id] = f"interrupted at step {max(s or 0 for s in steps)} (resumable)"
        return statuses

    def has_jobs(self) -> bool:
        """Whether any job of the sweep left a record or a checkpoint."""
        return any(r is not None for jobs in self.seed_results.values() for r in jobs.values()) or bool(
            self.unfinished()
        )

    @cached_property
    def results(self) -> dict[str, RunResult | None]:
        """Each variant's lead job's record."""
        return {exp_id: self.seed_results[exp_id][self.lead_seed(exp_id)] for exp_id in self.ids}

    def finished(self) -> list[RunResult]:
        return [r for jobs in self.seed_results.values() for r in jobs.values() if r and r.ok]

    def per_image_psnr(self) -> dict[str, np.ndarray]:
        """Each variant's test PSNR per finished seed (rows) and test image (columns, in name order), for the
        variants whose finished jobs all wrote their per-image scores."""
        scores = {}
        for exp_id, jobs in self.seed_results.items():
            images = [read_test_images(self.job_dir(exp_id, s)) for s, r in jobs.items() if r and r.ok]
            if images and all(images):
                scores[exp_id] = np.array([[i[name]["psnr"] for name in sorted(i)] for i in images])
        return scores

    def wandb_group(self) -> str | None:
        """The W&B group the variants' runs logged to, so that the table's run joins them."""
        return next((r.sweep_group for r in self.results.values() if r and r.sweep_group), None)


def _swept_values(key: str, value: str) -> tuple[int, ...]:
    """The values of a swept key as Hydra's sweeper reads it ('1,2,3', 'range(1,4)' or '1')."""
    override = OverridesParser.create().parse_override(f"{key}={value}")
    if override.is_sweep_override():
        return tuple(int(v) for v in override.sweep_string_iterator())
    return (int(override.get_value_element_as_str()),)


def lead_seed(jobs: Mapping[int | None, RunResult | None]) -> int | None:
    """Of one variant's jobs (seed -> record, None where none was written), the seed that stands for it: the
    first that finished, else the first with a record (its failure is what the table shows), else the first."""
    seeds = list(jobs)
    with_record = [s for s in seeds if jobs[s]]
    return next((s for s in with_record if jobs[s].ok), with_record[0] if with_record else seeds[0])
