"""`make reproduce-table1` end to end with the smoke profile, an interrupted sweep, and the results notebook."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from cli import SMALL_DATA, offline_env
from hydra.utils import instantiate
from nbclient import NotebookClient

from srnlab.cli.table1 import main as table1_main
from srnlab.config import TABLE1_IDS, compose_config
from srnlab.evaluation import format_report
from srnlab.models.measure import count_parameters
from srnlab.precision import cpu_name, resolve_precision
from srnlab.report.dashboard.offline_runs import find_runs, read_run
from srnlab.report.rows import collect_rows
from srnlab.report.summary import summarize
from srnlab.report.sweep import Sweep
from srnlab.report.table import format_markdown, records
from srnlab.runs.files import write_csv
from srnlab.runs.results import Budget, RunResult

REPO = Path(__file__).resolve().parents[1]
SPEC_PARAMS = {
    "ss": 2_731_619, "sc": 8_194_857, "wo_r": 2_731_619, "rnn": 3_026_787, "sr_flat": 2_638_119,
    "sr_rb": 2_638_119, "sr_ed": 3_764_195, "sr_edrb1": 2_214_115, "sr_edrb2": 2_989_155, "sr_edrb3": 3_764_195,
}  # fmt: skip


def test_smoke_sweep_writes_all_ten_rows_with_the_paper_parameter_counts(smoke_sweep) -> None:
    with (smoke_sweep / "table1.csv").open() as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    assert list(rows) == list(TABLE1_IDS)
    for exp_id, row in rows.items():
        assert row["status"] == "ok", row
        assert int(row["params"]) == SPEC_PARAMS[exp_id]
        smoke_net = instantiate(compose_config("train", ["profile=smoke", f"experiment=table1/{exp_id}"]).model.net)
        assert int(row["trained_params"]) == count_parameters(smoke_net) < SPEC_PARAMS[exp_id]
        assert float(row["psnr"]) > 0 and float(row["blur_psnr"]) > 15
    assert sorted(int(r["paper_rank"]) for r in rows.values()) == list(range(1, 11))
    assert rows["sr_edrb3"]["paper_rank"] == "1" and rows["sr_flat"]["paper_rank"] == "10"
    table = (smoke_sweep / "table1.md").read_text()
    assert "Spearman rank correlation" in table and "4 steps of batch 2" in table
    assert "One seed per variant: the intervals come from the test images only" in table
    assert all(r["seeds"] == "1" and r["psnr_std"] == "" for r in rows.values())
    assert all(float(r["psnr_ci_low"]) <= float(r["psnr"]) <= float(r["psnr_ci_high"]) for r in rows.values())
    with (smoke_sweep / "pairs.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 45, "every pair of the 10 variants"
    with (smoke_sweep / "claims.csv").open() as f:
        claims = list(csv.DictReader(f))
    assert len(claims) == 10 and {c["verdict"] for c in claims} <= {"reproduced", "not distinguishable", "contradicted"}
    assert "The paper's claims: " in table and "claims.md" in table
    # the smoke profile trains with precision auto: what this CPU resolves it to (32-true or bf16-mixed)
    assert f"Machine: {cpu_name()}, " in table and f"precision {resolve_precision('auto', 'cpu').precision} (" in table
    for name in ("psnr_vs_params.png", "qualitative.png", "pairs.png", "claims.png"):
        assert (smoke_sweep / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.stem for p in (smoke_sweep / "curves").glob("*.csv")) == sorted(TABLE1_IDS)
    (run,) = [read_run(r) for r in find_runs(smoke_sweep)]
    assert run["group"] == "table1-smoke-synthetic" and run["job_type"] == "table"


def test_an_interrupted_two_seed_sweep_finishes_the_rest_and_reports_seed_statistics(tmp_path) -> None:
    experiments = "table1/sr_edrb1,table1/wo_r,table1/ss"
    cmd = [
        sys.executable, "-m", "srnlab.cli.train", "--config-name", "table1",
        "profile=smoke", f"paths.log_dir={tmp_path}", f"paths.data_dir={tmp_path}/data", *SMALL_DATA.split(),
        f"experiment={experiments}", "seed=1,2", "logger=csv", "callbacks.divergence.max_loss=1e9",  # smoke nets spike
    ]  # fmt: skip
    sweep = tmp_path / "table1" / "smoke-synthetic"
    first = sweep / "sr_edrb1" / "seed1" / "result.json"
    proc = subprocess.Popen(cmd, cwd=REPO, env=offline_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not first.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert first.exists() and not (sweep / "ss" / "seed2" / "result.json").exists()
    first_mtime = first.stat().st_mtime

    rerun = subprocess.run(cmd, cwd=REPO, env=offline_env(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert first.stat().st_mtime == first_mtime
    assert "sr_edrb1 already finished" in rerun.stderr + rerun.stdout
    jobs = {(exp_id, seed): RunResult.read(sweep / exp_id / f"seed{seed}") for exp_id in ("sr_edrb1", "wo_r", "ss")
            for seed in (1, 2)}  # fmt: skip
    assert all(r is not None and r.ok for r in jobs.values()) and {r.seed for r in jobs.values()} == {1, 2}
    assert jobs["ss", 1].test["test/psnr"] != jobs["ss", 2].test["test/psnr"], "seeds change the training"

    results = tmp_path / "results"
    table1_main(["--runs", str(sweep), "--out", str(results), "--no-wandb"])  # read from multirun.yaml
    with (results / "table1.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["sr_edrb1", "wo_r", "ss"] and {r["seeds"] for r in rows} == {"2"}
    for r in rows:
        seed_psnrs = [jobs[r["id"], seed].test["test/psnr"] for seed in (1, 2)]
        assert float(r["psnr"]) == pytest.approx(sum(seed_psnrs) / 2)
        assert float(r["psnr_std"]) == pytest.approx(abs(seed_psnrs[0] - seed_psnrs[1]) / 2**0.5)
        assert float(r["psnr_ci_low"]) <= float(r["psnr"]) <= float(r["psnr_ci_high"])
        assert 0 <= float(r["rank_stability"]) <= 1
    with (results / "pairs.csv").open() as f:
        pairs = list(csv.DictReader(f))
    assert [(p["a"], p["b"]) for p in pairs] == [("sr_edrb1", "wo_r"), ("sr_edrb1", "ss"), ("wo_r", "ss")]
    assert {p["verdict"] for p in pairs} <= {"better", "worse", "not distinguishable"}
    for name in ("pairs.png", "psnr_vs_params.png", "qualitative.png"):
        assert (results / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "mean ± standard deviation over seeds" in (results / "table1.md").read_text()


def test_results_notebook_executes(smoke_sweep, monkeypatch) -> None:
    notebook = nbformat.read(REPO / "notebooks" / "table1.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), "strip outputs"
    monkeypatch.setenv("SRN_RESULTS", str(smoke_sweep))
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO / "notebooks")}}
    )
    client.execute()
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_metrics_beyond_psnr_and_ssim_become_columns_of_the_table_and_of_the_eval_report(tmp_path) -> None:
    scores = {"test/psnr": 24.0, "test/ssim": 0.8, "test/blur_psnr": 23.0, "test/blur_ssim": 0.7,
              "test/grad_ratio": 0.91, "test/blur_grad_ratio": 0.62}  # fmt: skip
    for exp_id in ("ss", "sr_edrb3"):
        RunResult({"id": exp_id}, Budget(4, 32, 2, 0.25), "smoke", test=scores, params=1).write(tmp_path / exp_id)
    rows = collect_rows(Sweep.read(tmp_path).seed_results, {i: summarize(i) for i in ("ss", "sr_edrb3")})
    assert rows[0].other_scores == {"grad_ratio": 0.91, "blur_grad_ratio": 0.62}
    table = format_markdown(rows, [RunResult.read(tmp_path / "ss")])
    assert "| train min | grad ratio (luma) | blurry input grad ratio (luma) | status |" in table
    assert "| 0.9100 | 0.6200 | ok |" in table
    write_csv(tmp_path / "table1.csv", records(rows))
    with (tmp_path / "table1.csv").open() as f:
        assert [float(r["grad_ratio"]) for r in csv.DictReader(f)] == [0.91, 0.91]

    eval_records = [{"name": "a.png", "psnr": 24.0, "grad_ratio": 0.9, "blur_psnr": 23.0, "blur_grad_ratio": 0.6}]
    summary = {"images": 1, **{f"mean_{k}": v for k, v in eval_records[0].items() if k != "name"}}
    report = format_report(eval_records, summary)
    assert "grad ratio" in report.splitlines()[0] and "0.9000" in report.splitlines()[-1]
