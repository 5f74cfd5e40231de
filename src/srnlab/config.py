"""Composing the project's Hydra configs from Python (tools, tests, notebooks) without a command line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

CONFIG_DIR = Path(__file__).resolve().parent / "conf"  # inside the package, so that a wheel carries it
TABLE1_IDS = ("ss", "sc", "wo_r", "rnn", "sr_flat", "sr_rb", "sr_ed", "sr_edrb1", "sr_edrb2", "sr_edrb3")


def compose_config(config_name: str = "train", overrides: Sequence[str] = ()) -> DictConfig:
    """The config a command line with these overrides would get, with `hydra.*` resolvable."""
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides), return_hydra_config=True)
