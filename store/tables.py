"""The hub's tables (SQLAlchemy 2 declarative). Every change here needs an Alembic migration.

Three layers, as in a medallion warehouse: ``source_record`` holds what arrived, unchanged and hashed;
``canonical_record`` holds what each source says in the canonical model (one row per source entity, newest
version); the golden layer (``golden_record``, ``xref``, ``attribute_lineage``, ``merge_history``) holds what the
hub concludes. ``quarantine`` holds every record that could not go on, with the reason, so nothing is lost
between raw and canonical; ``change_log`` is the ordered feed and the transactional outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, ForeignKey, Index, MetaData, String, Text, UniqueConstraint, func
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.types import BigId, JsonDocument, UtcDateTime

# Deterministic constraint names, so migrations can drop or alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JsonDocument,
        list[Any]: JsonDocument,
    }


class SyncRun(Base):
    """One run of one source's sync: what came in and where it went (the reconciliation lives here)."""

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_status", "status", "source"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # running | succeeded | failed | abandoned (its process stopped heartbeating: killed, or lost the store)
    status: Mapped[str] = mapped_column(String(16), default="running")
    heartbeat_at: Mapped[datetime | None]  # the last time a running run wrote its counts

    @hybrid_property
    def last_beat(self) -> datetime:
        """When the run was last heard from: its heartbeat, else its start (in Python and in SQL alike)."""
        return self.heartbeat_at or self.started_at

    @last_beat.inplace.expression
    @classmethod
    def _last_beat_expression(cls) -> ColumnElement[datetime]:
        return func.coalesce(cls.heartbeat_at, cls.started_at)

    records_in: Mapped[int] = mapped_column(default=0)
    records_unchanged: Mapped[int] = mapped_column(default=0)
    records_mapped: Mapped[int] = mapped_column(default=0)
    # Mapped, but with some of their entities quarantined (a customer kept, the bad VIN's car quarantined).
    records_partial: Mapped[int] = mapped_column(default=0, server_default="0")
    records_quarantined: Mapped[int] = mapped_column(default=0)
    error_message: Mapped[str | None] = mapped_column(Text)


class SourceRecordRow(Base):
    """A record exactly as the source sent it. Append-only: a change in the source is a new row.

    ``outcome`` is the one mutable column (mapped | partial | quarantined, NULL while in flight); it is what
    makes "raw = mapped + partly mapped + quarantined" checkable with one query. ``partial``: some of the
    record's entities are canonical records, the others wait in quarantine, each entry naming its entity.
    """

    __tablename__ = "source_record"
    __table_args__ = (
        UniqueConstraint("source", "stream", "source_id", "payload_hash", name="uq_source_record_version"),
        Index("ix_source_record_key", "source", "stream", "source_id"),
        Index("ix_source_record_outcome", "source", "outcome"),
        Index("ix_source_record_run", "sync_run_id"),  # what a run stored: an abandoned run's counts
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))
    stream: Mapped[str] = mapped_column(String(60))
    source_id: Mapped[str] = mapped_column(String(200))
    payload_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))


class CanonicalRecordRow(Base):
    """What one source currently says about one entity, in the canonical model (newest version wins).

    Clear identity numbers never reach this table: the body keeps a keyed hash and a masked form, and
    ``canonical_identifier`` indexes the hashes for deterministic matching and search.
    """

    __tablename__ = "canonical_record"
    __table_args__ = (
        UniqueConstraint("source", "entity_type", "entity_key", name="uq_canonical_record_entity"),
        Index("ix_canonical_record_type", "entity_type", "source"),
        Index("ix_canonical_record_changed", "entity_type", "updated_at"),  # incremental matching's watermark
        Index("ix_canonical_record_party", "source", "party_key"),  # everything a source says about one party
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[str] = mapped_column(String(300))
    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id"), index=True)
    body: Mapped[dict[str, Any]]
    warnings: Mapped[list[Any]]
    mapping_version: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime]
    # When the source says the stored version was true (its stream's ``as_of``); an older version never
    # replaces it. None: the source gave no time, and the version loaded next replaces it.
    as_of: Mapped[datetime | None]
    # The source's key of the party this entity is about: its own key for a party, ``party_source_id`` for a
    # relationship, consent, credit profile, policy or service event — so a customer view gathers them by index.
    party_key: Mapped[str | None] = mapped_column(String(300))


