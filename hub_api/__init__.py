"""The hub's HTTP API (FastAPI): what downstream systems and the customer portal call."""

from hub_api.app import create_app

__all__ = ["create_app"]
