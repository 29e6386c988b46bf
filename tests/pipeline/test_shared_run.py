"""One sync run shared by a process's pushed deliveries: counts add up across threads and across a roll-over."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select

from mappings import MappingRegistry
from pipeline import Loader
from pipeline.shared_run import SharedRun
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade
from store.tables import SyncRun


def test_parts_from_many_threads_and_a_roll_over_add_up_exactly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    engine = create_store_engine(url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k")
    shared = SharedRun(loader, "portal", progress_every_s=0, roll_after_s=3600)
    straggler = shared.part()  # taken under the first run, counted after that run was rolled over

    def deliver() -> None:
        for _ in range(50):
            part = shared.part()
            part.records_in, part.mapped = 1, 1
            shared.add(part)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shared.roll_after_s = 0  # the next delivery rolls over to a new run
    part = shared.part()
    part.records_in = part.quarantined = 1
    shared.add(part)
    straggler.records_in = straggler.unchanged = 1
    shared.add(straggler)
    shared.close()
    with loader.sessions() as session:
        runs = list(session.scalars(select(SyncRun).order_by(SyncRun.id)))
    engine.dispose()
    assert [(r.status, r.records_in, r.records_mapped, r.records_unchanged, r.records_quarantined) for r in runs] == [
        ("succeeded", 201, 200, 1, 0), ("succeeded", 1, 0, 0, 1)]  # fmt: skip
