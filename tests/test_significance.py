"""Seed/image statistics of the ablation table on constructed data whose answers are known."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from srnlab.report.significance import PairComparison, analyse, holm

N_SEEDS, N_IMAGES = 3, 24


def _scores(rng: np.random.Generator, offset: float = 0.0, n_seeds: int = N_SEEDS, noise: float = 0.05) -> np.ndarray:
    """Per-image PSNR around a fixed set of image difficulties (shared by every call with the same layout)."""
    difficulty = np.linspace(24.0, 34.0, N_IMAGES)
    return difficulty + offset + rng.normal(0.0, noise, (n_seeds, N_IMAGES))


def _pair(result, a: str, b: str) -> PairComparison:
    return next(p for p in result.pairs if (p.a, p.b) == (a, b))


def test_identical_variants_are_not_distinguishable():
    x = _scores(np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = analyse({"a": x, "b": x.copy()}, {})
    pair = _pair(result, "a", "b")
    assert pair.mean_diff == 0.0
    assert pair.p_wilcoxon == 1.0 and pair.p_holm == 1.0
    assert pair.verdict == "not distinguishable"
    assert pair.ci_low <= 0.0 <= pair.ci_high
    assert pair.n_images == N_IMAGES


def test_one_db_shift_is_better_and_its_reverse_worse():
    rng = np.random.default_rng(1)
    base = _scores(rng)
    result = analyse({"base": base, "plus": _scores(rng, offset=1.0), "minus": _scores(rng, offset=-1.0)}, {})
    assert [(p.a, p.b) for p in result.pairs] == [("base", "plus"), ("base", "minus"), ("plus", "minus")]
    worse = _pair(result, "base", "plus")
    assert worse.verdict == "worse" and worse.p_holm < 0.01
    assert worse.mean_diff == pytest.approx(-1.0, abs=0.05)
    assert -1.1 < worse.ci_low < worse.ci_high < -0.9
    better = _pair(result, "base", "minus")
    assert better.verdict == "better" and better.p_holm < 0.01
    assert _pair(result, "plus", "minus").mean_diff == pytest.approx(2.0, abs=0.05)
    row = better.record()
    assert set(row) == {
        "a",
        "b",
        "mean_diff_db",
        "ci_low_db",
        "ci_high_db",
        "p_wilcoxon",
        "p_holm",
        "verdict",
        "n_images",
    }
    assert row["mean_diff_db"] == better.mean_diff and row["verdict"] == "better"


def test_alpha_decides_the_verdict():
    rng = np.random.default_rng(2)
    scores = {"a": _scores(rng, offset=0.02, noise=0.1), "b": _scores(rng, noise=0.1)}
    p = _pair(analyse(scores, {}), "a", "b").p_holm
    assert 0.0 < p < 1.0
    assert _pair(analyse(scores, {}, alpha=p * 1.01), "a", "b").verdict == "better"
    assert _pair(analyse(scores, {}, alpha=p * 0.99), "a", "b").verdict == "not distinguishable"


def test_holm_matches_hand_computation():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.02*2 = 0.04, 0.5*1 = 0.5 (already monotone, none above 1)
    np.testing.assert_allclose(holm([0.5, 0.01, 0.005, 0.02]), [0.5, 0.03, 0.02, 0.04])
    np.testing.assert_allclose(holm([0.3, 0.6]), [0.6, 0.6])


def _coverage(n_seeds: int, seed_sd: float, n_datasets: int = 400) -> float:
    """Share of simulated datasets whose 95 % CI holds the population mean (30 dB).

    Every dataset draws fresh image effects and seed effects, so the population mean, not the dataset's image set,
    is the target: the interval has to carry both sources of variation.
    """
    rng = np.random.default_rng(123)
    hits = 0
    for k in range(n_datasets):
        image = rng.normal(0.0, 2.0, (1, N_IMAGES))
        seed = rng.normal(0.0, seed_sd, (n_seeds, 1))
        x = 30.0 + image + seed + rng.normal(0.0, 0.3, (n_seeds, N_IMAGES))
        v = analyse({"v": x}, {}, n_resamples=500, seed=k).variants["v"]
        hits += v.ci_low <= 30.0 <= v.ci_high
    return hits / n_datasets


def test_bootstrap_ci_coverage_single_seed():
    assert 0.88 <= _coverage(n_seeds=1, seed_sd=0.0) <= 0.99


def test_bootstrap_ci_coverage_multi_seed():
    assert 0.88 <= _coverage(n_seeds=N_SEEDS, seed_sd=0.2) <= 0.99


def test_seed_resampling_widens_the_interval():
    """A large seed effect must show in the CI; an image-only bootstrap would ignore it."""
    rng = np.random.default_rng(3)
    quiet = 30.0 + rng.normal(0.0, 0.05, (N_SEEDS, N_IMAGES))
    noisy = quiet + np.array([[-1.0], [0.0], [1.0]])
    result = analyse({"quiet": quiet, "noisy": noisy}, {})
    width = {vid: v.ci_high - v.ci_low for vid, v in result.variants.items()}
    assert width["noisy"] > 1.0 > 0.2 > width["quiet"]
    assert result.variants["noisy"].std == pytest.approx(1.0, abs=0.05)


def test_rank_stability():
    rng = np.random.default_rng(4)
    separated = analyse({"low": _scores(rng), "mid": _scores(rng, 1.0), "high": _scores(rng, 2.0)}, {})
    assert separated.rank_stability == {"low": 1.0, "mid": 1.0, "high": 1.0}
    twins = analyse({"a": _scores(rng), "b": _scores(rng), "far": _scores(rng, 3.0)}, {})
    assert twins.rank_stability["far"] == 1.0
    # the twins hold ranks 2 and 3 and can only lose them by swapping, so they lose them together
    assert twins.rank_stability["a"] == twins.rank_stability["b"]
    assert 0.5 < twins.rank_stability["a"] < 0.9


def test_spearman_against_the_paper():
    rng = np.random.default_rng(5)
    scores = {f"v{i}": _scores(rng, offset=float(i)) for i in range(4)}
    paper = {"v0": 28.0, "v1": 28.5, "v2": 29.9, "v3": 30.1}
    result = analyse(scores, paper)
    assert result.spearman == pytest.approx(1.0)
    assert result.spearman_ci == pytest.approx((1.0, 1.0))
    reversed_paper = analyse(scores, {vid: -psnr for vid, psnr in paper.items()})
    assert reversed_paper.spearman == pytest.approx(-1.0)
    partial = analyse(scores, {"v0": 28.0, "v1": None, "v2": 29.9})
    assert partial.spearman is None and partial.spearman_ci is None
    assert analyse(scores, {"v0": 28.0, "v1": None, "v2": 29.9, "v3": 29.0}).spearman == pytest.approx(0.5)


def test_single_seed_flag_and_std():
    rng = np.random.default_rng(6)
    single = analyse({"a": _scores(rng, n_seeds=1), "b": _scores(rng, n_seeds=1)}, {})
    assert single.single_seed
    assert all(v.std is None and v.n_seeds == 1 for v in single.variants.values())
    a = single.variants["a"]
    assert a.ci_low < a.mean < a.ci_high
    mixed = analyse({"a": _scores(rng, n_seeds=1), "b": _scores(rng, n_seeds=2)}, {})
    assert not mixed.single_seed
    assert mixed.variants["b"].n_seeds == 2 and mixed.variants["b"].std is not None
    assert not math.isnan(mixed.variants["b"].std)


def test_mean_is_the_mean_of_seed_means():
    x = np.array([[30.0, 32.0], [28.0, 28.0]])
    v = analyse({"v": x}, {}).variants["v"]
    assert v.mean == pytest.approx(29.5)
    assert v.std == pytest.approx(np.std([31.0, 28.0], ddof=1))


def test_same_seed_is_reproducible_and_other_seeds_differ():
    rng = np.random.default_rng(7)
    scores = {"a": _scores(rng), "b": _scores(rng, 0.1)}
    assert analyse(scores, {}, seed=11) == analyse(scores, {}, seed=11)
    assert analyse(scores, {}, seed=11).variants["a"] != analyse(scores, {}, seed=12).variants["a"]


def test_invalid_input_names_the_variant():
    rng = np.random.default_rng(8)
    good = _scores(rng)
    with pytest.raises(ValueError, match=r"'short'.*23 images.*'good'"):
        analyse({"good": good, "short": good[:, :23]}, {})
    with pytest.raises(ValueError, match=r"'flat'.*\(24,\)"):
        analyse({"flat": good[0]}, {})
    with pytest.raises(ValueError, match=r"'empty'.*\(0, 24\)"):
        analyse({"empty": good[:0]}, {})
    with pytest.raises(ValueError, match=r"'one'.*\(3, 1\)"):
        analyse({"one": good[:, :1]}, {})


def test_kendall_counts_the_papers_pairwise_orderings_that_hold():
    rng = np.random.default_rng(8)
    scores = {f"v{i}": _scores(rng, offset=float(i)) for i in range(4)}
    paper = {"v0": 28.0, "v1": 28.5, "v2": 29.9, "v3": 30.1}
    assert analyse(scores, paper).kendall == pytest.approx(1.0)
    assert analyse(scores, paper).kendall_ci == pytest.approx((1.0, 1.0))
    # one of the six pairs turned round (v2 above v3 in the paper): (5 - 1) / 6, as scipy computes it
    swapped = analyse(scores, {**paper, "v2": 30.2})
    assert swapped.kendall == pytest.approx(4 / 6)
    assert swapped.kendall == pytest.approx(stats.kendalltau([0, 1, 2, 3], [28.0, 28.5, 30.2, 30.1]).statistic)
    assert swapped.kendall_ci == pytest.approx((4 / 6, 4 / 6))
    twins = {"a": _scores(rng, noise=0.3), "b": _scores(rng, noise=0.3), "c": _scores(rng, offset=2.0)}
    low, high = analyse(twins, {"a": 28.0, "b": 29.0, "c": 30.0}).kendall_ci
    assert low < high, "resampling the twins' order widens the interval"
