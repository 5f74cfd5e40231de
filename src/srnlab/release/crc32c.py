"""CRC-32C (Castagnoli), the checksum TensorFlow records for every tensor and table block of a checkpoint.

The standard library has only the other CRC-32 (zlib). A byte-at-a-time loop in Python would take seconds for a
30 MB shard, so the data is cut into equal chunks whose CRC registers advance together as one numpy vector, and
the chunks' registers are then chained: a CRC register is linear over GF(2), so feeding L bytes into a register
equals feeding them into a zero register and xoring in the old register advanced over L zero bytes, a linear map
tabulated once per chunk length.
"""

from __future__ import annotations

import numpy as np

POLYNOMIAL = 0x82F63B78  # CRC-32C, bit-reflected
MASK_DELTA = 0xA282EAD8  # TensorFlow/LevelDB's crc32c::Mask
N_CHUNKS = 4096  # registers advanced together: enough to make numpy's per-call overhead negligible


def _byte_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(POLYNOMIAL), table >> 1).astype(np.uint32)
    return table


TABLE = _byte_table()


def _advance(registers: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Feed column j of `columns` (n x L bytes) into register j, for all registers at once."""
    for k in range(columns.shape[1]):
        registers = TABLE[(registers ^ columns[:, k]) & 0xFF] ^ (registers >> 8)
    return registers


def _zeros_operator(length: int) -> np.ndarray:
    """4 x 256 table of the linear map 'advance a register over `length` zero bytes', one row per register byte."""
    basis = (np.arange(256, dtype=np.uint32)[None, :] << (8 * np.arange(4, dtype=np.uint32)[:, None])).ravel()
    return _advance(basis, np.zeros((basis.size, length), np.uint8)).reshape(4, 256)


def crc32c(data: bytes | memoryview | np.ndarray) -> int:
    """The CRC-32C of `data` (e.g. crc32c(b"123456789") == 0xE3069283)."""
    raw = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else data.view(np.uint8).ravel()
    length = max(1, raw.size // N_CHUNKS)
    n = raw.size // length
    chunks = _advance(np.zeros(n, np.uint32), raw[: n * length].reshape(n, length))
    shift = _zeros_operator(length)
    register = 0xFFFFFFFF
    for chunk in chunks.tolist():
        moved = shift[0, register & 0xFF] ^ shift[1, (register >> 8) & 0xFF]
        register = int(moved ^ shift[2, (register >> 16) & 0xFF] ^ shift[3, register >> 24]) ^ chunk
    register = int(_advance(np.array([register], np.uint32), raw[n * length :].reshape(1, -1))[0])
    return register ^ 0xFFFFFFFF


def unmask(masked: int) -> int:
    """The CRC behind TensorFlow's stored (masked) value: masking keeps a CRC stored next to its data from being
    confused with the CRC of data that embeds CRCs."""
    rotated = (masked - MASK_DELTA) & 0xFFFFFFFF
    return ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF
