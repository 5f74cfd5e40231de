"""The proxy-fidelity study (docs/proxy-fidelity.md): which laptop-sized Table 1 protocol ranks the variants
stably and above their blurry input.

    python -m srnlab.studies.proxy_fidelity train --arms proxy_residual proxy_pairs proxy_long --seeds 1 2
    python -m srnlab.studies.proxy_fidelity collect     # copy finished jobs' small files into ablations/proxy-fidelity
    python -m srnlab.studies.proxy_fidelity report      # analyse every arm, write the doc's results block and figure
    python -m srnlab.studies.proxy_fidelity recheck     # the chosen arm on another synthetic seed and other scenes

`train` runs each arm's Table 1 sweep (`srn-train --config-name table1 profile=<arm>`) with the study's pinned
precision, two jobs at a time with one thread each; an interrupted study resumes where it stopped (finished jobs
are skipped, unfinished ones resume from their last.ckpt). `collect` keeps what a finished job leaves that the
analysis needs (result.json, test_images.csv, the CSV log, the Hydra config), so that the study can be
re-analysed, and continued on another machine, from the repository alone. `report` reads only those files and
the control's committed results, applies the pre-registered selection rule and writes the results block of the
doc, `ablations/proxy-fidelity/summary.json` and `docs/proxy-fidelity.png`.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from hydra.utils import instantiate
from scipy import stats
from torch.utils.flop_counter import FlopCounterMode

from srnlab.config import TABLE1_IDS, compose_config
from srnlab.image_io import read_image, to_tensor
from srnlab.lit.losses import multiscale_mse
from srnlab.report.claims import CONTRADICTED, REPRODUCED, UNCLEAR, judge, read_pairs, table1_claims, tally
from srnlab.report.significance import PairComparison, analyse
from srnlab.runs.results import RunResult, read_test_images
from srnlab.studies.pages import replace_section

ARMS = ("proxy_residual", "proxy_pairs", "proxy_long")  # the pre-registered candidates, in running order
LABELS = {"mini": "A: control", "proxy_residual": "B: residual", "proxy_pairs": "C: pairs", "proxy_long": "D: longer"}
CONTROL = "mini"  # the control arm: its committed results, ablations/results/mini
PRECISION = "32-true"  # pre-registered: the control's precision, available on every CPU
STUDY_DIR = Path("ablations") / "proxy-fidelity"
CONTROL_DIR = Path("ablations") / "results" / CONTROL
DOC = Path("docs") / "proxy-fidelity.md"
FIGURE = Path("docs") / "proxy-fidelity.png"
RESULTS_MARKERS = ("<!-- proxy-fidelity:start -->", "<!-- proxy-fidelity:end -->")
KEPT_FILES = ("result.json", "test_images.csv", "csv/metrics.csv", ".hydra/config.yaml", ".hydra/overrides.yaml")
# Pre-registered budget rule (docs/proxy-fidelity.md, "Selection rule" (c)): one seed of mini's 600 steps takes
# these minutes with the default launcher; an arm with mini's shapes scales by its steps.
MINI_SEED_MINUTES = {"AMX": 29.0, "AVX2": 33.0}
BUDGET_MINUTES = {"AMX": 60.0, "AVX2": 180.0}
TAU_TIE = 0.10  # pre-registered: arms within this of the best between-seed tau count as tied


def sweep_overrides(arm: str, log_dir: Path) -> list[str]:
    return [f"profile={arm}", "data=synthetic", f"paths.log_dir={log_dir}", f"trainer.precision={PRECISION}"]


def sweep_dir(arm: str, log_dir: Path) -> Path:
    return Path(compose_config("table1", sweep_overrides(arm, log_dir)).hydra.sweep.dir)


def ensure_data(overrides: list[str]) -> None:
    """Synthesise the arm's set once, before two parallel jobs would race to."""
    cfg = compose_config("table1", [*overrides, f"experiment=table1/{TABLE1_IDS[0]}"])
    instantiate(cfg.data).prepare_data()


