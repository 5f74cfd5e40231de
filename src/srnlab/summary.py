"""`srn-summary`: parameter counts and forward FLOPs of every Table 1 variant, next to the paper's counts."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from hydra.utils import instantiate
from omegaconf import OmegaConf

from srnlab.config import TABLE1_IDS, compose_config
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("ids", nargs="*", default=list(TABLE1_IDS), help="Table 1 experiment ids (default: all)")
    args = parser.parse_args(argv)
    print(format_table([summarize(i) for i in args.ids]))


if __name__ == "__main__":
    main()
