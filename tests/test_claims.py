"""The paper's claims as verdicts: constructed data with known answers, the claims data against the paper's
numbers, and every committed results folder's claims against its own table."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pytest

from srnlab.config import TABLE1_IDS, compose_config
from srnlab.report.claims import (
    CONTRADICTED,
    NOT_IN_SWEEP,
    REPRODUCED,
    UNCLEAR,
    judge,
    read_pairs,
    table1_claims,
    write_claims,
)
from srnlab.report.significance import analyse, holm
from srnlab.runs.files import write_csv

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "ablations" / "results"
# The paper's Table 1 (PSNR, SSIM), transcribed from the specification (section 2).
PAPER = {
    "ss": (28.40, 0.9045), "sc": (29.05, 0.9166), "wo_r": (29.26, 0.9197), "rnn": (29.35, 0.9210),
    "sr_flat": (27.53, 0.8886), "sr_rb": (28.11, 0.8991), "sr_ed": (29.06, 0.9170), "sr_edrb1": (28.60, 0.9082),
    "sr_edrb2": (29.32, 0.9204), "sr_edrb3": (29.98, 0.9254),
}  # fmt: skip
CLAIMED = [("sc", "ss"), ("wo_r", "sc"), ("rnn", "wo_r"), ("sr_edrb3", "rnn"), ("sr_edrb3", "sr_ed"),
           ("sr_edrb3", "sr_rb"), ("sr_edrb3", "sr_flat"), ("sr_rb", "sr_flat"), ("sr_edrb2", "sr_edrb1"),
           ("sr_edrb3", "sr_edrb2")]  # fmt: skip


def _constructed(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """3 seeds x 24 images: SC 0.5 dB above SS (claim true), w/o R 0.5 dB below SC (claim reversed), RNN equal
    to w/o R (no effect); the other variants are not in the sweep."""
    difficulty = np.linspace(24.0, 34.0, 24)
    ss = difficulty + rng.normal(0, 0.05, (3, 24))
    sc = ss + 0.5 + rng.normal(0, 0.05, (3, 24))
    wo_r = sc - 0.5 + rng.normal(0, 0.05, (3, 24))
    return {"ss": ss, "sc": sc, "wo_r": wo_r, "rnn": wo_r.copy()}


def test_a_true_claim_is_reproduced_a_reversed_one_contradicted_and_an_equal_one_not_distinguishable() -> None:
    scores = _constructed(np.random.default_rng(0))
    verdicts = {v.claim.id: v for v in judge(analyse(scores, {}).pairs, table1_claims())}
    assert verdicts["multi_scale"].verdict == REPRODUCED
    assert verdicts["multi_scale"].mean_diff == pytest.approx(0.5, abs=0.05)
    assert 0 < verdicts["multi_scale"].ci_low < 0.5 < verdicts["multi_scale"].ci_high
    assert verdicts["shared_weights"].verdict == CONTRADICTED
    assert verdicts["shared_weights"].mean_diff == pytest.approx(-0.5, abs=0.05)
    assert verdicts["shared_weights"].ci_high < 0
    assert verdicts["recurrence"].verdict == UNCLEAR and verdicts["recurrence"].mean_diff == 0.0
    assert verdicts["recurrence"].p_holm == 1.0
    untested = [v for v in verdicts.values() if v.claim.id not in ("multi_scale", "shared_weights", "recurrence")]
    assert len(untested) == 7 and all(v.verdict == NOT_IN_SWEEP and v.mean_diff is None for v in untested)


def test_a_difference_that_holds_on_every_image_but_not_across_seeds_is_not_distinguishable() -> None:
    """RNN beats w/o R by 0.2 dB on every image on average, but its seeds lie at +1.0, -0.6 and +0.2 dB: the
    image-level test alone would call the claim reproduced; the seeds say a rerun could reverse it."""
    scores = _constructed(np.random.default_rng(3))
    scores["rnn"] = scores["wo_r"] + np.array([[1.0], [-0.6], [0.2]])
    (recurrence,) = [v for v in judge(analyse(scores, {}).pairs, table1_claims()) if v.claim.id == "recurrence"]
    assert recurrence.mean_diff == pytest.approx(0.2) and recurrence.p_holm < 1e-4
    assert recurrence.ci_low < 0 < recurrence.ci_high
    assert recurrence.verdict == UNCLEAR


def test_holm_runs_over_the_tested_claims_only_and_a_claim_reads_as_the_paper_states_it() -> None:
    significance = analyse(_constructed(np.random.default_rng(1)), {})
    verdicts = [v for v in judge(significance.pairs, table1_claims()) if v.verdict != NOT_IN_SWEEP]
    assert [v.p_holm for v in verdicts] == pytest.approx(list(holm([v.p_wilcoxon for v in verdicts])))
    # the sweep's pairs run in table order (ss before sc): the claim "SC > SS" is their pair turned round
    pair = next(p for p in significance.pairs if (p.a, p.b) == ("ss", "sc"))
    claim = verdicts[0]
    assert (claim.mean_diff, claim.ci_low, claim.ci_high) == (-pair.mean_diff, -pair.ci_high, -pair.ci_low)
    assert claim.p_wilcoxon == pair.p_wilcoxon and claim.p_holm != pair.p_holm  # 3 claims, not 6 pairs


def test_claims_judged_again_from_pairs_csv_equal_those_from_the_scores(tmp_path) -> None:
    significance = analyse(_constructed(np.random.default_rng(2)), {})
    write_csv(tmp_path / "pairs.csv", [p.record() for p in significance.pairs])
    assert judge(read_pairs(tmp_path / "pairs.csv"), table1_claims()) == judge(significance.pairs, table1_claims())
    write_claims(judge(significance.pairs, table1_claims()), tmp_path / "out")
    with (tmp_path / "out" / "claims.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["verdict"] for r in rows[:3]] == [REPRODUCED, CONTRADICTED, UNCLEAR]
    assert "1 of 3 reproduced, 1 contradicted, 1 not distinguishable" in (tmp_path / "out" / "claims.md").read_text()
    assert (tmp_path / "out" / "claims.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_claims_data_holds_the_papers_ten_claims_and_table_1_numbers() -> None:
    claims = table1_claims()
    assert [(c.better, c.worse) for c in claims] == CLAIMED
    assert len({c.id for c in claims}) == 10
    for c in claims:
        assert (c.paper_psnr, c.paper_ssim) == tuple(zip(PAPER[c.better], PAPER[c.worse], strict=True))
        assert c.paper_gain > 0, c.claim
        for variant, psnr, ssim in ((c.better, c.paper_psnr[0], c.paper_ssim[0]), (c.worse, *c.paper_psnr[1:],
                                                                                   *c.paper_ssim[1:])):  # fmt: skip
            paper = compose_config("train", [f"experiment=table1/{variant}"]).variant.paper
            assert (paper.psnr, paper.ssim) == (psnr, ssim), variant


def test_the_transcribed_numbers_are_the_specifications() -> None:
    spec = Path(os.environ.get("SRN_SPEC", REPO.parent / "shared" / "docs" / "srn-spec.md"))
    if not spec.is_file():
        pytest.skip(f"the specification is not at {spec} (set SRN_SPEC to it)")
    rows = re.findall(r"^\| (\w+) \| [^|]+ \| [^|]+ \| [^|]+ \| ([\d.]+) \| ([\d.]+) \|", spec.read_text(), re.M)
    assert {vid: (float(p), float(s)) for vid, p, s in rows if vid in TABLE1_IDS} == PAPER


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("results", sorted(p.parent for p in RESULTS.glob("*/claims.csv")), ids=lambda p: p.name)
def test_committed_claims_agree_with_their_table(results: Path) -> None:
    table = {r["id"]: r for r in _csv(results / "table1.csv")}
    claims = _csv(results / "claims.csv")
    assert [(c["better"], c["worse"]) for c in claims] == CLAIMED
    assert [float(c["p_holm"]) for c in claims] == pytest.approx(list(holm([float(c["p_wilcoxon"]) for c in claims])))
    for c in claims:
        ours = float(table[c["better"]]["psnr"]) - float(table[c["worse"]]["psnr"])
        assert float(c["mean_diff_db"]) == pytest.approx(ours, abs=2e-3), c["claim"]
        assert float(c["ci_low_db"]) <= float(c["mean_diff_db"]) <= float(c["ci_high_db"])
        low, high = float(c["ci_low_db"]), float(c["ci_high_db"])
        significant = float(c["p_holm"]) < 0.05 and (low > 0 or high < 0)
        expected = (REPRODUCED if ours > 0 else CONTRADICTED) if significant else UNCLEAR
        assert c["verdict"] == expected, c["claim"]
    assert "reproduced" in (results / "claims.md").read_text() and (results / "claims.png").is_file()