def run_sweep(overrides: list[str], seeds: list[int], jobs: int) -> int:
    """One Table 1 sweep over the ten variants and `seeds`, `jobs` at a time (one thread each)."""
    ensure_data(overrides)
    cmd = [
        sys.executable, "-m", "srnlab.cli.train", "--config-name", "table1", *overrides,
        f"seed={','.join(map(str, seeds))}", "hydra/launcher=joblib", f"hydra.launcher.n_jobs={jobs}",
    ]  # fmt: skip
    print(" ".join(cmd), flush=True)
    threads = "1" if jobs > 1 else os.environ.get("OMP_NUM_THREADS", "")
    return subprocess.call(cmd, env={**os.environ, "OMP_NUM_THREADS": threads})


def collect(source: Path, target: Path) -> int:
    """Copy the small files of a sweep's finished jobs from `source` into target/<variant>/seed<n>."""
    copied = 0
    for result in sorted(source.glob("*/seed*/result.json")):
        job = result.parent
        for name in KEPT_FILES:
            if (job / name).is_file():
                (target / job.relative_to(source) / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(job / name, target / job.relative_to(source) / name)
        copied += 1
    if (source / "multirun.yaml").is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "multirun.yaml", target / "multirun.yaml")
    return copied


# ---------------------------------------------------------------------------------------------------- the arms


@dataclass
class Arm:
    """What the analysis needs of one arm: test PSNR per variant and seed, per-image scores where kept, the
    validation curves, the paired tests, minutes and the machine."""

    profile: str
    seed_psnr: dict[str, dict[int, float]]  # variant -> seed -> mean test PSNR
    blur_psnr: float
    scores: dict[str, np.ndarray] | None  # variant -> (seeds, images) per-image PSNR; None for the control
    pairs: list[PairComparison]
    auc: dict[str, list[float]]  # variant -> area under the validation curve per seed with a curve
    train_minutes: float  # one seed of all ten variants, mean over seeds (jobs' own clocks)
    machines: set[str] = field(default_factory=set)
    precisions: set[str] = field(default_factory=set)
    spearman_ci_recorded: tuple[float, float] | None = None  # the control's, from its table1.md

    @property
    def seeds(self) -> list[int]:
        return sorted({s for per in self.seed_psnr.values() for s in per})

    def mean_psnr(self) -> dict[str, float]:
        return {v: float(np.mean(list(per.values()))) for v, per in self.seed_psnr.items()}


def curve_auc(metrics_csv: Path) -> float | None:
    """The validation PSNR averaged over the run (trapezoidal area over the steps it was measured at)."""
    if not metrics_csv.is_file():
        return None
    with metrics_csv.open(newline="") as f:
        points = sorted({int(r["step"]): float(r["val/psnr"]) for r in csv.DictReader(f) if r.get("val/psnr")}.items())
    if len(points) < 2:
        return None
    steps, values = np.array(points, dtype=float).T
    return float(np.trapezoid(values, steps) / (steps[-1] - steps[0]))


def load_candidate(profile: str, study_dir: Path = STUDY_DIR) -> Arm | None:
    """A candidate arm from its jobs' kept files; None while no variant has a finished job."""
    root = study_dir / profile
    seed_psnr, scores, auc, minutes = {}, {}, {}, {}
    machines, precisions, blur = set(), set(), []
    for variant in TABLE1_IDS:
        jobs = {int(p.name[4:]): p for p in sorted((root / variant).glob("seed*"))}
        results = {s: RunResult.read(d) for s, d in jobs.items()}
        done = {s: r for s, r in results.items() if r is not None and r.ok}
        if not done:
            continue
        seed_psnr[variant] = {s: r.test["test/psnr"] for s, r in done.items()}
        images = [read_test_images(jobs[s]) for s in sorted(done)]
        scores[variant] = np.array([[i[name]["psnr"] for name in sorted(i)] for i in images])
        auc[variant] = [a for a in (curve_auc(jobs[s] / "csv" / "metrics.csv") for s in sorted(done)) if a is not None]
        minutes[variant] = float(np.mean([r.train_time_s for r in done.values()])) / 60
        machines |= {r.machine.split(",")[0] for r in done.values() if r.machine}
        precisions |= {r.precision for r in done.values() if r.precision}
        blur.append(next(iter(done.values())).test["test/blur_psnr"])
    if not seed_psnr:
        return None
    pairs = analyse(scores, {}).pairs
    return Arm(profile, seed_psnr, float(np.mean(blur)), scores, pairs, auc, sum(minutes.values()), machines,
               precisions)  # fmt: skip


