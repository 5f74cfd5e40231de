"""The data layer: GOPRO_Large-layout pairs, the synthetic blur generator, augmentation and the DataModule."""

from srnlab.data.datamodule import DeblurDataModule
from srnlab.data.gopro import DatasetError, GoProPairs
from srnlab.data.synth import BlurSynthesizer, synthesize_dataset
from srnlab.image_io import ImageReadError, read_image, write_image  # re-exported: datasets read images

__all__ = [
    "BlurSynthesizer",
    "DatasetError",
    "DeblurDataModule",
    "GoProPairs",
    "ImageReadError",
    "read_image",
    "synthesize_dataset",
    "write_image",
]
