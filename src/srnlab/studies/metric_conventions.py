"""Every metric convention side by side, for the blurry inputs and the shipped network's outputs, written into
docs/metric-conventions.md: so that a reader can convert a number measured in one convention into what the
others would read on the same images.

Scores the shipped weights file with `srn-eval`'s own code (as srnlab.studies.pretrained_card) on the default
synthetic test split and, where the real material is present, on the two real GoPro pairs of
../shared/realdata/gopro_mini, each with every convention of srnlab.lit.metrics and no border cut.

Run: `python -m srnlab.studies.metric_conventions [--realdata ../shared/realdata] [--out logs/metric-conventions]`
(a few minutes on a CPU; the synthetic split is generated into `paths.data_dir` on first use).
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import dataclass
from pathlib import Path

from srnlab.config import compose_config
from srnlab.evaluation import evaluate
from srnlab.lit.metrics import CONVENTIONS
from srnlab.runs.weights import PRETRAINED
from srnlab.studies.pages import replace_section

PAGE = Path("docs/metric-conventions.md")
MARKERS = ("<!-- conventions:start -->", "<!-- conventions:end -->")
CONVENTION_NAMES = ("psnr", "psnr_y", "ssim", "ssim_y", "ssim_3d")
REAL_PAIRS = {  # pair number in the BasicSR table -> the gopro_mini sequence (realdata/INDEX.md)
    1: "GOPR0384_11_00",
    2: "DeepDeblurExample_seq4_frame1",
}


@dataclass(frozen=True)
class Line:
    """One row of the table: which images, whose scores (the blurry input's or the network's), and the score
    of every convention."""

    images: str
    scored: str
    scores: dict[str, float]


def score(weights: Path, out: Path, overrides: list[str]) -> list[dict[str, float | str]]:
    """srn-eval's per-image records (every convention, for the output and the blurry input) of `weights`."""
    evaluate(compose_config("eval", [
        f"ckpt_path={weights}", f"paths.output_dir={out}", f"model.metrics=[{','.join(CONVENTION_NAMES)}]",
        "model.crop_border=0", *overrides,
    ]))  # fmt: skip
    with (out / "metrics.csv").open(newline="") as f:
        return [{k: v if k == "name" else float(v) for k, v in r.items()} for r in csv.DictReader(f)]


def lines_of(images: str, records: list[dict[str, float | str]]) -> list[Line]:
    """The blurry inputs' and the outputs' mean scores over `records`."""
    return [
        Line(images, scored, {m: sum(float(r[prefix + m]) for r in records) / len(records) for m in CONVENTION_NAMES})
        for scored, prefix in (("blurry input", "blur_"), ("shipped network", ""))
    ]


def real_pair_lines(records: list[dict[str, float | str]]) -> list[Line]:
    """Each real pair's own rows (numbered as in the issue's BasicSR table), then their means."""
    lines = []
    for number, sequence in REAL_PAIRS.items():
        pair = [r for r in records if str(r["name"]).startswith(sequence + "/")]
        lines += lines_of(f"real pair {number}: {sequence} frame 1 (1280x720)", pair)
    return lines + lines_of(f"real pairs, mean of {len(records)}", records)


def markdown(lines: list[Line]) -> str:
    """The table, with the two differences a reader converts with (Y minus RGB PSNR, 3-D minus RGB SSIM)."""
    headers = [CONVENTIONS[m].header for m in CONVENTION_NAMES]
    rows = [
        "| images | scored | " + " | ".join(headers) + " | PSNR Y - RGB | SSIM 3-D - RGB |",
        "|---|---|" + "---:|" * (len(headers) + 2),
    ]
    for line in lines:
        s = line.scores
        cells = [f"{s[m]:.2f}" if "psnr" in m else f"{s[m]:.4f}" for m in CONVENTION_NAMES]
        diffs = [f"{s['psnr_y'] - s['psnr']:+.2f}", f"{s['ssim_3d'] - s['ssim']:+.4f}"]
        rows.append(f"| {line.images} | {line.scored} | " + " | ".join(cells + diffs) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=PRETRAINED)
    parser.add_argument("--realdata", type=Path, default=Path("../shared/realdata"))
    parser.add_argument("--out", type=Path, default=Path("logs/metric-conventions"), help="srn-eval's outputs")
    parser.add_argument("--page", type=Path, default=PAGE, help="the page whose marked section gets the table")
    args = parser.parse_args(argv)
    synthetic = score(args.weights, args.out / "synthetic", [])
    height, width = compose_config("eval").data.synthesize.size
    lines = lines_of(f"synthetic test split, mean of {len(synthetic)} ({height}x{width})", synthetic)
    gopro_root = args.realdata / "gopro_mini"
    if gopro_root.is_dir():
        real = score(args.weights, args.out / "gopro", ["data=gopro", f"data.root={gopro_root.resolve()}"])
        lines += real_pair_lines(real)
    else:
        print(f"{gopro_root} not found: no real-pair rows")
    section = markdown(lines)
    replace_section(args.page, MARKERS, section)
    (args.out / "conventions.json").write_text(json.dumps([line.__dict__ for line in lines], indent=2))
    print(section)


if __name__ == "__main__":
    main()