def load_control(results_dir: Path = CONTROL_DIR) -> Arm:
    """The control from its committed results: seed means (per-seed scores were not committed), pairs.csv,
    the lead seed's curves and the Spearman interval its table recorded."""
    with (results_dir / "table1.csv").open(newline="") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    table_md = (results_dir / "table1.md").read_text()
    interval = re.search(r"Spearman rank correlation.*interval (-?[\d.]+) to (-?[\d.]+)", table_md)
    machine = re.search(r"^Machine: ([^,]+),", table_md, re.M)
    return Arm(
        CONTROL,
        {v: {0: float(r["psnr"])} for v, r in rows.items()},
        float(next(iter(rows.values()))["blur_psnr"]),
        None,
        read_pairs(results_dir / "pairs.csv"),
        {v: [a] for v in rows if (a := curve_auc(results_dir / "curves" / f"{v}.csv")) is not None},
        sum(float(r["train_time_min"]) for r in rows.values()),
        {machine.group(1)} if machine else set(),
        {"32-true"} if "precision 32-true" in table_md else set(),
        (float(interval.group(1)), float(interval.group(2))) if interval else None,
    )


# ------------------------------------------------------------------------------------------------- readouts


def arm_steps(profile: str) -> int:
    return int(compose_config("table1", [f"profile={profile}", "experiment=table1/ss"]).trainer.max_steps)


def train_tflop(profile: str) -> float:
    """TFLOP of one seed's training: forward and backward of a batch, summed over the variants and steps."""
    total = 0.0
    for variant in TABLE1_IDS:
        cfg = compose_config("table1", [f"profile={profile}", f"experiment=table1/{variant}"])
        net = instantiate(cfg.model.net)
        batch = torch.rand(cfg.data.batch_size, 3, cfg.data.crop_size, cfg.data.crop_size)
        with FlopCounterMode(display=False) as counter:
            multiscale_mse(net(batch), batch).backward()
        total += counter.get_total_flops() * cfg.trainer.max_steps
    return total / 1e12


def between_seed_tau(arm: Arm) -> float | None:
    """Kendall tau between the variants' rankings by each seed's test PSNR, mean over pairs of seeds."""
    seeds = arm.seeds
    if len(seeds) < 2 or 0 in seeds:
        return None
    taus = []
    for s, u in itertools.combinations(seeds, 2):
        shared = [v for v, per in arm.seed_psnr.items() if s in per and u in per]
        taus.append(stats.kendalltau([arm.seed_psnr[v][s] for v in shared], [arm.seed_psnr[v][u] for v in shared]))
    return float(np.mean([t.statistic for t in taus]))


def paper_psnr() -> dict[str, float]:
    return {v: float(compose_config("train", [f"experiment=table1/{v}"]).variant.paper.psnr) for v in TABLE1_IDS}


def readouts(arm: Arm, paper: dict[str, float]) -> dict[str, object]:
    """Every number the plan lists for an arm."""
    means = arm.mean_psnr()
    ids = [v for v in TABLE1_IDS if v in means]
    ours, theirs = [means[v] for v in ids], [paper[v] for v in ids]
    out: dict[str, object] = {
        "profile": arm.profile,
        "label": LABELS.get(arm.profile, arm.profile),
        "seeds": arm.seeds if 0 not in arm.seeds else "2 (committed as means)",
        "variants": len(ids),
        "blur_psnr": arm.blur_psnr,
        "mean_psnr": means,
        "above_input": sum(m > arm.blur_psnr for m in means.values()),
        "spearman": float(stats.spearmanr(ours, theirs).statistic),
        "kendall": float(stats.kendalltau(ours, theirs).statistic),
        "spearman_ci": arm.spearman_ci_recorded,
        "kendall_ci": None,
        "between_seed_tau": between_seed_tau(arm),
        "rank_stability": None,
        "train_minutes_per_seed": arm.train_minutes,
        "machines": sorted(arm.machines),
        "precisions": sorted(arm.precisions),
        "steps": arm_steps(arm.profile),
    }
    if arm.scores is not None and len(arm.scores) >= 3:
        significance = analyse(arm.scores, paper)
        out |= {"spearman_ci": significance.spearman_ci, "kendall_ci": significance.kendall_ci,
                "rank_stability": float(np.mean(list(significance.rank_stability.values())))}  # fmt: skip
    aucs = {v: float(np.mean(a)) for v, a in arm.auc.items() if a}
    auc_ids = [v for v in TABLE1_IDS if v in aucs]
    out["auc"] = aucs
    out["auc_spearman"] = (float(stats.spearmanr([aucs[v] for v in auc_ids], [paper[v] for v in auc_ids]).statistic)
                           if len(auc_ids) >= 3 else None)  # fmt: skip
    out["claims"] = [c.record() for c in judge(arm.pairs, table1_claims())]
    out["claims_tally"] = tally(judge(arm.pairs, table1_claims()))
    out["projected_minutes"] = {k: m * out["steps"] / 600 for k, m in MINI_SEED_MINUTES.items()}
    return out


