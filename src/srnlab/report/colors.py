"""One colour per Table 1 variant, shared by the matplotlib figures and the W&B dashboards, so that a variant
looks the same in every picture of a sweep."""

from __future__ import annotations

from collections.abc import Iterable

from matplotlib import colormaps
from matplotlib.colors import to_hex

from srnlab.config import TABLE1_IDS

PALETTE = "tab10"  # ten distinguishable colours for the ten rows, in the paper's order
OTHER_VARIANT_COLOR = "#000000"  # a variant outside Table 1 (srn_full, a hand-built model)


def variant_colors(ids: Iterable[str] = TABLE1_IDS) -> dict[str, str]:
    """Hex colour of each variant id: its Table 1 row's colour of the palette, whatever subset a sweep ran."""
    palette = [to_hex(c) for c in colormaps[PALETTE].colors]
    return {i: palette[TABLE1_IDS.index(i) % len(palette)] if i in TABLE1_IDS else OTHER_VARIANT_COLOR for i in ids}
