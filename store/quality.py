"""The data-quality scorecard: per source and per DMS dealer, how complete, valid and duplicated the data is.

Everything is counted by GROUP BY in the database, never by reading records into Python: the scorecard must
answer on a store of millions of records, on SQLite and PostgreSQL alike. The few JSON look-ups that the two
backends spell differently (a contact point of some kind in a party's list, a dealer code before the '-' of a
DMS customer key) are in ``_Sql`` below.

Two views of party completeness, on purpose: ``party_fields`` is what the source sent (canonical parties with a
name, a usable mobile, an ID number, an address, a birth date); ``completeness`` is what the last full matching
run could use (``match_party_key``: a phone many people share counts as missing there). A dealer is the DMS
customer key's prefix (``D31002-000163`` → ``D31002``) or, for raw events, the event's ``dealer_code``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, String, case, exists, func, or_, select
from sqlalchemy.orm import Session

from store.dialect import json_text
from store.tables import (
    CanonicalIdentifierRow,
    CanonicalRecordRow,
    PartyMatchKeyRow,
    QuarantineRow,
    SharedIdentifierRow,
    SourceRecordRow,
    XrefRow,
)

DMS = "dms"
# Quarantine reason families that mean "this identifier, as received, was not valid" (reason = family.rule).
VALIDITY_FAMILIES = {"vin": "invalid_vin", "resident_id": "invalid_resident_id", "mobile": "invalid_mobile"}


def _shares(counts: dict[str, int], total: int) -> dict[str, float]:
    return {name: round(n / total, 4) for name, n in counts.items()} if total else {}


@dataclass
class Completeness:
    """Parties as the matcher saw them: how many had each comparison field (shared phones/e-mails empty)."""

    parties: int = 0
    name: int = 0
    mobile: int = 0
    id_number: int = 0
    birth_date: int = 0
    email: int = 0

    def shares(self) -> dict[str, float]:
        return _shares({k: v for k, v in vars(self).items() if k != "parties"}, self.parties)


@dataclass
class PartyFields:
    """Canonical parties as the source sent them: how many carry each field a recall notice or a match needs."""

    parties: int = 0
    name: int = 0
    mobile: int = 0  # a real one: placeholder numbers (138 0013 8000) do not count
    id_number: int = 0
    address: int = 0
    birth_date: int = 0

    def shares(self) -> dict[str, float]:
        return _shares({k: v for k, v in vars(self).items() if k != "parties"}, self.parties)


@dataclass(kw_only=True)
class Score:
    """What one source or one dealer sent and what became of it."""

    received: int = 0  # raw records, every version
    mapped: dict[str, int] = field(default_factory=dict)  # canonical records per entity type
    partially_mapped: int = 0  # raw records kept in part: some entities canonical, the others quarantined
    quarantined: int = 0  # unresolved entries: whole records and single entities of partly mapped ones
    quarantine_by_family: dict[str, int] = field(default_factory=dict)
    party_fields: PartyFields = field(default_factory=PartyFields)
    duplicate_records: int = 0  # records beyond the first of this source (dealer) in one golden customer
    shared_identifiers: int = 0  # mobiles/e-mails the matcher withdrew as carried by several people
    shared_masked: list[str] = field(default_factory=list)

    def add_quarantine(self, reason: str, count: int) -> None:
        family = reason.split(".", 1)[0]
        self.quarantined += count
        self.quarantine_by_family[family] = self.quarantine_by_family.get(family, 0) + count

    def validity(self) -> dict[str, float]:
        """Share of received records not quarantined for an invalid VIN / resident ID / mobile."""
        if not self.received:
            return {}
        return {
            k: round(1 - self.quarantine_by_family.get(f, 0) / self.received, 4)
            for k, f in VALIDITY_FAMILIES.items()
        }


@dataclass(kw_only=True)
class SourceScore(Score):
    source: str
    completeness: Completeness = field(default_factory=Completeness)
    warned: int = 0  # canonical records that carry a mapping warning (a doubtful field dropped or kept)


@dataclass(kw_only=True)
class DealerScore(Score):
    dealer: str
    parties: int = 0  # this dealer's DMS customers placed in golden customers


@dataclass
class Scorecard:
    sources: list[SourceScore]
    dealers: list[DealerScore]


@dataclass(frozen=True)
class _Sql:
    """The JSON and string look-ups SQLite and PostgreSQL spell differently (both are GROUP BY-able)."""

    dialect: str

    @property
    def postgres(self) -> bool:
        return self.dialect == "postgresql"

    def text(self, document: Any, *path: str) -> ColumnElement[str]:
        """A JSON document's string at ``path`` (NULL when absent)."""
        return json_text(self.dialect, document, *path)

    def array_length(self, document: Any) -> ColumnElement[int]:
        return func.jsonb_array_length(document) if self.postgres else func.json_array_length(document)

    def dealer_of_key(self, key: Any) -> ColumnElement[str]:
        """``D31002-000163`` → ``D31002`` (a key without '-' is its own dealer)."""
        if self.postgres:
            return func.split_part(key, "-", 1, type_=String)
        dash = func.instr(key, "-")
        return case((dash > 0, func.substr(key, 1, dash - 1)), else_=key)

    def has_contact(self, kind: str, *, real: bool = False) -> ColumnElement[bool]:
        """The canonical record's party has a contact point of ``kind`` (``real``: not a placeholder number)."""
        body = CanonicalRecordRow.body
        if self.postgres:
            points_json = func.jsonb_extract_path(body, "contact_points")
            array = case((func.jsonb_typeof(points_json) == "array", points_json))  # 'null' is no array
            points = func.jsonb_array_elements(array).table_valued("value")
            kind_of = func.jsonb_extract_path_text(points.c.value, "kind")
            placeholder = func.coalesce(
                func.jsonb_extract_path_text(points.c.value, "is_placeholder"), "false"
            )
            genuine = placeholder == "false"
        else:
            points = func.json_each(body, "$.contact_points").table_valued("value")
            kind_of = func.json_extract(points.c.value, "$.kind")
            genuine = func.coalesce(func.json_extract(points.c.value, "$.is_placeholder"), 0) == 0
        conditions = [kind_of == kind, genuine] if real else [kind_of == kind]
        return exists(select(1).select_from(points).where(*conditions))


