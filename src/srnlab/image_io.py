"""Reading and writing images as float32 RGB arrays in [0, 1].

Everything in srnlab (datasets, the synthesiser, the deblur CLI) goes through these functions, so every
image a user can hand us ends up in one representation: 8- and 16-bit PNG, JPEG, grayscale, RGBA.

OpenCV is used for decoding, but `cv2.imread` is an unreliable judge of damaged files: it returns None for
some truncated PNGs and a silently grey-filled partial image for others (and for truncated JPEGs). So the
file's structure is checked before decoding: every PNG chunk's CRC and the final IEND chunk, and a JPEG's
end-of-image marker after its last scan.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from srnlab.errors import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")  # what read_image reads (OpenCV decodes)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
_IEND_CHUNK = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # zero length, type, CRC: the last 12 bytes of a complete PNG
# Our choice: 100 megapixels (a 12,000 x 8,000 photo) take about 1.6 GB as the float32 copies srnlab makes while
# reading; a larger header is refused before decoding, since a few KB of PNG can declare gigabytes of pixels.
MAX_PIXELS = 100_000_000
_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0-SOF15 (not DHT, JPG, DAC)


class ImageReadError(UserError, ValueError):
    """An image file that is missing, unreadable, damaged or of an unsupported kind; the message names it."""


class ImageTooLarge(ImageReadError):
    """An image whose header declares more pixels than the reader's limit (checked before decoding)."""


@dataclass(frozen=True)
class ImageSize:
    """Pixel size of an image file as stored (before any EXIF rotation)."""

    height: int
    width: int