def choose(arms: list[dict[str, object]]) -> tuple[str, list[str]]:
    """The pre-registered selection rule over the candidates (never the control): (a) every variant above its
    input, (c) the budget, (b) the highest between-seed tau, ties within TAU_TIE to the cheaper arm, then the
    one with fewer departures from the paper (running order). Returns the profile and the reasoning."""
    candidates = [a for a in arms if a["profile"] in ARMS and a["variants"] == len(TABLE1_IDS)]
    reasons = []
    fits = [a for a in candidates if all(a["projected_minutes"][k] <= BUDGET_MINUTES[k] for k in BUDGET_MINUTES)]
    for a in candidates:
        if a not in fits:
            reasons.append(f"{a['label']} is over the budget ({a['projected_minutes']}).")
    above = [a for a in fits if a["above_input"] == len(TABLE1_IDS)]
    if not above:
        most = max(a["above_input"] for a in fits)
        above = [a for a in fits if a["above_input"] == most]
        reasons.append(f"No arm has all ten variants above the input; rule 5 keeps those with the most ({most}).")
    else:
        reasons += [f"{a['label']} has {a['above_input']} of 10 variants above the input: not eligible."
                    for a in fits if a not in above]  # fmt: skip
    best = max(a["between_seed_tau"] for a in above)
    tied = [a for a in above if a["between_seed_tau"] >= best - TAU_TIE]
    tied.sort(key=lambda a: (round(a["tflop_per_seed"], 1), ARMS.index(a["profile"])))
    chosen = tied[0]
    taus = ", ".join(f"{a['label']} {a['between_seed_tau']:.2f}" for a in above)
    reasons.append(f"Between-seed Kendall tau of the eligible arms: {taus}; within {TAU_TIE} of the best "
                   f"({best:.2f}): {', '.join(a['label'] for a in tied)}.")  # fmt: skip
    if len(tied) > 1:
        reasons.append(f"Of the tied arms {chosen['label']} costs the least ({chosen['tflop_per_seed']:.0f} TFLOP).")
    return str(chosen["profile"]), reasons


# -------------------------------------------------------------------------------------------------- writing


def _ci(ci: object) -> str:
    return "" if not ci else f" [{ci[0]:.2f}, {ci[1]:.2f}]"


