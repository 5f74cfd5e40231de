"""The record every training job leaves in its folder, `result.json`: the one contract between `srn-train`,
which writes it, and `srn-table1`, the tests and anyone's own analysis, which read it. Field names are the
JSON keys, so the file stays readable without srnlab."""

from __future__ import annotations

import csv
import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from srnlab.errors import UserError
from srnlab.runs.files import read_json, write_json

RESULT_FILE = "result.json"
PROGRESS_FILE = "progress.json"  # the step, training time and validation history, written while the job runs
TEST_IMAGES_FILE = "test_images.csv"  # each test image's scores for the best checkpoint: what paired tests compare
STATUSES = ("ok", "diverged", "failed", "interrupted")


@dataclass(frozen=True)
class Budget:
    """The training budget a job had: what makes two rows of a table comparable."""

    max_steps: int
    crop_size: int
    batch_size: int
    width_mult: float

    def describe(self) -> str:
        return (
            f"{self.max_steps} steps of batch {self.batch_size} x {self.crop_size}x{self.crop_size} crops, "
            f"channel width x{self.width_mult}"
        )


@dataclass
class RunResult:
    """How a job ended (`status`: ok, diverged or failed, with `error`), what it trained (`variant`, the
    experiment config's block; `budget`; `params` at the trained width; `seed`) and how it scored (`test`: the
    test-split metrics as logged, e.g. `test/psnr`; `val_first`/`val_last`: the first and last validation;
    each test image's scores are in TEST_IMAGES_FILE next to it; `crop_border`: the pixels cut off each side
    before scoring, 0 in records from before the option, which cut none)."""

    variant: dict[str, Any]
    budget: Budget
    profile: str | None = None
    sweep_group: str | None = None
    seed: int | None = None
    status: str = "ok"
    error: str | None = None
    diverged: dict[str, Any] | None = None
    interrupted: dict[str, Any] | None = None  # the signal and the step of a job a signal stopped (it can resume)
    precision: str | None = None
    machine: str | None = None
    params: int | None = None
    global_step: int | None = None
    train_time_s: float | None = None
    wall_time_s: float | None = None
    val_first: dict[str, float] | None = None
    val_last: dict[str, float] | None = None
    val_best_psnr: float | None = None
    test: dict[str, float] = field(default_factory=dict)
    best_ckpt: str | None = None
    crop_border: int = 0  # pixels cut off each side of every image before the scores (model.crop_border)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def test_score(self, metric: str) -> float | None:
        """`test/<metric>` of a finished job (e.g. psnr, blur_ssim), None for a job that did not finish."""
        return self.test.get(f"test/{metric}") if self.ok else None

    def describe_status(self) -> str:
        """'ok', 'failed: <error>' or 'diverged at step N': the status column of a table."""
        if self.status == "failed":
            return f"failed: {self.error or ''}"
        if self.status == "diverged":
            return f"diverged at step {(self.diverged or {}).get('step')}"
        if self.status == "interrupted":
            stop = self.interrupted or {}
            return f"interrupted at step {stop.get('step')} by {stop.get('signal')} (resumable)"
        return self.status

    def write(self, folder: Path) -> Path:
        """Atomically, so that a sweep never reads half a record."""
        path = folder / RESULT_FILE
        write_json(path, asdict(self))
        return path

    @classmethod
    def read(cls, folder: Path) -> RunResult | None:
        """The job's record, or None when the job has not finished (or never ran). Keys this version does not
        know (a newer srnlab's) are ignored."""
        data = read_json(folder / RESULT_FILE)
        if data is None:
            return None
        known = {f.name for f in dataclasses.fields(cls)}
        fields = {k: v for k, v in data.items() if k in known}
        try:
            return cls(**{**fields, "budget": Budget(**fields["budget"])})
        except (KeyError, TypeError, ValueError) as e:
            raise UserError(
                f"{folder / RESULT_FILE} is not a result record of srn-train ({type(e).__name__}: {e}); "
                "delete it and run the job again"
            ) from e


def read_test_images(folder: Path) -> dict[str, dict[str, float]] | None:
    """Each test image's scores (image name -> metric -> value) that the job wrote, or None for a job that wrote
    none (it did not test, or predates the file)."""
    path = folder / TEST_IMAGES_FILE
    if not path.is_file():
        return None
    with path.open(newline="") as f:
        return {row.pop("name"): {k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)}