class CanonicalIdentifierRow(Base):
    """Keyed hashes of the identity numbers in canonical records (PIPL Art. 51: de-identified for matching)."""

    __tablename__ = "canonical_identifier"
    __table_args__ = (Index("ix_canonical_identifier_hash", "id_type", "value_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    canonical_record_id: Mapped[int] = mapped_column(
        ForeignKey("canonical_record.id", ondelete="CASCADE"), index=True
    )
    id_type: Mapped[str] = mapped_column(String(40))
    value_hash: Mapped[str] = mapped_column(String(64))
    masked: Mapped[str] = mapped_column(String(64))


class SearchKeyRow(Base):
    """Look-up keys of canonical records (mobile, e-mail, name, pinyin, organisation, plate, VIN): see
    ``store.search_keys``."""

    __tablename__ = "search_key"
    __table_args__ = (Index("ix_search_key_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    canonical_record_id: Mapped[int] = mapped_column(
        ForeignKey("canonical_record.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))


class QuarantineRow(Base):
    """A record that could not go on, with a machine-readable reason and a message a person can act on.

    ``entity_type`` is set when only one entity of the record was rejected (the record is ``partial``: its
    other entities were kept); NULL means the whole record waits here.
    """

    __tablename__ = "quarantine"
    __table_args__ = (
        Index("ix_quarantine_reason", "source", "reason"),
        Index("ix_quarantine_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))
    stream: Mapped[str] = mapped_column(String(60))
    source_id: Mapped[str | None] = mapped_column(String(200))
    source_record_id: Mapped[int | None] = mapped_column(ForeignKey("source_record.id"), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(40))  # one rejected entity; NULL: the whole record
    stage: Mapped[str] = mapped_column(String(16))  # receive | mapping | validation
    reason: Mapped[str] = mapped_column(String(80))
    field: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    raw_text: Mapped[str | None] = mapped_column(Text)  # only when the input was not even a JSON object
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(200))


class SyncStateRow(Base):
    """The watermark of one source stream, saved only after the records it covers are committed."""

    __tablename__ = "sync_state"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    stream: Mapped[str] = mapped_column(String(60), primary_key=True)
    watermark: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))


class GoldenRecordRow(Base):
    """The hub's one version of a person, organisation or vehicle.

    ``golden_id`` is ours and stable across matching runs; a merged record stays with ``status='merged'`` and
    ``merged_into`` so that old ids keep answering (with a redirect) instead of disappearing.
    """

    __tablename__ = "golden_record"
    __table_args__ = (Index("ix_golden_record_type_status", "entity_type", "status"),)

    golden_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))  # party | vehicle
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | merged | erased | restricted
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("golden_record.golden_id"))
    body: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# What golden records are made of; an xref row's entity type is one of these. A look-up by source and key names
# them, so that it is a probe of the xref primary key (source, entity_type, entity_key), not a scan of the source.
GOLDEN_ENTITY_TYPES = ("party", "vehicle")


class XrefRow(Base):
    """Cross-reference: which golden record a source entity belongs to, and how that was decided."""

    __tablename__ = "xref"
    # A VIN is one car in every source: the vehicle views look its golden record up without naming a source.
    __table_args__ = (Index("ix_xref_entity_key", "entity_type", "entity_key"),)

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    entity_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    golden_id: Mapped[str] = mapped_column(ForeignKey("golden_record.golden_id"), index=True)
    canonical_record_id: Mapped[int | None] = mapped_column(ForeignKey("canonical_record.id"))
    method: Mapped[str] = mapped_column(String(20))  # deterministic | probabilistic | manual | singleton
    match_weight: Mapped[float | None]
    linked_at: Mapped[datetime]


class AttributeLineageRow(Base):
    """Where each golden attribute came from and which survivorship rule chose it."""

    __tablename__ = "attribute_lineage"
    __table_args__ = (UniqueConstraint("golden_id", "attribute", name="uq_attribute_lineage_attribute"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    golden_id: Mapped[str] = mapped_column(ForeignKey("golden_record.golden_id", ondelete="CASCADE"))
    attribute: Mapped[str] = mapped_column(String(120))
    value: Mapped[dict[str, Any]]  # {"value": ...}: JSON columns cannot hold a bare scalar on every backend
    canonical_record_id: Mapped[int | None] = mapped_column(ForeignKey("canonical_record.id"))
    source: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[str] = mapped_column(String(300))
    rule: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime]


class MergeHistoryRow(Base):
    """Every change of membership: automatic merges and splits, steward merges and unmerges."""

    __tablename__ = "merge_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(20))  # merge | split | manual_merge | manual_unmerge
    entity_type: Mapped[str] = mapped_column(String(40))
    golden_ids_before: Mapped[list[Any]]
    golden_ids_after: Mapped[list[Any]]
    members_before: Mapped[dict[str, Any]]  # golden_id -> [source/entity_key, ...]
    members_after: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(120))  # "matching run 12" or a steward's key name
    reason: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(index=True)


