"""The centre of AutoHub: canonical customer/vehicle entities and the identifier rules they rely on.

This package imports nothing of AutoHub's but the ground floor (``core``: masking), so every other room can
depend on it.
"""
