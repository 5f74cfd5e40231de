"""A TensorFlow 1 checkpoint read with numpy and the standard library: no TensorFlow needed.

A checkpoint `PREFIX` is a tensor bundle: `PREFIX.index`, a sorted string table (LevelDB's SSTable format) that
maps each variable name to a small protobuf (BundleEntryProto: dtype, shape, shard, offset, size, masked
CRC-32C), and `PREFIX.data-0000k-of-0000n`, the shards holding the raw little-endian tensor bytes. Both formats
are small and stable, so reading them ourselves costs ~150 lines and spares users a 500 MB dependency that no
longer supports the Python versions srnlab runs on.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from srnlab.release.crc32c import crc32c, unmask
from srnlab.runs.checkpoints import CheckpointError

TABLE_MAGIC = 0xDB4775248B80FB57  # leveldb::kTableMagicNumber, the last 8 bytes of every .index file
FOOTER_BYTES = 48  # two block handles padded to 40 bytes, then the magic
TF_DTYPES = {  # tensorflow/core/framework/types.proto: the numeric types a model checkpoint holds
    number: np.dtype(name)
    for number, name in {1: "<f4", 2: "<f8", 3: "<i4", 4: "u1", 5: "<i2", 6: "i1", 9: "<i8", 10: "?", 19: "<f2"}.items()
}


@dataclass(frozen=True)
class TensorEntry:
    """Where one variable lives in the shards, as the index records it."""

    name: str
    dtype: np.dtype | None  # None: a type srnlab cannot read (strings, resources)
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc32c: int | None  # unmasked; None where the index records none

    @property
    def n_elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


class TFCheckpoint:
    """The variables of a TF1 checkpoint: `entries` from the index, `read(name)` from the shards (size- and
    checksum-verified). `prefix` may also name the .index or a .data file."""

    def __init__(self, prefix: str | Path) -> None:
        self.prefix = _strip_suffix(Path(prefix))
        self.index_path = self.prefix.with_name(self.prefix.name + ".index")
        if not self.index_path.is_file():
            raise CheckpointError(
                f"TensorFlow checkpoint index not found: {self.index_path}. Pass the checkpoint prefix, e.g. "
                "checkpoints/color/deblur.model-523000 (the folder holds the .index and .data-00000-of-00001 files)"
            )
        header, self.entries = _parse_index(self.index_path)
        self.num_shards = header.get(1, 1)
        if header.get(2, 0) != 0:
            raise CheckpointError(f"{self.index_path}: big-endian checkpoints are not supported")

    def shard_path(self, shard: int) -> Path:
        return self.prefix.with_name(f"{self.prefix.name}.data-{shard:05d}-of-{self.num_shards:05d}")

    def read(self, name: str) -> np.ndarray:
        """The variable's values in TF's layout, after checking their byte count and checksum."""
        entry = self.entries[name]
        path = self.shard_path(entry.shard)
        if not path.is_file():
            raise CheckpointError(f"checkpoint shard not found: {path} (listed by {self.index_path})")
        expected = entry.n_elements * entry.dtype.itemsize
        if entry.size != expected:
            raise CheckpointError(
                f"{self.index_path}: {name} records {entry.size} bytes for shape {entry.shape}, not {expected}"
            )
        with path.open("rb") as f:
            f.seek(entry.offset)
            raw = f.read(entry.size)
        if len(raw) != entry.size:
            raise CheckpointError(
                f"{path} is truncated: {name} needs bytes {entry.offset}..{entry.offset + entry.size}, the file "
                f"has {path.stat().st_size}. Copy the shard again"
            )
        if entry.crc32c is not None and crc32c(raw) != entry.crc32c:
            raise CheckpointError(f"{path}: the bytes of {name} fail their checksum: the shard is damaged")
        return np.frombuffer(raw, entry.dtype).reshape(entry.shape).copy()


def _strip_suffix(path: Path) -> Path:
    name = path.name
    if name.endswith(".index"):
        return path.with_name(name.removesuffix(".index"))
    if ".data-" in name:
        return path.with_name(name.split(".data-")[0])
    return path


def _parse_index(path: Path) -> tuple[dict[int, int], dict[str, TensorEntry]]:
    """The bundle header's fields and every variable's entry."""
    data = path.read_bytes()
    try:
        records = dict(_table_records(data))
    except (IndexError, ValueError, struct.error) as e:
        raise CheckpointError(f"{path} is not a readable TensorFlow checkpoint index ({e})") from e
    if b"" not in records:
        raise CheckpointError(f"{path} has no bundle header: is it a TensorFlow 1 checkpoint index?")
    header = {field: value for field, value in _fields(records.pop(b"")) if isinstance(value, int)}
    entries = {}
    for key, value in records.items():
        entry = _entry(key.decode(), value)
        if entry.dtype is None:
            raise CheckpointError(f"{path}: {entry.name} has a dtype srnlab cannot read")
        entries[entry.name] = entry
    return header, entries


def _table_records(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Every (key, value) of an SSTable: the footer points at the index block, whose values point at the data
    blocks."""
    footer = data[-FOOTER_BYTES:]
    if len(data) < FOOTER_BYTES or struct.unpack("<Q", footer[-8:])[0] != TABLE_MAGIC:
        raise ValueError("no SSTable footer (wrong magic number)")
    _, pos = _varint(footer, 0)
    _, pos = _varint(footer, pos)
    index_offset, pos = _varint(footer, pos)
    index_size, _ = _varint(footer, pos)
    for _, handle in _block_records(data, index_offset, index_size):
        offset, pos = _varint(handle, 0)
        size, _ = _varint(handle, pos)
        yield from _block_records(data, offset, size)


