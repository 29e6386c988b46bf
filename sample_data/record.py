"""One generated source record with its ground truth, and what every source renderer shares."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sample_data.noise import Spoiler
from sample_data.population import Dealer, Person
from sample_data.shuffle import IdSequence


@dataclass(frozen=True)
class GeneratedRecord:
    """A source record as the source would send it, plus the truth the hub has to find on its own.

    ``payload`` is JSON-ready (dates as strings). ``person_id`` and ``vin`` are the true person or company
    and the true upper-case VIN the record is about, whatever the payload says; ``defects`` names every
    noise and defect put into the payload (see ``DEFECTS_THAT_QUARANTINE`` for which must be quarantined).
    """

    source: str
    stream: str
    source_id: str
    payload: dict[str, Any]
    person_id: str | None
    vin: str | None
    defects: tuple[str, ...]


class Context:
    """The seeded RNG, the defect injector and the sources' own numbering, shared by the renderers.

    Each source numbers its customers itself (KUNNR, cust_id, holderId, user_id), so the numbers of one
    person differ between sources, as in life. Those numbers are remembered per cluster only.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.spoiler = Spoiler(rng)
        self.sequences = {
            "erp": IdSequence("C", 8, rng),
            "finance": IdSequence("F", 7, rng),
            "insurance": IdSequence("H", 7, rng),
            "portal": IdSequence("U", 7, rng),
        }
        self._serials = {"sales_order": rng.randrange(10**8), "policy": rng.randrange(10**8)}
        self._customer_ids: dict[tuple[str, str], str] = {}
        self._dealer_links: dict[tuple[str, str], dict[str, Any]] = {}

    def begin_cluster(self) -> None:
        """Forget the previous cluster's people: they never appear again, so memory stays flat."""
        self._customer_ids.clear()
        self._dealer_links.clear()

    def customer_id(self, source: str, person: Person) -> str:
        key = (source, person.person_id)
        if key not in self._customer_ids:
            self._customer_ids[key] = self.sequences[source]()
        return self._customer_ids[key]

    def dealer_link(self, person: Person, dealer: Dealer) -> dict[str, Any] | None:
        return self._dealer_links.get((person.person_id, dealer.code))

    def remember_dealer_link(self, person: Person, dealer: Dealer, link: dict[str, Any]) -> None:
        self._dealer_links[(person.person_id, dealer.code)] = link

    def serial(self, kind: str) -> int:
        """Document numbers (sales orders, policies) run up with small gaps, as a numbering range does."""
        self._serials[kind] += 1 + int(self.rng.random() * 3)
        return self._serials[kind]

    def roll(self, share: float) -> bool:
        return self.rng.random() < share

    def between(self, low: int, high: int) -> int:
        """``randint`` without its argument checks: it is called a dozen times per record."""
        return low + int(self.rng.random() * (high - low + 1))

    def uid(self) -> str:
        """A message or event id: a version-4 UUID, but drawn from the seeded RNG so runs repeat exactly."""
        bits = self.rng.getrandbits(128) & _UUID_CLEAR | _UUID_V4
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def timestamp(self, day: date) -> str:
        """A Beijing business-hours moment on ``day`` in ISO 8601 with its ``+08:00`` offset."""
        return f"{day.isoformat()}T{self._clock()}+08:00"

    def naive_timestamp(self, day: date) -> str:
        """Finance databases store naive local (Beijing) time: ``2024-03-01 10:00:00``."""
        return f"{day.isoformat()} {self._clock()}"

    def _clock(self) -> str:
        seconds = 8 * 3600 + int(self.rng.random() * 13 * 3600)
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def day_between(self, first: date, last: date) -> date:
        """A random day in ``[first, last]`` (``first`` when the range is empty)."""
        span = (last - first).days
        return first + timedelta(days=self.between(0, span)) if span > 0 else first


# Version 4 and the RFC 4122 variant in a 128-bit integer (what uuid.UUID(int=…, version=4) sets).
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_V4 = (0x4000 << 64) | (0x8000 << 48)