class ChangeLogRow(Base):
    """The ordered change feed of golden records, which is also the transactional outbox.

    ``seq`` orders the feed (a consumer keeps the last seq as its cursor); a change is written in the same
    transaction as the golden record, and ``published_at`` is set only after the broker confirmed it.
    """

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_unpublished", "published_at", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    golden_id: Mapped[str] = mapped_column(String(40), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    change_type: Mapped[str] = mapped_column(String(20))  # created | updated | merged | unmerged | erased
    payload: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    publish_attempts: Mapped[int] = mapped_column(default=0)


class InboxMessageRow(Base):
    """Message ids already taken in (DMS message_id, webhook delivery id): exactly-once on at-least-once input.

    The id is claimed in the same transaction that stores the message's records, so a redelivery after a
    crash either finds the claim (and is acknowledged as a duplicate) or finds nothing stored at all.
    """

    __tablename__ = "inbox_message"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))
    # Poison only: when its dead-letter copy was confirmed (a redelivery is then acked without another copy).
    dead_lettered_at: Mapped[datetime | None]


class MatchRunRow(Base):
    """One matching run: what it read, what it decided, with which model."""

    __tablename__ = "match_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(16))  # full | incremental
    model_version: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | succeeded | failed
    counts: Mapped[dict[str, Any]]  # records, pairs, clusters, created, merged, split, review, refused …
    error_message: Mapped[str | None] = mapped_column(Text)


class MatchConstraintRow(Base):
    """A steward's decision the matcher must obey: these two records are (must_link) or are not (cannot_link)
    the same. An unmerge writes cannot-links, so no later automatic run undoes it."""

    __tablename__ = "match_constraint"
    __table_args__ = (Index("ix_match_constraint_active", "entity_type", "active"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))  # must_link | cannot_link
    record_id_l: Mapped[int] = mapped_column(ForeignKey("canonical_record.id", ondelete="CASCADE"))
    record_id_r: Mapped[int] = mapped_column(ForeignKey("canonical_record.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(default=True)


class MatchReviewRow(Base):
    """A pair in the grey band (likely but not certain): a data steward decides instead of the model."""

    __tablename__ = "match_review"
    __table_args__ = (
        UniqueConstraint("entity_type", "record_id_l", "record_id_r", name="uq_match_review_pair"),
        Index("ix_match_review_status", "status", "match_probability"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    record_id_l: Mapped[int] = mapped_column(ForeignKey("canonical_record.id", ondelete="CASCADE"))
    record_id_r: Mapped[int] = mapped_column(ForeignKey("canonical_record.id", ondelete="CASCADE"))
    match_probability: Mapped[float]
    match_weight: Mapped[float]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | merged | kept_apart | gone
    found_in_run: Mapped[int | None] = mapped_column(ForeignKey("match_run.id"))
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None]


class PartyMatchKeyRow(Base):
    """The matcher's view of one canonical party: its comparison columns, indexed by every blocking key.

    A full run writes all of them; the incremental matcher reads a new record's candidates here through the
    indexes (same resident-ID hash, mobile, e-mail, organisation, pinyin + city, pinyin + birth date) instead of
    reading every party. Mobiles and e-mails the data shows to be shared are stored empty, as the matcher saw them.
    """

    __tablename__ = "match_party_key"
    __table_args__ = (
        Index("ix_match_party_key_name_city", "name_py", "city"),
        Index("ix_match_party_key_name_birth", "name_py", "birth_date"),
        Index("ix_match_party_key_address", "surname_py", "address_key"),
        Index("ix_match_party_key_mobile_head", "surname_py", "mobile_head"),
        Index("ix_match_party_key_mobile_tail", "surname_py", "mobile_tail"),
    )

    record_id: Mapped[int] = mapped_column(
        ForeignKey("canonical_record.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    source: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    name_cn: Mapped[str | None] = mapped_column(String(200))
    name_py: Mapped[str | None] = mapped_column(String(200))
    surname_py: Mapped[str | None] = mapped_column(String(60))
    given_py: Mapped[str | None] = mapped_column(String(140))
    chinese_name: Mapped[bool] = mapped_column(default=False)
    title_form: Mapped[bool] = mapped_column(default=False)  # 王先生: a surname and a title, no given name
    org_name: Mapped[str | None] = mapped_column(String(300), index=True)
    org_place: Mapped[str | None] = mapped_column(String(40))  # the city an organisation's name carries
    org_branch: Mapped[str | None] = mapped_column(String(80))  # a branch (分公司) is another establishment
    birth_date: Mapped[str | None] = mapped_column(String(10))
    gender: Mapped[str | None] = mapped_column(String(8))
    region: Mapped[str | None] = mapped_column(String(12))
    city: Mapped[str | None] = mapped_column(String(8))
    mobile: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    id_hash: Mapped[str | None] = mapped_column(String(128), index=True)
    # The street address without its province/city/district (matching.features.address_key): same surname and
    # address is a blocking key (ix_match_party_key_address).
    address_key: Mapped[str | None] = mapped_column(String(200))
    # The phone's first and last digits (matching.features.with_mobile): with the surname, blocking keys that
    # bring a phone mistyped in one digit before the model.
    mobile_head: Mapped[str | None] = mapped_column(String(16))
    mobile_tail: Mapped[str | None] = mapped_column(String(8))
    vins: Mapped[list[Any]]
    # The VINs of ``vins`` that no record of the party wrote right, only a repair gave (matching.features).
    vins_repaired: Mapped[list[Any] | None]


class PartyMatchVinRow(Base):
    """Which cars a party is linked to, one row per (VIN, party): the shared-car blocking key."""

    __tablename__ = "match_party_vin"

    vin: Mapped[str] = mapped_column(String(17), primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("match_party_key.record_id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MatchQueueRow(Base):
    """A canonical record written since it was last matched: what the matching follower has still to do.

    Written by the store in the transaction that saves the record (``store.match_queue.enqueue``), so a record
    is never stored without being queued; deleted by the follower in the transaction that writes its golden
    record, so nothing is lost to a crash in between. One row per record: writing it again bumps ``version``,
    and a follower that read the older version leaves the row for the next pass.
    """

    __tablename__ = "match_queue"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("canonical_record.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # party | vehicle | vehicle_relationship | service_event
    entity_type: Mapped[str] = mapped_column(String(40))
    queued_at: Mapped[datetime] = mapped_column(index=True)  # first queued: the lag, and the order taken in
    version: Mapped[int] = mapped_column(default=1)
    attempts: Mapped[int] = mapped_column(default=0)  # failed matches of this version, not store outages
    last_error: Mapped[str | None] = mapped_column(String(200))  # the exception's class only: no PII
    # the follower that took it and until when (several followers on one store take disjoint batches)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[datetime | None] = mapped_column()


class SharedIdentifierRow(Base):
    """A mobile or e-mail carried by several different names: withdrawn as matching evidence, reported per dealer.

    Written by each full matching run (and added to by incremental matching when a number crosses the line);
    the data-quality report reads it. ``value`` is what the matcher looks up, ``masked`` what people see.
    """

    __tablename__ = "match_shared_identifier"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # mobile | email
    value: Mapped[str] = mapped_column(String(320), primary_key=True)
    masked: Mapped[str] = mapped_column(String(320))
    names: Mapped[int]
    records: Mapped[int]
    sources: Mapped[list[Any]]
    dealers: Mapped[list[Any]]
    found_at: Mapped[datetime]


class ApiKeyRow(Base):
    """A client's key to the hub API. Only a hash of the secret is kept: the token is shown once, at creation."""

    __tablename__ = "api_key"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the public half of the token
    name: Mapped[str] = mapped_column(String(120))  # who holds it, e.g. "crm-sync" or "steward:li"
    secret_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the secret half
    scopes: Mapped[list[Any]]  # read | read:pii | steward | admin
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class PiiAccessRow(Base):
    """Audit log of every unmasked read of personal data (PIPL): who read what about whom, and when."""

    __tablename__ = "pii_access"
    __table_args__ = (Index("ix_pii_access_golden", "golden_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(40), index=True)
    key_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(200))  # e.g. "GET /v1/customers/P-…"
    golden_id: Mapped[str | None] = mapped_column(String(40))
    fields: Mapped[list[Any]]  # which kinds of PII were shown: mobile, id_number, address …
    occurred_at: Mapped[datetime]