def _num(value: object, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


VERDICT_MARK = {REPRODUCED: "R", UNCLEAR: "n.d.", CONTRADICTED: "C"}


def results_markdown(arms: list[dict[str, object]], chosen: str | None, reasons: list[str]) -> str:
    names = dict(zip(TABLE1_IDS, (compose_config("train", [f"experiment=table1/{v}"]).variant.name
                                  for v in TABLE1_IDS), strict=True))  # fmt: skip
    lines = [
        "### The arms",
        "",
        "| arm | seeds | variants above input | Spearman ρ [95 % CI] | Kendall τ [95 % CI] | claims | "
        "between-seed τ | mean rank stability | AUC readout ρ | TFLOP per seed | train minutes per seed | "
        "projected one seed, AMX / AVX2 (min) | machine, precision |",
        "|---|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for a in arms:
        machine = "; ".join(a["machines"]) + ", " + "/".join(a["precisions"])
        proj = a["projected_minutes"]
        lines.append(
            f"| {a['label']} (`{a['profile']}`) | {a['seeds']} | {a['above_input']} of {a['variants']} | "
            f"{a['spearman']:.2f}{_ci(a['spearman_ci'])} | {a['kendall']:.2f}{_ci(a['kendall_ci'])} | "
            f"{a['claims_tally']} | {_num(a['between_seed_tau'])} | {_num(a['rank_stability'])} | "
            f"{_num(a['auc_spearman'])} | {a['tflop_per_seed']:.0f} | {a['train_minutes_per_seed']:.0f} | "
            f"{proj['AMX']:.0f} / {proj['AVX2']:.0f} | {machine} |"
        )
    lines += ["", "### Mean test PSNR minus the blurry input (dB), per variant", "",
              "| variant | paper PSNR | " + " | ".join(str(a["label"]) for a in arms) + " |",
              "|---|---:|" + "---:|" * len(arms)]  # fmt: skip
    paper = paper_psnr()
    for v in TABLE1_IDS:
        cells = [_num(a["mean_psnr"][v] - a["blur_psnr"], "+.2f") if v in a["mean_psnr"] else "-" for a in arms]
        lines.append(f"| {names[v]} | {paper[v]:.2f} | " + " | ".join(cells) + " |")
    blur = " / ".join(f"{a['blur_psnr']:.2f}" for a in arms)
    lines += ["", f"Blurry input PSNR of each arm's test split: {blur} dB.", "",
              "### The claims, per arm (our difference in dB; R reproduced, C contradicted, n.d. not distinguishable)",
              "", "| claim | paper | " + " | ".join(str(a["label"]) for a in arms) + " |",
              "|---|---:|" + "---:|" * len(arms)]  # fmt: skip
    for k, claim in enumerate(table1_claims()):
        cells = []
        for a in arms:
            c = a["claims"][k]
            cells.append("-" if c["mean_diff_db"] is None else
                         f"{c['mean_diff_db']:+.2f} {VERDICT_MARK.get(c['verdict'], c['verdict'])}")  # fmt: skip
        lines.append(f"| {claim.claim} | {claim.paper_gain:+.2f} | " + " | ".join(cells) + " |")
    lines += ["", "### The choice", ""]
    lines += [f"- {r}" for r in reasons] or ["- Not made yet: the candidates have not all finished."]
    if chosen:
        lines += ["", f"**Chosen: {LABELS[chosen]} (`{chosen}`).**"]
    return "\n".join(lines) + "\n"


def plot(arms: list[dict[str, object]], path: Path) -> None:
    """Each arm's gain over the input per variant (paper order, best first), and its claims."""
    paper = paper_psnr()
    order = sorted(TABLE1_IDS, key=lambda v: -paper[v])
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 4.8), gridspec_kw={"width_ratios": [1.2, 1]})
    for k, a in enumerate(arms):
        gains = [a["mean_psnr"].get(v, np.nan) - a["blur_psnr"] for v in order]
        left.plot(np.arange(len(order)) + (k - 1.5) * 0.12, gains, "o", label=a["label"])
    left.axhline(0, color="0.3", lw=0.8)
    left.set_xticks(range(len(order)), order, rotation=45, ha="right", fontsize=8)
    left.set_ylabel("mean test PSNR minus blurry input (dB)")
    left.set_title("variants in the paper's order, best first", fontsize=9)
    left.legend(fontsize=7)
    left.grid(alpha=0.3)
    claims = table1_claims()
    codes = {REPRODUCED: 1, UNCLEAR: 0, CONTRADICTED: -1}
    grid = np.array([[codes.get(c["verdict"], np.nan) for c in a["claims"]] for a in arms]).T
    right.imshow(grid, cmap="RdYlGn", vmin=-1.5, vmax=1.5, aspect="auto")
    for i, j in np.ndindex(grid.shape):
        diff = arms[j]["claims"][i]["mean_diff_db"]
        right.text(j, i, "-" if diff is None else f"{diff:+.2f}", ha="center", va="center", fontsize=7)
    right.set_xticks(range(len(arms)), [a["label"] for a in arms], fontsize=8)
    right.set_yticks(range(len(claims)), [c.claim for c in claims], fontsize=8)
    right.set_title("claims: green reproduced, yellow not distinguishable, red contradicted", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _tau(a: dict[str, float], b: dict[str, float]) -> float:
    shared = [v for v in TABLE1_IDS if v in a and v in b]
    return float(stats.kendalltau([a[v] for v in shared], [b[v] for v in shared]).statistic)


def recheck_markdown(chosen: dict[str, object], study_dir: Path) -> str:
    """The re-checks of the chosen arm against its own table: rank agreement (Kendall tau with the main table's
    mean over seeds), variants above the input and, for the other synthetic seed, the claims."""
    main = chosen["mean_psnr"]
    lines = ["### Re-checks of the chosen arm", "",
             "| check | seeds | images | variants above input | Kendall τ with the main table | Spearman ρ with "
             "the paper | claims |", "|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    paper = paper_psnr()
    seeded = load_candidate(f"{chosen['profile']}-data-seed1", study_dir)
    if seeded is not None and len(seeded.seed_psnr) == len(TABLE1_IDS):
        means = seeded.mean_psnr()
        claims = tally(judge(seeded.pairs, table1_claims()))
        n_images = next(iter(seeded.scores.values())).shape[1]
        lines.append(f"| synthesis seed 1 (new crops and blur of the same scenes) | 1 | {n_images} | "
                     f"{sum(m > seeded.blur_psnr for m in means.values())} of 10 | {_tau(means, main):.2f} | "
                     f"{_rho_with_paper(means, paper):.2f} | {claims} |")  # fmt: skip
    checks = study_dir / str(chosen["profile"]) / RECHECK_FILE
    names = {"other_photos": "six photos no arm saw (packaged extras, 4 pairs each)",
             "real_gopro": "real GoPro test frames (720 x 1280)"}  # fmt: skip
    for key, scores in (json.loads(checks.read_text()) if checks.is_file() else {}).items():
        means = {v: float(np.mean(list(s.values()))) for v, s in scores.items()}
        blur = means.pop("blur")
        lines.append(f"| {names[key]} | 1 | {len(scores['blur'])} | {sum(m > blur for m in means.values())} of 10 "
                     f"| {_tau(means, main):.2f} | {_rho_with_paper(means, paper):.2f} | - |")  # fmt: skip
    return "\n".join(lines) + "\n" if len(lines) > 4 else ""


def _rho_with_paper(a: dict[str, float], paper: dict[str, float]) -> float:
    shared = [v for v in TABLE1_IDS if v in a]
    return float(stats.spearmanr([a[v] for v in shared], [paper[v] for v in shared]).statistic)


def report(study_dir: Path) -> None:
    paper = paper_psnr()
    arms = [load_control()] + [a for a in (load_candidate(p, study_dir) for p in ARMS) if a is not None]
    summary = []
    for arm in arms:
        r = readouts(arm, paper)
        r["tflop_per_seed"] = train_tflop(arm.profile)
        summary.append(r)
    complete = [a for a in summary if a["profile"] in ARMS and a["variants"] == 10 and a["between_seed_tau"]]
    chosen, reasons = choose(summary) if len(complete) == len(ARMS) else (None, [])
    (study_dir / "summary.json").write_text(json.dumps({"chosen": chosen, "reasons": reasons, "arms": summary},
                                                       indent=2, default=str) + "\n")  # fmt: skip
    block = results_markdown(summary, chosen, reasons)
    if chosen:
        block += "\n" + recheck_markdown(next(a for a in summary if a["profile"] == chosen), study_dir)
    replace_section(DOC, RESULTS_MARKERS, block.removesuffix("\n"))
    plot(summary, FIGURE)
    print(block)


# ------------------------------------------------------------------------------------------- after the choice

OTHER_SCENE_PAIRS = 4  # our choice: pairs rendered per extra photo (6 photos: 24 pairs, the default test size)
RECHECK_FILE = "recheck.json"


def data_seed_overrides(profile: str, log_dir: Path) -> list[str]:
    """The chosen arm on data synthesised with seed 1 (new crops and blur of the same scenes), in its own data
    folder and sweep folder."""
    root = compose_config("table1", [f"profile={profile}", "experiment=table1/ss"]).data.root
    return [*sweep_overrides(profile, log_dir / "proxy-data-seed1"), "data.synthesize.seed=1",
            f"data.root={root}-data-seed1"]  # fmt: skip


def other_scene_pairs() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """OTHER_SCENE_PAIRS pairs from each photo that no arm trains or tests on (the packaged extra photos), drawn
    by the default synthesiser (seeded by photo and index, so every run draws the same)."""
    from srnlab.data.synth.recipe import Recipe
    from srnlab.data.synth.sources import EXTRA_TRAINING_SOURCES, load_source

    synthesizer = Recipe().synthesizer()
    pairs = []
    for k, name in enumerate(sorted(EXTRA_TRAINING_SOURCES)):
        photo = load_source(None, name)
        for i in range(OTHER_SCENE_PAIRS):
            pair = synthesizer.render(photo, np.random.default_rng([1000 + k, i]))
            pairs.append((f"{name}/{i}", to_tensor(pair.blur)[None], to_tensor(pair.sharp)[None]))
    return pairs


def real_pairs(root: Path) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """The real GoPro test frames (blur, sharp), where a copy is at hand."""
    pairs = []
    for blur in sorted(root.glob("gopro_mini/test/*/blur/*.png")):
        sharp = blur.parent.parent / "sharp" / blur.name
        pairs.append((f"{blur.parent.parent.name}/{blur.stem}", to_tensor(read_image(blur))[None],
                      to_tensor(read_image(sharp))[None]))  # fmt: skip
    return pairs


def score_networks(
    sweep: Path, seed: int, pairs: list[tuple[str, torch.Tensor, torch.Tensor]]
) -> dict[str, dict[str, float]]:
    """Each variant's best checkpoint of `seed` on the pairs: PSNR per image of its 8-bit output, and the
    blurry input's under the key 'blur'."""
    from srnlab.infer.deblurrer import Deblurrer
    from srnlab.lit.metrics import per_image_psnr, quantize

    scores = {"blur": {name: float(per_image_psnr(b, s)) for name, b, s in pairs}}
    for variant in TABLE1_IDS:
        result = RunResult.read(sweep / variant / f"seed{seed}")
        net = Deblurrer.load(result.best_ckpt)
        with torch.inference_mode():
            scores[variant] = {name: float(per_image_psnr(quantize(net(b)), s)) for name, b, s in pairs}
        print(f"  {variant}: {np.mean(list(scores[variant].values())):.2f} dB", flush=True)
    return scores


def recheck(profile: str, log_dir: Path, study_dir: Path, realdata: Path) -> None:
    """The chosen arm's re-checks: seed 1 on data of synthesis seed 1, and its seed-1 networks on other scenes."""
    overrides = data_seed_overrides(profile, log_dir)
    run_sweep(overrides, [1], 2)
    collect(Path(compose_config("table1", overrides).hydra.sweep.dir), study_dir / f"{profile}-data-seed1")
    sweep = sweep_dir(profile, log_dir)
    checks = {"other_photos": score_networks(sweep, 1, other_scene_pairs())}
    if realdata.is_dir():
        checks["real_gopro"] = score_networks(sweep, 1, real_pairs(realdata))
    (study_dir / profile / RECHECK_FILE).write_text(json.dumps(checks, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("train", "collect", "report", "recheck"))
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--log-dir", type=Path, default=Path("logs"))
    parser.add_argument("--out", type=Path, default=STUDY_DIR, help="where the jobs' small files are kept")
    parser.add_argument("--jobs", type=int, default=2, help="jobs at a time (one thread each)")
    parser.add_argument("--chosen", choices=ARMS, help="recheck: the arm the rule chose (default: summary.json's)")
    parser.add_argument(
        "--realdata",
        type=Path,
        default=Path(os.environ.get("SRN_REALDATA", Path.cwd().parent / "shared" / "realdata")),
        help="recheck: the folder holding gopro_mini (default: $SRN_REALDATA, else shared/realdata beside the repo)",
    )
    args = parser.parse_args(argv)
    if args.command == "report":
        report(args.out)
        return
    if args.command == "recheck":
        chosen = args.chosen or json.loads((args.out / "summary.json").read_text())["chosen"]
        recheck(chosen, args.log_dir, args.out, args.realdata)
        return
    for arm in args.arms:
        if args.command == "train":
            code = run_sweep(sweep_overrides(arm, args.log_dir), args.seeds, args.jobs)
            print(f"[{arm}] exit code {code}", flush=True)
        kept = collect(sweep_dir(arm, args.log_dir), args.out / arm)
        print(f"[{arm}] {kept} finished jobs kept in {args.out / arm}", flush=True)


if __name__ == "__main__":
    main()