def _nonempty(value: ColumnElement[str]) -> ColumnElement[bool]:
    return func.coalesce(value, "") != ""


def _flag(condition: ColumnElement[bool], name: str) -> Any:
    return case((condition, 1), else_=0).label(name)


PARTY_FIELDS = ("name", "mobile", "id_number", "address", "birth_date")


def _party_fields(session: Session, sql: _Sql, group: Any, *where: Any) -> Iterable[tuple[str, PartyFields]]:
    """PartyFields per value of ``group`` over canonical parties: 0/1 flags per party, summed per group."""
    r = CanonicalRecordRow
    flags = [
        _flag(or_(_nonempty(sql.text(r.body, "name", "raw")), _nonempty(sql.text(r.body, "organisation_name"))),
              "name"),
        _flag(sql.has_contact("mobile", real=True), "mobile"),
        _flag(exists().where(CanonicalIdentifierRow.canonical_record_id == r.id), "id_number"),
        _flag(sql.has_contact("address"), "address"),
        _flag(_nonempty(sql.text(r.body, "birth_date")), "birth_date"),
    ]  # fmt: skip
    per_party = select(group.label("grp"), *flags).where(r.entity_type == "party", *where).subquery()
    sums = [func.sum(per_party.c[name]) for name in PARTY_FIELDS]
    stmt = select(per_party.c.grp, func.count(), *sums).group_by(per_party.c.grp)
    for grp, parties, *counts in session.execute(stmt):
        yield grp, PartyFields(parties, *(int(n or 0) for n in counts))


def _grouped(session: Session, stmt: Select[Any]) -> Iterable[Any]:
    """Rows of ``stmt`` (a subquery's columns ``grp`` and an optional ``sub``) counted per (grp, sub)."""
    inner = stmt.subquery()
    keys = [inner.c.grp, *([inner.c.sub] if "sub" in inner.c else [])]
    outer = select(*keys, func.count()).where(inner.c.grp.is_not(None)).group_by(*keys)
    return session.execute(outer)