def _block_records(data: bytes, offset: int, size: int) -> Iterator[tuple[bytes, bytes]]:
    block = data[offset : offset + size]
    compression, stored = data[offset + size], struct.unpack_from("<I", data, offset + size + 1)[0]
    if compression != 0:
        raise ValueError(f"block at {offset} is compressed (type {compression}); TF bundles never are")
    if crc32c(block + bytes([compression])) != unmask(stored):
        raise ValueError(f"block at {offset} fails its checksum")
    n_restarts = struct.unpack_from("<I", block, size - 4)[0]
    end, pos, key = size - 4 - 4 * n_restarts, 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_size, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        yield key, block[pos : pos + value_size]
        pos += value_size


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _fields(message: bytes) -> Iterator[tuple[int, int | bytes]]:
    """A protobuf message's (field number, value) pairs: varints and fixed32 as ints, the rest as bytes."""
    pos = 0
    while pos < len(message):
        tag, pos = _varint(message, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(message, pos)
        elif wire == 5:
            value, pos = struct.unpack_from("<I", message, pos)[0], pos + 4
        elif wire == 1:
            value, pos = struct.unpack_from("<Q", message, pos)[0], pos + 8
        elif wire == 2:
            length, pos = _varint(message, pos)
            value, pos = message[pos : pos + length], pos + length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, value


def _entry(name: str, message: bytes) -> TensorEntry:
    """A BundleEntryProto: dtype=1, shape=2 (TensorShapeProto: dim=2 {size=1}), shard_id=3, offset=4, size=5,
    crc32c=6 (masked), slices=7 (partitioned variables, which SRN's checkpoints do not use)."""
    fields: dict[int, int | bytes] = {}
    dims: list[int] = []
    for field, value in _fields(message):
        if field == 2:
            dims = [
                dict(_fields(dim)).get(1, 0) for number, dim in _fields(value) if number == 2 and isinstance(dim, bytes)
            ]
        elif field == 7:
            raise CheckpointError(f"{name} is a partitioned (sliced) variable, which srnlab cannot import")
        else:
            fields[field] = value
    crc = fields.get(6)
    return TensorEntry(
        name=name,
        dtype=TF_DTYPES.get(int(fields.get(1, 0))),
        shape=tuple(int(d) for d in dims),
        shard=int(fields.get(3, 0)),
        offset=int(fields.get(4, 0)),
        size=int(fields.get(5, 0)),
        crc32c=unmask(int(crc)) if crc is not None else None,
    )
