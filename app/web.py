"""The ASGI web app: the signed-link pages, health checks and (later) the Slack endpoints.

``create_app(container)`` composes everything from one ``app.wiring.Container``; nothing is built
at import time. The services are synchronous, so database work runs in Starlette's thread pool.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from tautan.core.backlog import as_json as backlog_json
from tautan.core.backlog import backlog
from tautan.core.errors import TautanError
from tautan.mail import join_pages, pages, supplier_pages
from tautan.wiring import Container

log = logging.getLogger(__name__)

READY_TIMEOUT = 5.0  # seconds; a load balancer's probe should hear back well before its own timeout
PROBE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def create_app(container: Container) -> Starlette:
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *pages.routes(container),
        *supplier_pages.routes(container),
        pages.home_route(container),
        *join_pages.routes(container),
    ]
    if container.slack_app is not None:  # POST /slack/events, GET /slack/install, /slack/oauth_redirect
        from tautan.bot import web as slack_web

        routes += slack_web.routes(container.slack_app)
    app = Starlette(routes=routes, exception_handlers={404: pages.not_found_handler(container)})
    app.state.container = container
    return app


async def healthz(request: Request) -> Response:
    """The process is up and serving (no database: a liveness probe must not restart us for a DB outage)."""
    return PlainTextResponse("ok", headers=PROBE_HEADERS)


async def readyz(request: Request) -> Response:
    """Ready for traffic: the database answers ``SELECT 1``; the body has the queues' backlog."""
    container: Container = request.app.state.container
    try:
        await asyncio.wait_for(run_in_threadpool(_select_one, container), timeout=READY_TIMEOUT)
        queues = await asyncio.wait_for(run_in_threadpool(backlog, container.uow()), timeout=READY_TIMEOUT)
    except (SQLAlchemyError, TautanError, OSError, TimeoutError) as error:
        log.warning("not ready: database check failed (%s)", error.__class__.__name__)
        return JSONResponse({"status": "database unavailable"}, status_code=503, headers=PROBE_HEADERS)
    # The backlog (as ``tautan status --json``), so monitoring sees a stuck queue.
    return JSONResponse({"status": "ready", "queues": backlog_json(queues)}, headers=PROBE_HEADERS)


def _select_one(container: Container) -> None:
    with container.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
