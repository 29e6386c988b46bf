"""Every new form used wrongly fails when the file is loaded, naming the file and the place in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from tests.mappings.crm import load, mapping, party

PERSON = "kind: person\nname: {from: name, transform: person_name}\n"
IN_FIELD = "crm.streams.customers.emit[0].fields.region_code"


@pytest.mark.parametrize(
    ("field", "words", "place"),
    [
        ("{from: r, when: {path: r, contain: x}}", "unknown keys ['contain'] in a condition", IN_FIELD),
        ("{from: r, when: {path: r, equals: a, in: [b]}}", "a condition tests one thing", IN_FIELD),
        ("{from: r, when: {all: []}}", "all: needs a list of conditions", IN_FIELD),
        ("{from: r, when: {any: [r, {path: r, blank: maybe}]}}", "blank: takes true or false", IN_FIELD),
        ("{from: r, when: {path: r, matches: '(\\d{6}'}}", "is not a regular expression", IN_FIELD),
        ("{from: r, when: {path: r, in: []}}", "in: takes a non-empty list", IN_FIELD),
        ("{concat: []}", "concat: needs a list of parts", IN_FIELD),
        ("{concat: [a, 17]}", "a concat part is a path or a field spec", f"{IN_FIELD}.concat[1]"),
        ("{concat: [a, {from: b, transfrom: strip}]}", "unknown keys ['transfrom']", f"{IN_FIELD}.concat[1]"),
        ("{from: a, concat: [b]}", "not both", IN_FIELD),
        ("{from: a, sep: '-'}", "sep: goes with concat", IN_FIELD),
        ("{from: [], transform: strip}", "from must be a path", IN_FIELD),
        ("{from: r, transform: {regex: {pattern: '(\\d{6}'}}}", "is not a regular expression", IN_FIELD),
        ("{from: r, transform: {regex: {pattern: '(\\d{6})', group: 2}}}", "has no group 2", IN_FIELD),
        ("{from: r, transform: {split: {sep: /, index: first}}}", "index must be a whole number", IN_FIELD),
        ("{from: r, transform: [strip, resident_id_birthday]}", "unknown transform 'resident_id_birthday'",
         IN_FIELD),
        ("{from: r, transform: {resident_id_region: 6}}", "resident_id_region takes no argument", IN_FIELD),
        ("{from: r, transform: [upper, {codes: sexes}]}", "unknown code table 'sexes'", IN_FIELD),
    ],
)  # fmt: skip
def test_a_wrong_form_in_a_field_fails_at_load(tmp_path: Path, field: str, words: str, place: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, mapping(party(f"{PERSON}region_code: {field}")))
    message = str(caught.value)
    assert words in message
    assert f"crm.yaml: {place}]" in message


@pytest.mark.parametrize(
    ("emit_when", "key", "words", "where"),
    [
        ("{path: status, in: active}", "[$source_id]", "in: takes a non-empty list", "emit[0]] "),
        ("{not: }", "[$source_id]", "not: needs a condition", "emit[0]] "),
        ("", '[$source_id, "="]', "key part '=' names nothing", "emit[0]] "),
    ],
)
def test_a_wrong_emit_fails_at_load(tmp_path: Path, emit_when: str, key: str, words: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, mapping(party(PERSON, when=emit_when, key=key)))
    assert words in str(caught.value)
    assert f"crm.yaml: crm.streams.customers.{where}" in str(caught.value)


@pytest.mark.parametrize(
    ("as_of", "words"),
    [
        ("updated_at", "as_of must be a field spec"),  # a bare path is not a field spec
        ("{fields: {a: {from: b}}}", "as_of must be a field spec"),
        ("{from: updated_at, transform: datetim}", "unknown transform 'datetim'"),
    ],
)
def test_a_wrong_as_of_fails_at_load(tmp_path: Path, as_of: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, mapping(party(PERSON), stream_extra=f"as_of: {as_of}"))
    assert words in str(caught.value)
    assert "crm.yaml: crm.streams.customers.as_of" in str(caught.value)
