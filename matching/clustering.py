"""Pairs → clusters, strongest evidence first, never across a steward's "not the same" decision.

Connected components over accepted edges (as Splink's own clustering does), built with a union-find that
takes edges in descending strength: steward merges, then deterministic links (same resident ID/USCC),
then model pairs by match probability. An edge that would join two components a cannot-link separates is
refused and reported — that is how a steward's unmerge survives every later automatic run, even when the
model keeps scoring the pair high or a third record bridges the two.

A golden record never holds two different verified resident IDs (or USCCs): one person has one, so an
automatic edge that would put two in one cluster is refused however strong the rest of the evidence (two
王磊 born the same day in the same district are two people). Only a steward's merge may override it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from canonical_model.names import han_names_disagree

METHOD_RANK = {"manual": 3, "deterministic": 2, "probabilistic": 1}


@dataclass(frozen=True)
class Edge:
    left: int
    right: int
    probability: float  # 1.0 for manual and deterministic links
    method: str  # manual | deterministic | probabilistic
    weight: float | None = None  # the model's match weight, for lineage and explanation

    @property
    def strength(self) -> tuple[int, float]:
        return METHOD_RANK[self.method], self.probability


@dataclass
class Clustering:
    cluster_of: dict[int, int]  # record → cluster (the id of one of its records)
    members: dict[int, set[int]]  # cluster → records
    method_of: dict[int, Edge | None]  # record → the strongest accepted edge that touches it (None: alone)
    refused: list[Edge] = field(default_factory=list)  # edges a cannot-link kept out
    conflicting: list[Edge] = field(default_factory=list)  # edges refused: two different resident IDs/USCCs
    # model edges refused: they would put two people's names in one cluster (see ``cluster``)
    disagreeing: list[Edge] = field(default_factory=list)


class _Components:
    def __init__(
        self, records: Iterable[int], cannot_link: Iterable[tuple[int, int]], identity: Mapping[int, str],
        names: Mapping[int, str],
    ) -> None:  # fmt: skip
        self.parent: dict[int, int] = {}
        self.members: dict[int, set[int]] = {}
        self.forbidden: dict[int, set[int]] = {}
        self.identities: dict[int, set[str]] = {}
        self.names: dict[int, set[str]] = {}
        for record in records:
            self.parent[record] = record
            self.members[record] = {record}
            self.forbidden[record] = set()
            self.identities[record] = {identity[record]} if identity.get(record) else set()
            self.names[record] = {names[record]} if names.get(record) else set()
        for a, b in cannot_link:
            if a in self.parent and b in self.parent:
                self.forbidden[a].add(b)
                self.forbidden[b].add(a)

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    @staticmethod
    def _two_people(left: set[str], right: set[str]) -> bool:
        """Would joining put two people's names together that neither side already holds together? (Names a
        steward's merge or a shared ID already joined — a nickname at the dealer — are one person's.)"""
        return any(han_names_disagree(x, y) and y not in left and x not in right for x in left for y in right)

    def union(self, a: int, b: int, *, manual: bool = False, scored: bool = False) -> bool | str | None:
        """True if joined, None if already together, False if a cannot-link forbids it, "identity" if the two
        hold different resident IDs (a steward's manual link may still join them), "names" if a model score
        (``scored``) would put two people's names in one cluster."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        if self.forbidden[ra] & self.members[rb]:
            return False
        if not manual and len(self.identities[ra] | self.identities[rb]) > 1:
            return "identity"
        if scored and self._two_people(self.names[ra], self.names[rb]):
            return "names"
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] |= self.members.pop(rb)
        self.forbidden[ra] |= self.forbidden.pop(rb)
        self.identities[ra] |= self.identities.pop(rb)
        self.names[ra] |= self.names.pop(rb)
        return True


