"""src/srnlab/studies/proxy_fidelity.py: the pre-registered selection rule, the curve readout and the seed agreement, on
constructed arms whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from srnlab.config import TABLE1_IDS
from srnlab.studies import proxy_fidelity as proxy


def readout(profile: str, above: int = 10, tau: float = 0.5, tflop: float = 157.0, steps: int = 600) -> dict:
    return {
        "profile": profile, "label": proxy.LABELS[profile], "variants": 10, "above_input": above,
        "between_seed_tau": tau, "tflop_per_seed": tflop,
        "projected_minutes": {k: m * steps / 600 for k, m in proxy.MINI_SEED_MINUTES.items()},
    }  # fmt: skip


def test_the_rule_takes_the_most_stable_eligible_arm() -> None:
    arms = [readout("mini", above=0, tau=0.99), readout("proxy_residual", tau=0.4), readout("proxy_pairs", above=9,
            tau=0.9), readout("proxy_long", tau=0.7, tflop=314, steps=1200)]  # fmt: skip
    chosen, reasons = proxy.choose(arms)
    assert chosen == "proxy_long", "the control never competes; C has a variant below its input"
    assert any("C: pairs has 9 of 10" in r for r in reasons)


def test_arms_within_the_tie_margin_go_to_the_cheaper_then_the_earlier() -> None:
    arms = [readout("proxy_residual", tau=0.62), readout("proxy_pairs", tau=0.64),
            readout("proxy_long", tau=0.70, tflop=314, steps=1200)]  # fmt: skip
    assert proxy.choose(arms)[0] == "proxy_residual", "0.62 is within 0.10 of 0.70, and B costs half of D"
    arms[0]["between_seed_tau"] = 0.55
    assert proxy.choose(arms)[0] == "proxy_pairs", "B drops out of the tie; C is cheaper than D"


def test_an_arm_over_the_budget_is_not_eligible_and_without_any_arm_above_the_input_the_most_above_wins() -> None:
    arms = [readout("proxy_residual", above=8, tau=0.3), readout("proxy_pairs", above=9, tau=0.2),
            readout("proxy_long", tau=0.9, steps=2400)]  # fmt: skip
    chosen, reasons = proxy.choose(arms)
    assert arms[2]["projected_minutes"]["AMX"] > proxy.BUDGET_MINUTES["AMX"]
    assert chosen == "proxy_pairs" and any("rule 5" in r for r in reasons)


def test_the_curve_readout_is_the_mean_height_of_the_validation_curve(tmp_path) -> None:
    path = tmp_path / "metrics.csv"
    rows = ["step,train/loss,val/psnr", "10,0.1,", "50,,22.0", "100,,24.0", "200,,24.0"]
    path.write_text("\n".join(rows) + "\n")
    # trapezoids: 50-100 at 23 dB, 100-200 at 24 dB, over 150 steps
    assert proxy.curve_auc(path) == pytest.approx((50 * 23 + 100 * 24) / 150)
    assert proxy.curve_auc(tmp_path / "missing.csv") is None


def test_between_seed_tau_is_the_mean_rank_agreement_over_pairs_of_seeds() -> None:
    base = np.arange(10.0)
    seeds = {1: base, 2: base, 3: base[::-1]}  # seeds 1 and 2 agree (tau 1); seed 3 reverses both (tau -1)
    arm = proxy.Arm("proxy_residual", {v: {s: float(x[k]) for s, x in seeds.items()} for k, v in enumerate(TABLE1_IDS)},
                    20.0, None, [], {}, 0.0)  # fmt: skip
    assert proxy.between_seed_tau(arm) == pytest.approx((1 - 1 - 1) / 3)
