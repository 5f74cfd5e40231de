"""Parameter counts and forward FLOPs of every Table 1 variant, the full model and the official release's
networks, next to the counts they should have (`srn-summary`, srnlab.cli.summary, prints them)."""

from __future__ import annotations

from dataclasses import dataclass

from hydra.utils import instantiate
from omegaconf import OmegaConf

from srnlab.config import compose_config, experiment_path
from srnlab.models.measure import count_parameters, forward_gflops


@dataclass(frozen=True)
class VariantSummary:
    id: str
    name: str
    params: int
    gflops: float
    paper: dict[str, float] | None  # the paper's params, psnr and ssim for this row (experiment config)
    release_params: int | None = None  # the official checkpoint's variable total (release configs)

    @property
    def reference_params(self) -> int | None:
        """The count this network must have: the paper's (spec's) or the released checkpoint's."""
        return int(self.paper["params"]) if self.paper else self.release_params


def summarize(experiment: str, extra_overrides: tuple[str, ...] = ()) -> VariantSummary:
    """Build the variant exactly as training would (full width, whatever the profile) and measure it.
    `experiment`: a Table 1 id or another experiment's path (srnlab.config.experiment_path)."""
    overrides = [f"experiment={experiment_path(experiment)}", "model.net.width_mult=1.0", *extra_overrides]
    cfg = compose_config("train", overrides)
    release = cfg.variant.get("release")
    net = instantiate(cfg.model.net)
    return VariantSummary(
        id=cfg.variant.id,
        name=cfg.variant.name,
        params=count_parameters(net),
        gflops=forward_gflops(net),
        paper=OmegaConf.to_container(cfg.variant.paper) if cfg.variant.paper else None,
        release_params=int(release.params) if release else None,
    )


def format_table(rows: list[VariantSummary]) -> str:
    lines = [
        "| id | model | params (ours) | params (paper or release) | GFLOPs @1280x720 |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        ref = r.reference_params
        reference = "-" if ref is None else f"{ref:,}" if r.release_params else f"{ref / 1e6:.2f}M"
        lines.append(f"| {r.id} | {r.name} | {r.params:,} | {reference} | {r.gflops:,.1f} |")
    return "\n".join(lines)
