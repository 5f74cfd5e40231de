"""Composing the project's Hydra configs from Python (tools, tests, notebooks) without a command line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

CONFIG_DIR = Path(__file__).resolve().parent / "conf"  # inside the package, so that a wheel carries it
TABLE1_SWEEP = CONFIG_DIR / "table1.yaml"


def experiment_ids(swept: str) -> tuple[str, ...]:
    """A sweeper's experiment list, 'table1/ss,table1/sc,...', as the variant ids ('ss', 'sc', ...)."""
    return tuple(item.strip().removeprefix("table1/") for item in str(swept).split(",") if item.strip())


TABLE1_IDS = experiment_ids(OmegaConf.load(TABLE1_SWEEP).hydra.sweeper.params.experiment)  # the paper's row order
OTHER_EXPERIMENTS = ("srn_full", "release/color", "release/gray", "release/lstm")  # the full model, the release


def experiment_path(name: str) -> str:
    """The experiment config a short name selects: a Table 1 id ('sr_edrb3') lives in table1/, any other name
    ('srn_full', 'release/color') is its own path."""
    return f"table1/{name}" if name in TABLE1_IDS else name


def variant_order(variant_id: str) -> int:
    """A variant's row in Table 1 (0 for the first), from the sweep's experiment list; any other variant sorts
    after the table. W&B sorts runs by it (summary `variant/order`), so that charts list the rows as the paper."""
    return TABLE1_IDS.index(variant_id) if variant_id in TABLE1_IDS else len(TABLE1_IDS)


def compose_config(config_name: str = "train", overrides: Sequence[str] = ()) -> DictConfig:
    """The config a command line with these overrides would get, with `hydra.*` resolvable."""
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides), return_hydra_config=True)
