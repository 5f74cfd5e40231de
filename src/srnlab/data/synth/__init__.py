"""A synthetic GOPRO-style blur dataset, made offline from sharp photographs.

GOPRO_Large makes a blurry frame by averaging 7-13 consecutive sharp frames of a 240 fps video and takes the
middle one as ground truth. We imitate that with still photos: a random smooth camera trajectory
(translation, in-plane rotation, a little zoom) over the exposure gives 7-13 sub-frames, each a warp of the
photo; optionally an object region moves on a path of its own (spatially varying blur). `blur` is the plain
average of the sub-frames, `blur_gamma` the average taken after inverting a gamma-2.2 camera response, and
`sharp` is the middle sub-frame, an exact crop of the photo. The result is written in the GOPRO_Large
layout, so `GoProPairs` reads it unchanged and a model trained on it runs on real GOPRO data as is.

Sources are the colour photographs shipped inside scikit-image's wheel (no download) or a folder of the
user's own sharp photos. Each photo becomes one sequence of one split, never both, so the test set measures
deblurring of unseen scenes.

The subpackage keeps one concept per module: `render` (the camera-motion model, `BlurSynthesizer`),
`sources` (which photos, and which of them are held out), `recipe` (`Recipe`: everything that determines a
set, and the one place its defaults live) and `dataset` (writing a set atomically and reusing an up-to-date
one). `srn-synth` (srnlab.cli.synth) is the command.
"""

from srnlab.data.synth.dataset import NotASyntheticSet, ensure_synthetic_dataset, synthesize_dataset
from srnlab.data.synth.recipe import RECIPE_FILE, Recipe, read_recipe
from srnlab.data.synth.render import BlurSynthesizer, psnr
from srnlab.data.synth.sources import EXTRA_TRAINING_SOURCES, SKIMAGE_SOURCES, split_sources

__all__ = [
    "EXTRA_TRAINING_SOURCES",
    "RECIPE_FILE",
    "SKIMAGE_SOURCES",
    "BlurSynthesizer",
    "NotASyntheticSet",
    "Recipe",
    "ensure_synthetic_dataset",
    "psnr",
    "read_recipe",
    "split_sources",
    "synthesize_dataset",
]
