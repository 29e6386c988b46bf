"""The centre of AutoHub: canonical customer/vehicle entities and the identifier rules they rely on.

This package imports nothing else of AutoHub's, so every other room can depend on it.
"""
