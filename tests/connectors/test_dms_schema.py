"""The published DMS event schema matches the models, and the demo's events follow it."""

from __future__ import annotations

import json
from pathlib import Path

from connectors.dms_schema import DmsEventV1, json_schema
from sample_data import DEFECTS_THAT_QUARANTINE, generate

SCHEMA_FILE = Path(__file__).parents[2] / "connectors" / "schemas" / "dms-event.v1.schema.json"


def test_the_committed_schema_is_generated_from_the_models() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == json_schema()


def test_sample_events_follow_the_contract() -> None:
    checked = 0
    for record in generate(200, seed=4):
        if record.source == "dms" and not DEFECTS_THAT_QUARANTINE.intersection(record.defects):
            DmsEventV1.model_validate(record.payload)
            checked += 1
    assert checked > 100