def cluster(
    records: Iterable[int],
    edges: Iterable[Edge],
    cannot_link: Iterable[tuple[int, int]] = (),
    identity: Mapping[int, str] | None = None,
    names: Mapping[int, str] | None = None,
) -> Clustering:
    """``identity``: record → its verified resident-ID/USCC hash, where it has one; ``names``: record → a
    person's full name in Han characters (``full_names``).

    A model edge never joins two clusters that hold two people's names (``han_names_disagree``), even where no
    single pair of those names was scored together: a record without a name, or a title form, on a family's
    phone would otherwise chain the husband and the wife into one golden customer.
    """
    components = _Components(records, cannot_link, identity or {}, names or {})
    method_of: dict[int, Edge | None] = dict.fromkeys(components.parent)
    refused: list[Edge] = []
    disagreeing: list[Edge] = []
    conflicting: list[Edge] = []
    for edge in sorted(edges, key=lambda e: e.strength, reverse=True):
        if edge.left not in components.parent or edge.right not in components.parent:
            continue
        joined = components.union(edge.left, edge.right, manual=edge.method == "manual",
                                   scored=edge.method == "probabilistic")  # fmt: skip
        if joined is False:
            refused.append(edge)
            continue
        if joined == "identity":
            conflicting.append(edge)
            continue
        if joined == "names":
            disagreeing.append(edge)
            continue
        for record in (edge.left, edge.right):
            current = method_of[record]
            if current is None or edge.strength > current.strength:
                method_of[record] = edge
    cluster_of = {record: components.find(record) for record in components.parent}
    members: dict[int, set[int]] = {}
    for record, root in cluster_of.items():
        members.setdefault(root, set()).add(record)
    return Clustering(cluster_of, members, method_of, refused, conflicting, disagreeing)


def identities(rows: Iterable[dict[str, object]], column: str = "id_hash") -> dict[int, str]:
    """record → verified resident-ID/USCC hash, for the rows that carry one."""
    return {int(r["unique_id"]): str(r[column]) for r in rows if r.get(column)}  # type: ignore[call-overload]


def full_name(row: dict[str, object]) -> str | None:
    """A person's full name in Han characters (simplified), if the row carries one (not a title form)."""
    if row.get("kind") == "person" and row.get("name_cn") and not row.get("title_form"):
        return str(row["name_cn"])
    return None


def full_names(rows: Iterable[dict[str, object]]) -> dict[int, str]:
    """record → a person's full name in Han characters (simplified), for the records that carry one."""
    return {int(r["unique_id"]): name for r in rows if (name := full_name(r))}  # type: ignore[call-overload]


def may_link(left: dict[str, object], right: dict[str, object]) -> bool:
    """Whether a model score may link two records at all, whatever it is.

    A person is never a company: a fleet driver's repair order shares the company's phone and car. And a name
    like 王先生 or 小李 (a surname and a form of address) names a person only together with the same phone or
    ID: a shared car alone is as often the owner's spouse, a driver or the next owner who kept the surname's
    luck — on the independent evaluation set most such links were wrong.

    Two full names in Han characters that disagree outright (``han_names_disagree``: another surname, or given
    names without a syllable in common) are two people, however much else they share: a family has one
    phone, one address and one car, and the spouse who brings the car in from the owner's mobile is not the
    owner (second independent set: 17 of 40 false merges shown). Only a shared verified ID — a deterministic
    link, not a model score — or a steward joins them.
    """
    if left.get("kind") != right.get("kind"):
        return False
    left_name, right_name = full_name(left), full_name(right)
    if left_name and right_name and han_names_disagree(left_name, right_name):
        return False
    if left.get("title_form") or right.get("title_form"):
        return bool(
            (left.get("mobile") and left.get("mobile") == right.get("mobile"))
            or (left.get("id_hash") and left.get("id_hash") == right.get("id_hash"))
        )
    return True


def organisation_identity(row: dict[str, object]) -> str | None:
    """An organisation's registered identity without its USCC: trade name + industry, place and branch.

    A company name is unique within its registration area (企业名称登记管理规定), so two organisation records
    agreeing on all three — the place known on both, from the name or the address — are one company. A place
    missing on either side is left to the model (明达物流 alone may be the Hangzhou or the Ningbo one).
    """
    if row.get("kind") != "organisation" or not row.get("org_name") or not row.get("org_place"):
        return None
    if len(str(row["org_name"])) < 2:
        return None
    return f"{row['org_name']}@{row['org_place']}#{row.get('org_branch') or ''}"


def deterministic_edges(rows: Iterable[dict[str, object]]) -> list[Edge]:
    """Certain links, one star per value: a shared verified resident-ID/USCC hash, or a shared organisation
    identity (``organisation_identity``). Records with different ID hashes are still kept apart by the
    clustering's identity constraint."""
    edges: list[Edge] = []
    for key in (lambda r: r.get("id_hash"), organisation_identity):
        first: dict[object, int] = {}
        for row in rows:
            value = key(row)
            if not value:
                continue
            record = int(row["unique_id"])  # type: ignore[call-overload]
            if value in first:
                edges.append(Edge(first[value], record, 1.0, "deterministic"))
            else:
                first[value] = record
    return edges
