"""The data layer: GOPRO_Large-layout pairs (srnlab.data.gopro), list-file and folder pairs (srnlab.data.pairs),
the synthetic blur generator (srnlab.data.synth), augmentation (srnlab.data.transforms) and the DataModule
(srnlab.data.datamodule).

The names below load their submodule on first use (PEP 562), so that `srn-synth` and `srn-deblur` do not import
Lightning and albumentations through the DataModule, while `srnlab.data.DeblurDataModule` (the configs'
`_target_`, also in the configs that earlier runs saved) keeps working.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "BlurSynthesizer": "srnlab.data.synth",
    "DatasetError": "srnlab.data.pairs",
    "DeblurDataModule": "srnlab.data.datamodule",
    "FolderPairs": "srnlab.data.pairs",
    "GoProPairs": "srnlab.data.gopro",
    "ListPairs": "srnlab.data.pairs",
    "ImageReadError": "srnlab.image_io",
    "read_image": "srnlab.image_io",
    "synthesize_dataset": "srnlab.data.synth",
    "write_image": "srnlab.image_io",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
