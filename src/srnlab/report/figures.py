"""Figures of a sweep's table: PSNR against size beside the paper's, and the pairwise differences."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from srnlab.report.colors import variant_colors
from srnlab.report.rows import Row
from srnlab.report.significance import Significance


def plot_psnr_vs_params(rows: list[Row], path: Path) -> None:
    """Paper and ours side by side: absolute PSNRs differ (training budget, data), the ordering is the point.
    Each variant has its colour of every figure and dashboard (srnlab.report.colors)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True)
    panels = [(axes[0], "paper (GOPRO, 524k steps)", lambda r: r.paper_psnr, None)]
    blur = next((r.blur_psnr for r in rows if r.blur_psnr is not None), None)
    panels.append((axes[1], "ours (this sweep)", lambda r: r.psnr, blur))
    colors = variant_colors(r.id for r in rows)
    for ax, title, value, baseline in panels:
        for r in rows:
            if value(r) is not None:
                ax.scatter(r.params / 1e6, value(r), color=colors[r.id])
                if "ours" in title and r.psnr_ci_low is not None:
                    ax.errorbar(r.params / 1e6, r.psnr, yerr=[[r.psnr - r.psnr_ci_low], [r.psnr_ci_high - r.psnr]],
                                color=colors[r.id], capsize=3)  # fmt: skip
                ax.annotate(r.model, (r.params / 1e6, value(r)), textcoords="offset points", xytext=(4, 4), fontsize=8)
        if baseline is not None:
            ax.axhline(baseline, color="gray", linestyle="--", label=f"blurry input {baseline:.2f} dB")
            ax.legend(loc="lower right")
        ax.set_title(title + (" (bars: 95 % interval)" if "ours" in title and rows[0].psnr_ci_low else ""))
        ax.set_xlabel("parameters (M)")
        ax.set_ylabel("PSNR (dB)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_pairs(significance: Significance, rows: list[Row], path: Path) -> None:
    """Variant x variant heat map of the mean per-image PSNR difference (row minus column); pairs the paired test
    cannot tell apart are hatched."""
    names = {r.id: r.model for r in rows}
    ids = list(significance.variants)
    diff = np.zeros((len(ids), len(ids)))
    unclear = np.zeros_like(diff, dtype=bool)
    for pair in significance.pairs:
        i, j = ids.index(pair.a), ids.index(pair.b)
        diff[i, j], diff[j, i] = pair.mean_diff, -pair.mean_diff
        unclear[i, j] = unclear[j, i] = pair.verdict == "not distinguishable"
    limit = max(float(np.abs(diff).max()), 1e-6)
    size = max(4.5, 0.7 * len(ids))
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(diff, cmap="RdBu", vmin=-limit, vmax=limit)
    for i, j in np.argwhere(~np.eye(len(ids), dtype=bool)):
        color = "white" if abs(diff[i, j]) > 0.6 * limit else "black"
        ax.text(j, i, f"{diff[i, j]:+.2f}", ha="center", va="center", fontsize=7, color=color)
        if unclear[i, j]:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="0.5", lw=0))
    ax.set_xticks(range(len(ids)), [names[i] for i in ids], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(ids)), [names[i] for i in ids], fontsize=8)
    ax.set_title("PSNR of row minus column, mean over test images (dB)\nhatched: not distinguishable (Holm, 5 %)",
                 fontsize=9)  # fmt: skip
    fig.colorbar(image, ax=ax, shrink=0.8, label="dB")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