class _Card:
    """The scorecard being counted: one aggregate query per measure, for sources and then for dealers."""

    def __init__(self, session: Session, dealer_sources: Collection[str]) -> None:
        self.session = session
        self.dealer_sources = sorted(dealer_sources)
        self.sql = _Sql(session.get_bind().dialect.name)
        self.sources: dict[str, SourceScore] = {}
        self.dealers: dict[str, DealerScore] = {}

    def source(self, name: str) -> SourceScore:
        return self.sources.setdefault(name, SourceScore(source=name))

    def dealer(self, code: str) -> DealerScore:
        return self.dealers.setdefault(code, DealerScore(dealer=code))

    def received(self) -> None:
        s = SourceRecordRow
        partial = func.sum(case((s.outcome == "partial", 1), else_=0))
        for source, n, kept_in_part in self.session.execute(
            select(s.source, func.count(), partial).group_by(s.source)
        ):
            at = self.source(source)
            at.received, at.partially_mapped = n, int(kept_in_part or 0)
        event_dealer = func.upper(self.sql.text(s.payload, "dealer_code"))
        events = select(event_dealer.label("grp"), s.outcome.label("sub")).where(
            s.source.in_(self.dealer_sources)
        )
        for code, outcome, n in _grouped(self.session, events):
            at_dealer = self.dealer(code)
            at_dealer.received += n
            if outcome == "partial":
                at_dealer.partially_mapped += n

    def quarantine(self) -> None:
        q, s = QuarantineRow, SourceRecordRow
        unresolved = q.resolved_at.is_(None)
        by_source = select(q.source, q.reason, func.count()).where(unresolved).group_by(q.source, q.reason)
        for source, reason, n in self.session.execute(by_source):
            self.source(source).add_quarantine(reason, n)
        event_dealer = func.upper(self.sql.text(s.payload, "dealer_code"))
        by_dealer = (select(event_dealer.label("grp"), q.reason.label("sub"))
                     .join(s, s.id == q.source_record_id).where(q.source.in_(self.dealer_sources), unresolved))  # fmt: skip
        for code, reason, n in _grouped(self.session, by_dealer):
            self.dealer(code).add_quarantine(reason, n)

    def mapped(self) -> None:
        r = CanonicalRecordRow
        stmt = select(r.source, r.entity_type, func.count()).group_by(r.source, r.entity_type)
        for source, entity_type, n in self.session.execute(stmt):
            self.source(source).mapped[entity_type] = n
        # A DMS customer is its dealer's by key; a service event names its dealer.
        dealer = case((r.entity_type == "party", self.sql.dealer_of_key(r.entity_key)),
                      else_=func.upper(self.sql.text(r.body, "dealer_code")))  # fmt: skip
        of_dealers = select(dealer.label("grp"), r.entity_type.label("sub")).where(
            r.source.in_(self.dealer_sources), r.entity_type.in_(("party", "service_event"))
        )
        for code, entity_type, n in _grouped(self.session, of_dealers):
            self.dealer(code).mapped[entity_type] = n

    def party_fields(self) -> None:
        r = CanonicalRecordRow
        for source, fields in _party_fields(self.session, self.sql, r.source):
            self.source(source).party_fields = fields
        for code, fields in _party_fields(self.session, self.sql, self.sql.dealer_of_key(r.entity_key),
                                          r.source.in_(self.dealer_sources)):  # fmt: skip
            self.dealer(code).party_fields = fields

    def matcher_view(self) -> None:
        k = PartyMatchKeyRow
        filled = select(k.source, func.count(), func.count(func.coalesce(k.name_cn, k.name_py, k.org_name)),
                        func.count(k.mobile), func.count(k.id_hash), func.count(k.birth_date),
                        func.count(k.email)).group_by(k.source)  # fmt: skip
        for source, *counts in self.session.execute(filled):
            self.source(source).completeness = Completeness(*counts)
        r = CanonicalRecordRow
        warned = (
            select(r.source, func.count()).where(self.sql.array_length(r.warnings) > 0).group_by(r.source)
        )
        for source, n in self.session.execute(warned):
            self.source(source).warned = n

    def duplicates(self) -> None:
        """Records beyond the first that one source (one dealer) has in the same golden customer."""
        x = XrefRow
        parties = x.entity_type == "party"
        per_golden = (select(x.source.label("grp"), func.count().label("n")).where(parties)
                      .group_by(x.source, x.golden_id).subquery())  # fmt: skip
        stmt = select(per_golden.c.grp, func.sum(per_golden.c.n - 1)).group_by(per_golden.c.grp)
        for source, extra in self.session.execute(stmt):
            self.source(source).duplicate_records = int(extra or 0)
        of_dealer = (select(self.sql.dealer_of_key(x.entity_key).label("grp"), x.golden_id)
                     .where(parties, x.source.in_(self.dealer_sources)).subquery())  # fmt: skip
        per_dealer_golden = (select(of_dealer.c.grp, func.count().label("n"))
                             .group_by(of_dealer.c.grp, of_dealer.c.golden_id).subquery())  # fmt: skip
        g = per_dealer_golden.c
        for code, members, extra in self.session.execute(
            select(g.grp, func.sum(g.n), func.sum(g.n - 1)).group_by(g.grp)
        ):
            at = self.dealer(code)
            at.parties, at.duplicate_records = int(members or 0), int(extra or 0)

    def shared(self) -> None:
        """The matcher's suspicious numbers: few rows (one per shared mobile/e-mail), read whole."""
        for row in self.session.scalars(select(SharedIdentifierRow).order_by(SharedIdentifierRow.masked)):
            at: list[Score] = [self.source(s) for s in row.sources] + [self.dealer(d) for d in row.dealers]
            for score in at:
                score.shared_identifiers += 1
                score.shared_masked.append(row.masked)


