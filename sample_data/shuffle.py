"""Seeded bijections: unique-by-construction identifiers without remembering the ones already issued.

A million people need a million distinct mobiles, resident IDs and plates. Drawing them at random collides
(the birthday problem: dozens of accidental shared mobiles at 1 M people, which the ground truth would not
know about), and remembering what was issued costs memory in proportion to the population. Instead the n-th
person gets ``Shuffle(n)``: a keyed Feistel permutation of ``range(size)``, so distinct people get distinct
numbers while consecutive people get unrelated-looking ones.
"""

from __future__ import annotations

import random

_ROUNDS = 4
_MIX = 0x9E3779B1  # odd 32-bit constant (golden ratio) for the round function's multiply


class Shuffle:
    """A bijection of ``range(size)`` onto itself, keyed from a seeded ``random.Random``.

    A balanced Feistel network permutes ``range(4**k)`` (the smallest power of four not below ``size``);
    values that land outside ``range(size)`` are fed through again ("cycle walking"), which keeps it a
    bijection on ``range(size)``. At most three walks are expected per call.
    """

    def __init__(self, size: int, rng: random.Random) -> None:
        if size < 1:
            raise ValueError("a shuffle needs at least one value")
        self.size = size
        half_bits = max(1, ((size - 1).bit_length() + 1) // 2)
        self._half_bits = half_bits
        self._mask = (1 << half_bits) - 1
        self._keys = tuple(rng.getrandbits(32) for _ in range(_ROUNDS))

    def __call__(self, value: int) -> int:
        if not 0 <= value < self.size:
            raise ValueError(f"{value} is outside range({self.size})")
        value = self._permute(value)
        while value >= self.size:
            value = self._permute(value)
        return value

    def _permute(self, value: int) -> int:
        bits, mask = self._half_bits, self._mask
        left, right = value >> bits, value & mask
        for key in self._keys:
            mixed = ((right ^ key) * _MIX) & 0xFFFFFFFF
            left, right = right, left ^ ((mixed ^ (mixed >> 15)) & mask)
        return (left << bits) | right


class IdSequence:
    """A source system's own customer or document numbers: unique, fixed width, not in generation order.

    Sources number their records independently; if they all followed the generator's person number, a
    matcher could join records on the digits alone. Shuffling each sequence separately removes that leak.
    """

    def __init__(self, prefix: str, width: int, rng: random.Random) -> None:
        self._prefix = prefix
        self._width = width
        self._shuffle = Shuffle(10**width, rng)
        self._next = 0

    def __call__(self) -> str:
        number = self._shuffle(self._next)
        self._next += 1
        return f"{self._prefix}{number:0{self._width}d}"
