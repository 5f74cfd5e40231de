"""Table 1 read as the paper's design claims ("SC > SS": multi-scale helps), each judged on a sweep's scores.

A ranking of ten variants mixes every design question into one number; the paper argues its design through
pairwise comparisons instead, one per choice. So each claim gets its own paired test, taken from the sweep's
all-pairs comparison (srnlab.report.significance: per-image differences, seeds averaged first, Wilcoxon signed-rank,
bootstrap interval over images and seeds) and oriented as the paper states it. Holm's correction runs over the
claims alone, not all 45 pairs: the claims are the family of questions the table is read for.

A claim is about a design, not about one trained network, and the signed-rank test cannot see training noise:
its unit is the test image, so two networks of one seed that differ by 0.1 dB on every image give p ~ 1e-7
whatever another seed would have done. The bootstrap interval resamples seeds as well. So a claim counts as
reproduced (or contradicted) only where both agree: the Holm-corrected p below alpha and the 95 % interval
entirely above (or below) zero. With one seed the interval sees the images only, and the table says so.

The claims are data, in the sweep config (conf/table1.yaml, `claims`), with the paper's numbers beside them.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from omegaconf import OmegaConf

from srnlab.config import TABLE1_SWEEP
from srnlab.report.significance import PairComparison, holm, verdict
from srnlab.runs.files import write_csv

REPRODUCED, UNCLEAR, CONTRADICTED = "reproduced", "not distinguishable", "contradicted"
VERDICTS = {"better": REPRODUCED, "not distinguishable": UNCLEAR, "worse": CONTRADICTED}  # pair -> claim
COLORS = {REPRODUCED: "tab:green", UNCLEAR: "0.55", CONTRADICTED: "tab:red"}
NOT_IN_SWEEP = "not in this sweep"  # a claim whose two variants the sweep did not both train
CLAIMS_KEY = "claims"  # claims.csv / claims.md / claims.png, and the W&B key of the claims table and figure


@dataclass(frozen=True)
class Claim:
    """The paper's claim that variant `better` beats variant `worse`, with the paper's (better, worse) scores."""

    id: str
    claim: str
    better: str
    worse: str
    paper_psnr: tuple[float, float]
    paper_ssim: tuple[float, float]

    @property
    def paper_gain(self) -> float:
        """The paper's PSNR difference, better minus worse (dB)."""
        return self.paper_psnr[0] - self.paper_psnr[1]


@dataclass(frozen=True)
class ClaimVerdict:
    """A claim judged on one sweep; the numbers are None where the sweep lacks one of its variants."""

    claim: Claim
    verdict: str
    mean_diff: float | None = None  # better minus worse, dB, mean over test images of the seed means
    ci_low: float | None = None
    ci_high: float | None = None
    p_wilcoxon: float | None = None
    p_holm: float | None = None
    n_images: int | None = None

    def record(self) -> dict[str, str | float | int | None]:
        """One row of claims.csv, units in the column names."""
        c = self.claim
        return {
            "id": c.id, "claim": c.claim, "better": c.better, "worse": c.worse,
            "paper_better_psnr": c.paper_psnr[0], "paper_worse_psnr": c.paper_psnr[1],
            "paper_better_ssim": c.paper_ssim[0], "paper_worse_ssim": c.paper_ssim[1],
            "paper_diff_db": round(c.paper_gain, 4), "mean_diff_db": self.mean_diff, "ci_low_db": self.ci_low,
            "ci_high_db": self.ci_high, "p_wilcoxon": self.p_wilcoxon, "p_holm": self.p_holm,
            "verdict": self.verdict, "n_images": self.n_images,
        }  # fmt: skip


def table1_claims(sweep_config: Path = TABLE1_SWEEP) -> list[Claim]:
    """The claims listed in the sweep config, in its order."""
    return [
        Claim(c.id, c.claim, c.better, c.worse, tuple(c.paper_psnr), tuple(c.paper_ssim))
        for c in OmegaConf.load(sweep_config).claims
    ]


def _oriented(pair: PairComparison, claim: Claim) -> PairComparison:
    """The tested pair as the claim states it: better minus worse."""
    if pair.a == claim.better:
        return pair
    return replace(pair, a=pair.b, b=pair.a, mean_diff=-pair.mean_diff, ci_low=-pair.ci_high, ci_high=-pair.ci_low)


def _verdict(pair: PairComparison, p_holm: float, alpha: float) -> str:
    """The test's verdict, kept only where the interval over seeds and images agrees with it."""
    tested = VERDICTS[verdict(pair.mean_diff, p_holm, alpha)]
    agrees = {REPRODUCED: pair.ci_low > 0, CONTRADICTED: pair.ci_high < 0, UNCLEAR: True}[tested]
    return tested if agrees else UNCLEAR


