"""A data steward's merge and unmerge: applied at once, recorded with who/when/why, and kept by every later run.

Each decision becomes constraints for the matcher (must-link for a merge, cannot-links for an unmerge), so the
next automatic run reaches the same grouping instead of undoing it; the golden records, cross-references,
lineage, merge history and change feed are updated in the same transaction as the constraints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.errors import HubError
from matching.golden_ids import mint_golden_ids
from matching.survivorship import golden_party
from store import golden as store_golden
from store.golden import GoldenWrite, Lineage, Member, RunDecisions
from store.matching_input import iter_parties
from store.tables import XrefRow


class StewardRefused(HubError):
    """The decision cannot apply as asked (unknown or inactive golden id, records not in that golden record)."""


@dataclass(frozen=True)
class StewardResult:
    golden_ids: tuple[str, ...]  # the golden records as they stand after the decision
    members: dict[str, list[str]]  # golden id → "source/key" of its members


def _members(session: Session, golden_id: str) -> dict[int, XrefRow]:
    members = store_golden.active_members(session, golden_id)
    if members is None:
        raise StewardRefused(
            f"no active golden customer {golden_id!r}", fix="take the id from the API or `autohub match run`"
        )
    return members


def _rebuild(
    session: Session, golden_id: str, record_ids: Sequence[int], methods: dict[int, str]
) -> GoldenWrite:
    records = list(iter_parties(session, ids=list(record_ids)))
    body, chosen = golden_party(records)
    members = [
        Member(r.record_id, r.source, r.entity_key, methods.get(r.record_id, "manual")) for r in records
    ]
    lineage = [Lineage(c.attribute, c.value, c.record.record_id, c.record.source, c.record.entity_key, c.rule)
               for c in chosen]  # fmt: skip
    return GoldenWrite(golden_id, body, members, lineage)


def _label(x: XrefRow) -> str:
    return f"{x.source}/{x.entity_key}"


def merge(session: Session, keep: str, absorb: str, *, actor: str, reason: str) -> StewardResult:
    """``absorb`` joins ``keep`` (whose id survives); later runs keep them together (a must-link)."""
    if keep == absorb:
        raise StewardRefused("a golden record cannot be merged with itself")
    kept, absorbed = _members(session, keep), _members(session, absorb)
    store_golden.add_constraint(
        session, "party", "must_link", min(kept), min(absorbed), actor=actor, reason=reason
    )
    store_golden.release_constraints(session, "cannot_link", set(kept) | set(absorbed))
    methods = {r: x.method for r, x in kept.items()} | dict.fromkeys(absorbed, "manual")
    write = _rebuild(session, keep, [*kept, *absorbed], methods)
    before = {keep: sorted(kept), absorb: sorted(absorbed)}
    decisions = RunDecisions("party", [write], {absorb: keep}, [], [], None, actor)
    run_id = store_golden.start_match_run(session, "party", "manual_merge", "steward")
    store_golden.apply_decisions(session, decisions, run_id)
    store_golden.finish_match_run(session, run_id, {"merged": 1})
    store_golden.record_steward_decision(session, "manual_merge", before, {keep: sorted([*kept, *absorbed])},
                                         actor=actor, reason=reason)  # fmt: skip
    return StewardResult((keep,), {keep: sorted(_label(x) for x in [*kept.values(), *absorbed.values()])})


def unmerge(
    session: Session, golden_id: str, records: Sequence[str], *, actor: str, reason: str
) -> StewardResult:
    """Split the member records ``source/key`` off ``golden_id`` into a new golden record; later runs keep them apart."""
    members = _members(session, golden_id)
    by_label = {_label(x): r for r, x in members.items()}
    unknown = [label for label in records if label not in by_label]
    if unknown or not records:
        raise StewardRefused(f"not members of {golden_id}: {', '.join(unknown) or '(none given)'}",
                             fix=f"members are {', '.join(sorted(by_label))}")  # fmt: skip
    leaving = {by_label[label] for label in records}
    staying = set(members) - leaving
    if not staying:
        raise StewardRefused("an unmerge must leave at least one record in the golden record")
    for left in leaving:
        for stays in staying:
            store_golden.add_constraint(
                session, "party", "cannot_link", left, stays, actor=actor, reason=reason
            )
    # an earlier steward merge of these records no longer holds
    store_golden.release_constraints(session, "must_link", set(members))
    split_id = mint_golden_ids("party", {0: [(members[r].source, members[r].entity_key) for r in leaving]},
                               lambda ids: store_golden.ids_in_use(session, ids))[0]  # fmt: skip
    methods = {r: x.method for r, x in members.items()}
    writes = [_rebuild(session, golden_id, sorted(staying), methods),
              _rebuild(session, split_id, sorted(leaving), dict.fromkeys(leaving, "manual"))]  # fmt: skip
    run_id = store_golden.start_match_run(session, "party", "manual_unmerge", "steward")
    store_golden.apply_decisions(session, RunDecisions("party", writes, {}, [], [], None, actor), run_id)
    store_golden.finish_match_run(session, run_id, {"unmerged": 1})
    after = {golden_id: sorted(staying), split_id: sorted(leaving)}
    store_golden.record_steward_decision(session, "manual_unmerge", {golden_id: sorted(members)}, after,
                                         actor=actor, reason=reason)  # fmt: skip
    store_golden.record_change(session, golden_id, "party", "unmerged", {"split_into": split_id})
    return StewardResult(
        (golden_id, split_id), {g: sorted(_label(members[r]) for r in rs) for g, rs in after.items()}
    )
