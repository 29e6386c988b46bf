"""The baseline of bench/api_latency.py: a bare Starlette handler that reads the same golden row from the same
database through the same engine settings, and returns its body — no authentication, no view, no masking.

``uvicorn bare_starlette:app`` (from bench/), store from AUTOHUB_DATABASE_URL.
"""

from __future__ import annotations

import os

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from store.engine import create_store_engine, session_factory
from store.tables import GoldenRecordRow

sessions = session_factory(create_store_engine(os.environ["AUTOHUB_DATABASE_URL"]))


async def customer(request: Request) -> JSONResponse:
    golden_id = request.path_params["golden_id"]

    def read() -> object:
        with sessions() as session:
            return session.scalar(select(GoldenRecordRow.body).where(GoldenRecordRow.golden_id == golden_id))

    body = await run_in_threadpool(read)
    return JSONResponse(body, status_code=200 if body is not None else 404)


app = Starlette(routes=[Route("/customers/{golden_id}", customer)])