def read_image(path: str | Path, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    """Read an image file as a float32 RGB array of shape H x W x 3 with values in [0, 1].

    Grayscale is replicated to three channels, an alpha channel is dropped (not composited: deblurring works
    on the colour values), 16-bit values are divided by 65535. PNGs are decoded unchanged; JPEGs honour
    their EXIF orientation, as photo viewers do, because users hand the deblur CLI phone photos.

    A PNG or JPEG whose header declares more than `max_pixels` pixels (None: no limit of our own) is refused
    before anything is decoded, so the memory a file can claim is bounded whatever its header says.

    Raises:
        ImageReadError: naming the file, if it is missing, unreadable, truncated, corrupt or not an image.
        ImageTooLarge: naming the file, its size and the option that raises the limit.
    """
    path = Path(path)
    data = _read_bytes(path)
    if data.startswith(PNG_SIGNATURE):
        _check_png(path, data)
        flags = cv2.IMREAD_UNCHANGED  # keeps 16 bits
    elif data.startswith(JPEG_SOI):
        _check_jpeg(path, data)
        flags = cv2.IMREAD_COLOR  # JPEG has no alpha nor 16 bits; this flag applies the EXIF orientation
    else:
        flags = cv2.IMREAD_UNCHANGED  # other formats OpenCV knows (BMP, TIFF, ...) are decoded as they are
    _check_pixels(path, _stored_size(data), max_pixels)
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    except cv2.error as err:  # e.g. OpenCV's own pixel limit, for formats whose header we do not read
        reason = str(err).strip().splitlines()[-1]
        raise ImageReadError(f"{path}: OpenCV refused to decode this file ({reason}).") from err
    if image is None:
        raise ImageReadError(f"{path}: OpenCV cannot decode this file; it is corrupt or not a PNG/JPEG image.")
    return _to_float_rgb(path, image)


def probe_image(path: str | Path) -> ImageSize:
    """The size of an image file, checking that it is complete, without decoding it where possible.

    Datasets call this once per file at construction, so it must be cheap on thousands of 1280x720 PNGs:
    for PNG it reads only the 33-byte header and the 12-byte IEND trailer (a corrupt chunk in the middle
    goes unnoticed until `read_image` decodes the file). Other formats are decoded in full.

    Raises:
        ImageReadError: naming the file, if it is missing, unreadable, truncated or not an image.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(33)
            if not head.startswith(PNG_SIGNATURE):
                return _size_of(read_image(path))
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(size - len(_IEND_CHUNK), 0))
            tail = f.read()
    except FileNotFoundError as err:
        raise ImageReadError(f"{path}: no such file.") from err
    except OSError as err:
        raise ImageReadError(f"{path}: cannot read the file ({err.strerror or err}).") from err
    if len(head) < 33 or head[12:16] != b"IHDR":
        raise ImageReadError(f"{path}: damaged PNG header (no IHDR chunk); replace the file.")
    if tail != _IEND_CHUNK:
        raise ImageReadError(f"{path}: truncated PNG (it does not end with the IEND chunk); replace the file.")
    width, height = struct.unpack(">II", head[16:24])
    return ImageSize(height=height, width=width)


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Write a float RGB (H x W x 3) or grayscale (H x W) array with values in [0, 1] as an 8-bit PNG.

    Values are clipped to [0, 1] and rounded to the nearest 8-bit level; parent folders are created. The
    compression level is fixed so that equal arrays always give byte-identical files.
    """
    path = Path(path)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"write_image({path}): expected an H x W x 3 RGB or H x W array, got shape {image.shape}.")
    pixels = to_uint8(image)
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise OSError(f"write_image({path}): OpenCV could not encode the image.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encoded.tobytes())


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float values in [0, 1] -> uint8, clipped and rounded to the nearest level, as `write_image` stores them."""
    return np.floor(np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """H x W x 3 float array -> 3 x H x W float32 tensor (the layout the networks take)."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))


def from_tensor(tensor: torch.Tensor) -> np.ndarray:
    """3 x H x W tensor (any device or dtype) -> H x W x 3 float32 array, e.g. for `write_image`."""
    return tensor.detach().to("cpu", torch.float32).permute(1, 2, 0).numpy()


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise ImageReadError(f"{path}: no such file.") from err
    except OSError as err:
        raise ImageReadError(f"{path}: cannot read the file ({err.strerror or err}).") from err
    if not data:
        raise ImageReadError(f"{path}: the file is empty; replace it.")
    return data


def _check_png(path: Path, data: bytes) -> None:
    """Walk the chunks: each must be whole with a correct CRC, and the last must be IEND."""
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        end = pos + 12 + length
        if end > len(data):
            break
        body = data[pos + 4 : end - 4]  # chunk type + chunk data, which the CRC covers
        if zlib.crc32(body) != struct.unpack_from(">I", data, end - 4)[0]:
            raise ImageReadError(f"{path}: corrupt PNG (bad CRC in a {body[:4]!r} chunk); replace the file.")
        if body[:4] == b"IEND":
            return
        pos = end
    raise ImageReadError(f"{path}: truncated PNG (the data stops before the IEND chunk); replace the file.")


def _check_jpeg(path: Path, data: bytes) -> None:
    """A complete JPEG has an end-of-image marker after the start of its last scan.

    Entropy-coded scan data cannot contain these two markers (0xFF bytes are stuffed), so the test holds
    for progressive JPEGs and tolerates the extra data some cameras append after the end marker.
    """
    if data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda"):
        raise ImageReadError(f"{path}: truncated JPEG (no end-of-image marker after the last scan); replace it.")


def _stored_size(data: bytes) -> ImageSize | None:
    """The size a PNG's IHDR or a JPEG's frame header declares, read without decoding; None for other formats
    or a header we cannot find."""
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return ImageSize(height=height, width=width)
    if not data.startswith(JPEG_SOI):
        return None
    pos = 2
    while pos + 9 <= len(data) and data[pos] == 0xFF:
        marker, (length,) = data[pos + 1], struct.unpack_from(">H", data, pos + 2)
        if marker in _JPEG_FRAME_MARKERS:
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return ImageSize(height=height, width=width)
        pos += 2 + length
    return None


def _check_pixels(path: Path, size: ImageSize | None, max_pixels: int | None) -> None:
    if size is None or max_pixels is None or size.height * size.width <= max_pixels:
        return
    pixels = size.height * size.width
    raise ImageTooLarge(
        f"{path}: {size.width} x {size.height} pixels ({pixels / 1e6:,.0f} megapixels) is over the limit of "
        f"{max_pixels / 1e6:,.0f} megapixels; reading it would take about {pixels * 16 / 1e9:,.0f} GB. If the "
        f"memory allows, raise the limit (srn-deblur --max-pixels {pixels})."
    )


def _to_float_rgb(path: Path, image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        scale = 255.0
    elif image.dtype == np.uint16:
        scale = 65535.0
    else:
        raise ImageReadError(f"{path}: unsupported pixel type {image.dtype}; use 8- or 16-bit PNG or JPEG.")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    else:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image.astype(np.float32) / np.float32(scale)


def _size_of(image: np.ndarray) -> ImageSize:
    return ImageSize(height=image.shape[0], width=image.shape[1])