def judge(pairs: Sequence[PairComparison], claims: Sequence[Claim], alpha: float = 0.05) -> list[ClaimVerdict]:
    """Each claim's verdict from a sweep's tested pairs (srnlab.report.significance, or pairs.csv read back). A claim
    whose two variants the sweep did not test together is reported as NOT_IN_SWEEP, outside the Holm family."""
    index = {frozenset((p.a, p.b)): p for p in pairs}
    tested = {c.id: _oriented(index[frozenset((c.better, c.worse))], c) for c in claims
              if frozenset((c.better, c.worse)) in index}  # fmt: skip
    adjusted = dict(zip(tested, holm([t.p_wilcoxon for t in tested.values()]), strict=True)) if tested else {}
    verdicts = []
    for c in claims:
        t = tested.get(c.id)
        if t is None:
            verdicts.append(ClaimVerdict(c, NOT_IN_SWEEP))
            continue
        q = float(adjusted[c.id])
        verdicts.append(ClaimVerdict(c, _verdict(t, q, alpha), t.mean_diff, t.ci_low, t.ci_high, t.p_wilcoxon, q,
                                     t.n_images))  # fmt: skip
    return verdicts


def read_pairs(path: Path) -> list[PairComparison]:
    """pairs.csv as srn-table1 wrote it: a results folder's claims can be judged again without its sweep."""
    with path.open(newline="") as f:
        return [PairComparison.from_record(row) for row in csv.DictReader(f)]


def tally(verdicts: Sequence[ClaimVerdict]) -> str:
    """'7 of 10 reproduced, 0 contradicted, 3 not distinguishable' (claims the sweep could test)."""
    tested = [v for v in verdicts if v.verdict != NOT_IN_SWEEP]
    counts = {k: sum(v.verdict == k for v in tested) for k in (REPRODUCED, CONTRADICTED, UNCLEAR)}
    return (f"{counts[REPRODUCED]} of {len(tested)} reproduced, {counts[CONTRADICTED]} contradicted, "
            f"{counts[UNCLEAR]} not distinguishable")  # fmt: skip


def _db(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def format_markdown(verdicts: Sequence[ClaimVerdict], heading: str = "# Table 1's claims") -> str:
    lines = [
        heading,
        "",
        f"{tally(verdicts)}. A claim is reproduced (contradicted) where the paired Wilcoxon signed-rank test per "
        "test image (seeds averaged first, Holm-corrected over the claims) is below 5 % and the 95 % bootstrap "
        "interval over test images and seeds lies wholly above (below) zero. Differences are better minus worse, "
        "in dB.",
        "",
        "| claim | paper PSNR (dB) | paper diff | our diff | 95 % CI | p (Holm) | verdict |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for v in verdicts:
        c = v.claim
        ci = "-" if v.ci_low is None else f"{v.ci_low:+.2f} to {v.ci_high:+.2f}"
        p = "-" if v.p_holm is None else f"{v.p_holm:.2g}"
        lines.append(f"| {c.claim} | {c.paper_psnr[0]:.2f} vs {c.paper_psnr[1]:.2f} | {c.paper_gain:+.2f} | "
                     f"{_db(v.mean_diff)} | {ci} | {p} | {v.verdict} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def plot_claims(verdicts: Sequence[ClaimVerdict], path: Path, title: str = "Table 1's claims") -> None:
    """Our difference per claim with its interval, coloured by verdict, beside the paper's difference."""
    shown = [v for v in verdicts if v.mean_diff is not None]
    y = np.arange(len(shown))[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(shown) + 1.6))
    for yi, v in zip(y, shown, strict=True):
        ax.errorbar(v.mean_diff, yi, xerr=[[v.mean_diff - v.ci_low], [v.ci_high - v.mean_diff]], fmt="o",
                    color=COLORS[v.verdict], capsize=3)  # fmt: skip
        ax.scatter(v.claim.paper_gain, yi, marker="D", facecolor="none", edgecolor="black", zorder=3)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(y, [v.claim.claim for v in shown], fontsize=8)
    ax.set_xlabel("PSNR difference, better minus worse (dB)")
    handles = [plt.Line2D([], [], color=c, marker="o", ls="", label=k) for k, c in COLORS.items()]
    handles.append(plt.Line2D([], [], marker="D", mfc="none", mec="black", ls="", label="paper"))
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    ax.set_title(f"{title}: {tally(verdicts)}", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_claims(verdicts: Sequence[ClaimVerdict], out_dir: Path, title: str = "Table 1's claims") -> None:
    """claims.csv, claims.md and claims.png in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / f"{CLAIMS_KEY}.csv", [v.record() for v in verdicts])
    (out_dir / f"{CLAIMS_KEY}.md").write_text(format_markdown(verdicts, f"# {title}"))
    plot_claims(verdicts, out_dir / f"{CLAIMS_KEY}.png", title)
