"""The sample-data generator: five sources' records with ground truth, deterministic and streaming.

``generate(people, seed)`` draws the world one cluster at a time (a person or company, sometimes a spouse
sharing the family mobile, and anyone who later bought one of their cars) and yields that cluster's records
from all five sources before drawing the next, so a million people run in the memory of a thousand.

All randomness comes from one ``random.Random(seed)``: the same seed and size give the same records, byte
for byte, on any machine and any day (the sample's "today" is fixed). This is demo data, not security:
a seeded, reproducible PRNG is the point, which is why the ``random`` module is right here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from sample_data.events import dms, portal
from sample_data.noise import DEFECTS_THAT_QUARANTINE
from sample_data.population import MAX_PEOPLE, TODAY, Person, World
from sample_data.record import Context, GeneratedRecord
from sample_data.sources import erp, finance, insurance

SOURCES = ("erp", "finance", "insurance", "dms", "portal")
STREAMS: dict[str, tuple[str, ...]] = {
    "erp": ("customers", "vehicles", "sales_orders"),
    "finance": ("customers",),
    "insurance": ("policies",),
    "dms": ("lead", "delivery", "repair_order"),
    "portal": ("registrations", "service_requests"),
}


def generate(
    people: int, seed: int = 42, *, on_person: Callable[[Person], None] | None = None
) -> Iterator[GeneratedRecord]:
    """Yield the five sources' records for ``people`` people and companies (about 5 % are companies).

    Records of one cluster come together, source by source; nothing is kept once a cluster is yielded
    except the dealers (one per 200 people) and a few counters.
    """
    rng = random.Random(seed)
    world = World(people, rng)
    ctx = Context(rng)
    while world.remaining > 0:
        ctx.begin_cluster()
        for person in world.cluster():
            yield from _render(ctx, world, person)
            if on_person:  # ground truth beyond the records, e.g. who owns each car today
                on_person(person)


def _render(ctx: Context, world: World, person: Person) -> Iterator[GeneratedRecord]:
    yield from erp(ctx, person)
    yield from finance(ctx, person)
    yield from insurance(ctx, person)
    yield from dms(ctx, world, person)
    yield from portal(ctx, person)


__all__ = [
    "DEFECTS_THAT_QUARANTINE",
    "MAX_PEOPLE",
    "SOURCES",
    "STREAMS",
    "TODAY",
    "GeneratedRecord",
    "generate",
]
