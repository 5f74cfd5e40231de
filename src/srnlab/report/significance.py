"""Mean ± spread over seeds and paired per-image tests between Table 1 variants.

The ablation differences in SRN-DeblurNet's Table 1 are a few tenths of a dB, comparable to the spread between
training seeds and far smaller than the spread between test images (a sharp street scene and a dark blurry one
differ by several dB). So the statistics here are built to separate those sources of variation:

* Every variant is scored on the same test images, so comparisons are *paired per image*: the image difficulty
  cancels in d_j = a_j - b_j and only the variant effect and seed noise remain. An unpaired test on the two means
  would drown a 0.2 dB effect in the between-image variance.
* Seeds are averaged per image *before* the test. The test's unit of replication is the test image; treating each
  (seed, image) score as independent would count every image several times and overstate the evidence. The seed
  noise still reaches the confidence intervals, because the bootstrap resamples seeds as well as images.
* All pairs of the table are tested at once (45 for 10 variants), so the Wilcoxon p-values are Holm-corrected
  over all of them: Holm controls the family-wise error rate like Bonferroni without assuming independent tests
  (the pairs share variants, so they are not independent), and it is uniformly more powerful than Bonferroni.

All intervals, the rank stability and the Spearman interval come from one shared set of bootstrap resamples, so
they describe the same uncertainty and are reproducible from a single `seed`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class VariantStats:
    """A variant's mean PSNR (dB) with its seed spread and a bootstrap CI; `std` is None with a single seed."""

    n_seeds: int
    mean: float
    std: float | None
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class PairComparison:
    """Variant `a` minus variant `b` (table order), per-image paired; `verdict` is from the Holm-corrected p."""

    a: str
    b: str
    mean_diff: float
    ci_low: float
    ci_high: float
    p_wilcoxon: float
    p_holm: float
    verdict: str
    n_images: int

    def record(self) -> dict[str, str | float | int]:
        """One row of pairs.csv, with the unit in the column names so the file reads on its own."""
        return {
            "a": self.a,
            "b": self.b,
            "mean_diff_db": self.mean_diff,
            "ci_low_db": self.ci_low,
            "ci_high_db": self.ci_high,
            "p_wilcoxon": self.p_wilcoxon,
            "p_holm": self.p_holm,
            "verdict": self.verdict,
            "n_images": self.n_images,
        }

    @classmethod
    def from_record(cls, row: Mapping[str, str]) -> PairComparison:
        """A row of pairs.csv read back (its values as text)."""
        return cls(
            row["a"], row["b"], float(row["mean_diff_db"]), float(row["ci_low_db"]), float(row["ci_high_db"]),
            float(row["p_wilcoxon"]), float(row["p_holm"]), row["verdict"], int(row["n_images"]),
        )  # fmt: skip


@dataclass(frozen=True)
class Significance:
    """Everything `analyse` derives; with `single_seed` the CIs reflect test-image variation only."""

    variants: dict[str, VariantStats]
    pairs: list[PairComparison]
    rank_stability: dict[str, float]
    spearman: float | None
    spearman_ci: tuple[float, float] | None
    single_seed: bool
    kendall: float | None = None
    kendall_ci: tuple[float, float] | None = None


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment, in the input order.

    scipy.stats.false_discovery_control only offers Benjamini-Hochberg/Yekutieli, which control the false discovery
    rate; a claim such as "variant X beats Y" in an ablation table wants family-wise control instead.
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped)
    return adjusted


