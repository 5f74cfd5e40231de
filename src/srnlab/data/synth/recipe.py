"""`Recipe`: everything that determines a synthetic set, and the one place its defaults live (the data config
`conf/data/synthetic.yaml` states the same values with their sources; a test keeps the two equal). A set on
disk carries its recipe as `recipe.json`; a set whose recipe differs is regenerated."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from srnlab.data.synth.dead_leaves import dead_leaves_names
from srnlab.data.synth.render import BlurSynthesizer
from srnlab.data.synth.sources import EXTRA_TRAINING_SOURCES, source_names
from srnlab.errors import ConfigError

GENERATOR_VERSION = 2  # bump whenever rendering changes, so that DataModules regenerate stale sets
# 2: the same bits on every CPU (portable camera response and paths); version 1 sets differed by machine
RECIPE_FILE = "recipe.json"


@dataclass(frozen=True)
class Recipe:
    """A synthetic set: `n_train`/`n_test` pairs of `size` (H, W) frames, drawn with `seed` from the packaged
    photos or the photos in the `sources` folder (plus EXTRA_TRAINING_SOURCES in training with
    `extra_training_photos`, and `dead_leaves` procedural scenes); `options` are further BlurSynthesizer
    fields (e.g. psnr_range)."""

    n_train: int = 96
    n_test: int = 24
    seed: int = 0
    size: tuple[int, int] = (256, 320)
    sources: str | Path | None = None
    extra_training_photos: bool = False
    dead_leaves: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.n_train < 0 or self.n_test < 0 or self.n_train + self.n_test == 0:
            raise ConfigError(f"n_train={self.n_train}, n_test={self.n_test}: need non-negative counts, not both zero.")
        if self.dead_leaves < 0:
            raise ConfigError(f"dead_leaves={self.dead_leaves}: the number of procedural training scenes, 0 or more.")
        object.__setattr__(self, "size", tuple(int(v) for v in self.size))
        if self.sources is not None:
            object.__setattr__(self, "sources", Path(self.sources).expanduser().resolve())

    @classmethod
    def of(cls, **settings: Any) -> Recipe:
        """A recipe from flat settings, as the data config and the command line give them: the recipe's own
        fields, and any BlurSynthesizer field as an option."""
        own = {f.name for f in dataclasses.fields(cls)} - {"options"}
        return cls(**{k: v for k, v in settings.items() if k in own}, options={
            k: v for k, v in settings.items() if k not in own
        })  # fmt: skip

    def extra_training_names(self) -> list[str]:
        """The scenes that only training uses: the packaged extra photos, then the dead-leaves images."""
        photos = list(EXTRA_TRAINING_SOURCES) if self.extra_training_photos else []
        return photos + dead_leaves_names(self.dead_leaves)

    def synthesizer(self) -> BlurSynthesizer:
        return BlurSynthesizer(size=self.size, **self.options)

    def to_json(self) -> dict[str, Any]:
        """The recipe as recipe.json stores it (JSON types only): what decides whether a set is up to date."""
        recipe = {
            "generator_version": GENERATOR_VERSION,
            "n_train": int(self.n_train),
            "n_test": int(self.n_test),
            "seed": int(self.seed),
            "sources": None if self.sources is None else str(self.sources),
            "source_names": source_names(self.sources),
            "extra_training_names": self.extra_training_names(),
            "synthesizer": asdict(self.synthesizer()),
        }
        return json.loads(json.dumps(recipe))  # tuples -> lists, as they come back from the file


def read_recipe(out_dir: str | Path) -> dict[str, Any] | None:
    """The recipe of the synthetic set in `out_dir`, or None if there is none (or it is unreadable)."""
    try:
        return json.loads((Path(out_dir) / RECIPE_FILE).read_text())
    except (OSError, ValueError):
        return None
