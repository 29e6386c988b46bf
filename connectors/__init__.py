"""Connectors: one module per source system. Each only reads pages of source records and their state.

The shared contract (``base.Connector``) and the runner that loads pages and saves state after the commit
live here; connectors never touch the store directly and never import the API.
"""