def _validate(scores: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not scores:
        raise ValueError("no variants to analyse")
    arrays = {vid: np.asarray(x, dtype=float) for vid, x in scores.items()}
    shapes = {vid: x.shape for vid, x in arrays.items()}
    first_id, first = next(iter(arrays.items()))
    for vid, x in arrays.items():
        if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 2:
            raise ValueError(f"variant {vid!r}: expected (n_seeds >= 1, n_images >= 2) scores, got shape {x.shape}")
        if x.shape[1] != first.shape[1]:
            raise ValueError(
                f"variant {vid!r} has {x.shape[1]} images but {first_id!r} has {first.shape[1]}; "
                f"all variants must be scored on the same test images (shapes: {shapes})"
            )
    return arrays


def _bootstrap_means(arrays: Mapping[str, np.ndarray], n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Mean PSNR of every variant (columns) under each two-way resample (rows).

    A resample draws test images with replacement once, shared by every variant and seed (this keeps comparisons
    paired), and draws each variant's seeds with replacement on its own. The draws are expressed as multinomial
    counts, so a resampled mean is a weighted sum: one matrix product and one weighted row sum per variant.
    With one seed the seed weights are all 1 and this reduces to the plain image bootstrap, so single- and
    multi-seed variants get the same (percentile) estimator and their intervals are comparable in one table;
    BCa, which scipy.stats.bootstrap prefers, has no two-way form.
    """
    n_images = next(iter(arrays.values())).shape[1]
    image_w = rng.multinomial(n_images, np.full(n_images, 1.0 / n_images), size=n_resamples) / n_images
    means = np.empty((n_resamples, len(arrays)))
    for col, x in enumerate(arrays.values()):
        n_seeds = x.shape[0]
        seed_w = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=n_resamples) / n_seeds
        means[:, col] = ((seed_w @ x) * image_w).sum(axis=1)
    return means


def _interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    low, high = np.percentile(samples, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def _wilcoxon(d: np.ndarray) -> float:
    """Two-sided signed-rank p; zsplit keeps images with no difference as evidence of no effect.

    The default "wilcox" drops zero differences, so a pair equal on 20 of 24 images would be judged on the other 4
    alone; "zsplit" splits their ranks between both signs, which keeps n at the number of images. All-zero
    differences carry no evidence at all and give p = 1 here directly, not through scipy's normal approximation with
    zero variance (NaN and a warning under the other zero methods).
    """
    if not np.any(d):
        return 1.0
    return float(stats.wilcoxon(d, zero_method="zsplit", alternative="two-sided").pvalue)


def verdict(mean_diff: float, p_holm: float, alpha: float) -> str:
    """'better' / 'worse' where the corrected p is below alpha, by the sign of the difference."""
    if p_holm < alpha and mean_diff > 0:
        return "better"
    if p_holm < alpha and mean_diff < 0:
        return "worse"
    return "not distinguishable"


def _pairs(arrays: Mapping[str, np.ndarray], boot: np.ndarray, alpha: float) -> list[PairComparison]:
    ids = list(arrays)
    per_image = {vid: x.mean(axis=0) for vid, x in arrays.items()}
    index_pairs = list(itertools.combinations(range(len(ids)), 2))
    diffs = [per_image[ids[i]] - per_image[ids[j]] for i, j in index_pairs]
    p_raw = [_wilcoxon(d) for d in diffs]
    p_adj = holm(p_raw)
    pairs = []
    for (i, j), d, p, q in zip(index_pairs, diffs, p_raw, p_adj, strict=True):
        low, high = _interval(boot[:, i] - boot[:, j])
        mean_diff = float(d.mean())
        pairs.append(
            PairComparison(ids[i], ids[j], mean_diff, low, high, p, float(q), verdict(mean_diff, q, alpha), d.size)
        )
    return pairs


def _rank_stability(full: np.ndarray, boot: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
    """Share of resamples in which each variant keeps its full-data rank (1 = best; ties share the best rank)."""
    rank = stats.rankdata(-full, method="min")
    boot_rank = stats.rankdata(-boot, method="min", axis=1)
    return {vid: float(s) for vid, s in zip(ids, (boot_rank == rank).mean(axis=0), strict=True)}


def _spearman(
    full: np.ndarray, boot: np.ndarray, ids: Sequence[str], paper: Mapping[str, float | None]
) -> tuple[float | None, tuple[float, float] | None]:
    """Spearman rho against the paper and its percentile CI (resampled rho: Pearson on average ranks, per row).

    Resampling adds noise to means that are already noisy, which tends to scramble a ranking that agrees with the
    paper, so the interval leans towards 0 and may even exclude the point estimate when variants are close: read
    its lower end as a conservative bound on agreement.
    """
    cols = [k for k, vid in enumerate(ids) if paper.get(vid) is not None]
    if len(cols) < 3:
        return None, None
    reference = np.array([paper[ids[k]] for k in cols], dtype=float)
    rho = float(stats.spearmanr(full[cols], reference).statistic)
    ref_rank = stats.rankdata(reference)
    ref_rank = (ref_rank - ref_rank.mean()) / np.linalg.norm(ref_rank - ref_rank.mean())
    ranks = stats.rankdata(boot[:, cols], axis=1)
    ranks -= ranks.mean(axis=1, keepdims=True)
    boot_rho = (ranks @ ref_rank) / np.linalg.norm(ranks, axis=1)
    return rho, _interval(boot_rho)


def _kendall(
    full: np.ndarray, boot: np.ndarray, ids: Sequence[str], paper: Mapping[str, float | None]
) -> tuple[float | None, tuple[float, float] | None]:
    """Kendall tau against the paper and its percentile CI, like _spearman. Tau counts the pairs of variants
    ordered as the paper orders them, minus those ordered the other way, over all pairs: it reads as "how many of
    the paper's pairwise orderings hold", which is what a design ablation is read for."""
    cols = [k for k, vid in enumerate(ids) if paper.get(vid) is not None]
    if len(cols) < 3:
        return None, None
    reference = np.array([paper[ids[k]] for k in cols], dtype=float)
    tau = float(stats.kendalltau(full[cols], reference).statistic)
    i, j = np.triu_indices(len(cols), k=1)
    ref_sign = np.sign(reference[i] - reference[j])
    sub = boot[:, cols]
    boot_tau = (np.sign(sub[:, i] - sub[:, j]) * ref_sign).mean(axis=1)
    return tau, _interval(boot_tau)


def analyse(
    scores: Mapping[str, np.ndarray],
    paper: Mapping[str, float | None],
    n_resamples: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> Significance:
    """Statistics for the ablation table from per-image PSNR arrays of shape (n_seeds, n_images), in table order.

    The table order matters twice: pairs are reported as (earlier, later), and it fixes the order of the random
    draws, so the same scores, order and `seed` always give the same intervals.
    """
    arrays = _validate(scores)
    ids = list(arrays)
    boot = _bootstrap_means(arrays, n_resamples, np.random.default_rng(seed))
    full = np.array([x.mean() for x in arrays.values()])
    variants = {}
    for col, (vid, x) in enumerate(arrays.items()):
        seed_means = x.mean(axis=1)
        std = float(seed_means.std(ddof=1)) if x.shape[0] > 1 else None
        variants[vid] = VariantStats(x.shape[0], float(full[col]), std, *_interval(boot[:, col]))
    rho, rho_ci = _spearman(full, boot, ids, paper)
    tau, tau_ci = _kendall(full, boot, ids, paper)
    return Significance(
        variants=variants,
        pairs=_pairs(arrays, boot, alpha),
        rank_stability=_rank_stability(full, boot, ids),
        spearman=rho,
        spearman_ci=rho_ci,
        single_seed=all(x.shape[0] == 1 for x in arrays.values()),
        kendall=tau,
        kendall_ci=tau_ci,
    )
