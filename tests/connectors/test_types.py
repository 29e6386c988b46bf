"""Connector types by entry point: every registered pull type runs the conformance checks as a declared source."""

from __future__ import annotations

import importlib
import inspect

from connectors.types import connector_types
from tests.connectors.conformance import CONFORMANCE_TESTS


def test_every_registered_pull_type_has_a_conformance_test_that_builds_it_by_its_type() -> None:
    pulled = {name for name, kind in connector_types().items() if kind.mode == "pull"}
    assert pulled == set(CONFORMANCE_TESTS), (
        "a pull type needs a conformance test (tests/connectors/conformance.py)"
    )
    for name, (module, test) in CONFORMANCE_TESTS.items():
        function = getattr(importlib.import_module(module), test)
        assert f'by_type("{name}"' in inspect.getsource(function), f"{test} must build {name} by its type"


def test_a_pushed_type_builds_no_connector_and_every_type_has_a_config_model() -> None:
    for kind in connector_types().values():
        assert (kind.build is None) == (kind.mode == "push"), kind.name
        assert kind.config_model.model_json_schema()["type"] == "object"