def scorecard(session: Session, dealer_sources: Collection[str] = (DMS,)) -> Scorecard:
    """Per source and per dealer: received, mapped, quarantined, completeness, validity, duplicates.

    ``dealer_sources``: the dealer networks' sources (every declared ``amqp`` source), whose records are also
    counted per dealer — by the event's dealer code, a customer by its key's dealer prefix."""
    card = _Card(session, dealer_sources)
    for measure in (card.received, card.quarantine, card.mapped, card.party_fields, card.matcher_view,
                    card.duplicates, card.shared):  # fmt: skip
        measure()
    return Scorecard(
        sorted(card.sources.values(), key=lambda s: s.source),
        sorted(card.dealers.values(), key=lambda d: d.dealer),
    )


class SourceQuality(BaseModel):
    source: str = Field(examples=["dms"])
    received: int = Field(description="raw records received (every version)")
    partially_mapped: int = Field(
        default=0,
        description="received records kept in part: their good entities (say the customer) are canonical, "
        "the bad ones (say a car with an invalid VIN) wait in quarantine",
    )
    quarantined: int = Field(
        description="unresolved quarantine entries: whole records, and single entities of partly mapped ones"
    )
    quarantine_by_family: dict[str, int] = Field(examples=[{"invalid_vin": 18, "missing_required": 4}])
    completeness: dict[str, float] = Field(examples=[{"name": 1.0, "mobile": 0.93, "id_number": 0.41}],
                                           description="share of parties with each field usable for matching")  # fmt: skip
    validity: dict[str, float] = Field(examples=[{"vin": 0.995, "resident_id": 0.998, "mobile": 0.997}],
                                       description="share of received records not quarantined as invalid")  # fmt: skip
    duplicate_records: int = Field(
        description="records beyond the first of this source within one golden customer"
    )
    shared_identifiers: int = Field(description="mobiles/e-mails carried by several different people")


class DealerQuality(BaseModel):
    dealer: str = Field(examples=["D31002"])
    parties: int
    partially_mapped: int = Field(default=0, description="this dealer's events kept in part")
    duplicate_records: int
    shared_identifiers: int
    shared_masked: list[str] = Field(examples=[["131****2693"]], description="the suspicious numbers, masked")


class QualityScorecard(BaseModel):
    sources: list[SourceQuality]
    dealers: list[DealerQuality]

    @classmethod
    def of(cls, card: Scorecard) -> QualityScorecard:
        """The scorecard as the API serves it and the quality job files it (one shape for both)."""
        sources = [SourceQuality(source=s.source, received=s.received, partially_mapped=s.partially_mapped,
                                 quarantined=s.quarantined,
                                 quarantine_by_family=s.quarantine_by_family, completeness=s.completeness.shares(),
                                 validity=s.validity(), duplicate_records=s.duplicate_records,
                                 shared_identifiers=s.shared_identifiers) for s in card.sources]  # fmt: skip
        dealers = [DealerQuality.model_validate(d, from_attributes=True) for d in card.dealers]
        return cls(sources=sources, dealers=dealers)
