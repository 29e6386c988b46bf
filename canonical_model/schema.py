"""The canonical model's JSON Schema as one document (``autohub schema``)."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from canonical_model.entities import PUBLISHED

SCHEMA_ID = "https://autohub.example/schemas/canonical/v1"
SCHEMA_VERSION = "1.0.0"


def canonical_json_schema(entity: str | None = None) -> dict[str, Any]:
    """All published entities under ``$defs`` (or one entity's own schema), with a version downstream can pin."""
    if entity is not None:
        by_name = {model.__name__.lower(): model for model in PUBLISHED}
        model = by_name.get(entity.lower())
        if model is None:
            raise KeyError(f"unknown entity {entity!r}; known: {', '.join(m.__name__ for m in PUBLISHED)}")
        return model.model_json_schema()
    _, document = models_json_schema([(m, "validation") for m in PUBLISHED], title="AutoHub canonical model")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "version": SCHEMA_VERSION,
        **document,
    }
