"""`srn-deblur`: deblur your own photos (any size, PNG or JPEG, grayscale or RGBA) with a trained checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from tqdm import tqdm

from srnlab.checkpoints import CheckpointError, read_hparams
from srnlab.data.images import ImageReadError, from_tensor, read_image, to_tensor, write_image
from srnlab.lit import DeblurModule

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


def find_images(inputs: list[Path]) -> list[Path]:
    """Files as given, folders expanded to the images they hold (sorted); anything else is an error."""
    found = []
    for path in inputs:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    if not found:
        raise FileNotFoundError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {', '.join(map(str, inputs))}")
    return found


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def deblur_files(
    ckpt: Path, inputs: list[Path], out_dir: Path, device: str = "auto"
) -> tuple[list[Path], list[ImageReadError]]:
    """Write `<out_dir>/<stem>_deblurred.png` for every readable input. A damaged image is reported and
    skipped, so one bad file in a folder does not cost the others."""
    read_hparams(ckpt)
    target = pick_device(device)
    module = DeblurModule.load_from_checkpoint(ckpt, map_location=target).eval()
    written, failed = [], []
    for path in tqdm(find_images(inputs), desc="deblurring", unit="image"):
        try:
            blur = to_tensor(read_image(path))[None].to(target)
        except ImageReadError as error:
            failed.append(error)
            continue
        with torch.no_grad():
            sharp = module(blur)[0]
        out = out_dir / f"{path.stem}_deblurred.png"
        write_image(out, from_tensor(sharp))
        written.append(out)
    return written, failed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("inputs", nargs="+", type=Path, help="image files or folders of images")
    parser.add_argument("--ckpt", type=Path, required=True, help="a .ckpt written by srn-train")
    parser.add_argument("--out", type=Path, default=Path("deblurred"), help="output folder (default: ./deblurred)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    args = parser.parse_args(argv)
    try:
        written, failed = deblur_files(args.ckpt, args.inputs, args.out, args.device)
    except (CheckpointError, FileNotFoundError) as error:
        parser.exit(2, f"srn-deblur: error: {error}\n")
    for path in written:
        print(path)
    if failed:
        parser.exit(1, "".join(f"srn-deblur: skipped {error}\n" for error in failed))


if __name__ == "__main__":
    main()
