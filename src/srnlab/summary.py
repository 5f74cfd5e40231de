"""Parameter counts and forward FLOPs of every Table 1 variant, next to the paper's counts (`srn-summary`,
srnlab.cli.summary, prints them)."""

from __future__ import annotations

from dataclasses import dataclass

from hydra.utils import instantiate
from omegaconf import OmegaConf

from srnlab.config import compose_config
from srnlab.models.measure import count_parameters, forward_gflops


@dataclass(frozen=True)
class VariantSummary:
    id: str
    name: str
    params: int
    gflops: float
    paper: dict[str, float] | None  # the paper's params, psnr and ssim for this row (experiment config)

    @property
    def paper_params(self) -> int | None:
        return int(self.paper["params"]) if self.paper else None


def summarize(experiment_id: str, extra_overrides: tuple[str, ...] = ()) -> VariantSummary:
    """Build the variant exactly as training would (full width, whatever the profile) and measure it."""
    cfg = compose_config("train", [f"experiment=table1/{experiment_id}", "model.net.width_mult=1.0", *extra_overrides])
    net = instantiate(cfg.model.net)
    return VariantSummary(
        id=cfg.variant.id,
        name=cfg.variant.name,
        params=count_parameters(net),
        gflops=forward_gflops(net),
        paper=OmegaConf.to_container(cfg.variant.paper) if cfg.variant.paper else None,
    )


def format_table(rows: list[VariantSummary]) -> str:
    lines = [
        "| id | model | params (ours) | params (paper) | GFLOPs @1280x720 |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        paper = f"{r.paper_params / 1e6:.2f}M" if r.paper_params else "-"
        lines.append(f"| {r.id} | {r.name} | {r.params:,} | {paper} | {r.gflops:,.1f} |")
    return "\n".join(lines)
