"""A TF1 tensor bundle written from scratch for the importer's tests: an SSTable .index of BundleEntryProtos and
one .data shard. Written independently of srnlab's reader, following LevelDB's table format and TensorFlow's
tensor_bundle.proto, so that reader and writer check each other."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from srnlab.release.crc32c import crc32c

DTYPE_NUMBERS = {np.dtype("<f4"): 1, np.dtype("<i8"): 9}
MAGIC = 0xDB4775248B80FB57


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, value: int | bytes, fixed32: bool = False) -> bytes:
    if isinstance(value, bytes):
        return varint(number << 3 | 2) + varint(len(value)) + value
    if fixed32:
        return varint(number << 3 | 5) + struct.pack("<I", value)
    return varint(number << 3) + varint(value)


def mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def entry_proto(array: np.ndarray, offset: int) -> bytes:
    shape = b"".join(field(2, field(1, d)) for d in array.shape)
    body = field(1, DTYPE_NUMBERS[array.dtype]) + field(2, shape) + field(4, offset) + field(5, array.nbytes)
    return body + field(6, mask(crc32c(array.tobytes())), fixed32=True)


def block(records: list[tuple[bytes, bytes]]) -> bytes:
    """A table block with full keys (no prefix sharing) and a single restart point, plus its trailer."""
    content = b"".join(varint(0) + varint(len(k)) + varint(len(v)) + k + v for k, v in records)
    content += struct.pack("<II", 0, 1)
    return content + b"\0" + struct.pack("<I", mask(crc32c(content + b"\0")))


def write_bundle(prefix: Path, tensors: dict[str, np.ndarray], offsets: dict[str, int] | None = None) -> None:
    """`prefix`.index and `prefix`.data-00000-of-00001 holding `tensors` (at `offsets`, else packed in name order)."""
    shard = bytearray()
    records = [(b"", field(1, 1) + field(3, field(1, 1)))]
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        offset = offsets[name] if offsets else len(shard)
        shard.extend(b"\0" * max(0, offset + array.nbytes - len(shard)))
        shard[offset : offset + array.nbytes] = array.tobytes()
        records.append((name.encode(), entry_proto(array, offset)))
    data = block(records)
    index = block([(records[-1][0], varint(0) + varint(len(data) - 5))])
    handles = varint(len(data)) + varint(0) + varint(len(data)) + varint(len(index) - 5)
    footer = handles.ljust(40, b"\0") + struct.pack("<Q", MAGIC)
    Path(f"{prefix}.index").write_bytes(data + index + footer)
    Path(f"{prefix}.data-00000-of-00001").write_bytes(bytes(shard))
