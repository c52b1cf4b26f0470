"""Slack's HTTP endpoints for the web app: ``POST /slack/events`` (commands, interactivity and
events), and for multi-workspace installs ``GET /slack/install`` and ``GET /slack/oauth_redirect``.

Bolt's own Starlette adapter calls the synchronous app inside the event loop; here each request
is dispatched in the thread pool instead, so one slow listener never stalls the other requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from slack_bolt import App, BoltRequest, BoltResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

MAX_BODY = 1024 * 1024  # Slack's payloads are small; anything bigger is not from Slack


def routes(app: App) -> list[Route]:
    async def events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(status_code=413)
        try:
            bolt_request = BoltRequest(body=body.decode("utf-8", "replace"), query=request.url.query,
                                       headers=_headers(request))
        except ValueError:  # Bolt parses ``payload=`` as JSON up front: not JSON is a bad request
            return Response(status_code=400)
        return _response(await run_in_threadpool(app.dispatch, bolt_request))

    def oauth(step: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            flow = app.oauth_flow
            if flow is None:  # one workspace with a bot token: there is nothing to install
                return Response(status_code=404)
            bolt_request = BoltRequest(body="", query=request.url.query, headers=_headers(request))
            return _response(await run_in_threadpool(getattr(flow, step), bolt_request))

        return endpoint

    return [
        Route("/slack/events", events, methods=["POST"]),
        Route("/slack/install", oauth("handle_installation"), methods=["GET"]),
        Route("/slack/oauth_redirect", oauth("handle_callback"), methods=["GET"]),
    ]


def _headers(request: Request) -> dict[str, str | Sequence[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    return dict(headers)


def _response(bolt: BoltResponse) -> Response:
    response = Response(content=bolt.body, status_code=bolt.status)
    for name, values in bolt.headers.items():
        for value in values if isinstance(values, (list, tuple)) else [values]:
            if name.lower() == "content-length":
                continue
            response.headers.append(name, str(value))
    return response


