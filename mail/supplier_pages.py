"""The supplier's own page: sign in by email (no password), every customer connection in one
place, the actions the transition table allows the supplier's side, and the company's contacts.

``/s`` asks for an address and always answers "check your inbox"; a known contact gets a signed,
single-use link valid 30 minutes. ``/s/<signed>`` shows one button (a GET changes nothing: mail
scanners open every link); pressing it opens a session — a signed cookie (HttpOnly, SameSite=Lax,
Secure over HTTPS) that names the contact and its company, valid 12 hours, checked against the
database on every page, so a removed contact is out at once. Every change is a POST with the
double-submit CSRF pair of ``mail.pages``; destructive ones ask for confirmation first.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tautan.core import services, supplier_queries
from tautan.core.errors import LinkExpired, LinkUsed, NotFound, TautanError, TooManyRequests
from tautan.core.events import EventKind, Via
from tautan.core.i18n import N_, Translator
from tautan.core.model import DOCUMENT_TYPES, Status
from tautan.core.services import SupplierSession
from tautan.core.supplier_queries import Actor
from tautan.core.transitions import STATUS_LABELS, Action, Side
from tautan.core.views import DOCUMENT_TYPE_LABELS, EVENT_LABELS, VIA_LABELS
from tautan.mail.links import SUPPLIER_SESSION, SUPPLIER_SIGN_IN, sign, unsign
from tautan.mail.pages import MAX_TOKEN_LENGTH, InvitationPages, PageContainer, Refused

log = logging.getLogger(__name__)

SESSION_COOKIE = "tautan_supplier"
ROUTE = "supplier_page"
PER_PAGE = 20
SIGN_IN_KEY = "s"

# The button of each action, and whether it asks for confirmation first.
ACTION_BUTTONS: Mapping[Action, str] = {
    Action.ACCEPT: N_("Accept"),
    Action.DECLINE: N_("Decline"),
    Action.REQUEST: N_("Ask to connect again"),
    Action.CANCEL: N_("Withdraw request"),
    Action.DISCONNECT: N_("Disconnect"),
}
CONFIRM_FIRST = frozenset({Action.DECLINE, Action.CANCEL, Action.DISCONNECT})
CONFIRM_QUESTIONS: Mapping[Action, str] = {
    Action.DECLINE: N_("Decline the invitation of {customer} for {type}?"),
    Action.CANCEL: N_("Withdraw your request to {customer} for {type}?"),
    Action.DISCONNECT: N_("End the connection with {customer} for {type}?"),
}

Handler = Callable[["SupplierPages", Request], Awaitable[Response]]


def supplier_page(handler: Handler) -> Handler:
    """Every failure of a supplier page becomes a localized page; never a traceback."""

    @functools.wraps(handler)
    async def endpoint(self: SupplierPages, request: Request) -> Response:
        request.state.route = ROUTE
        try:
            return await handler(self, request)
        except SignedOut:
            t = self.translator(request)
            return self.render(request, t, "supplier/link_problem.html", link=None, route=ROUTE, here="/s",
                               status=401, used=False, signed_out=True)
        except Refused as refusal:
            return self.refusal_page(request, refusal)
        except (LinkExpired, LinkUsed) as error:
            return self.link_problem(request, used=isinstance(error, LinkUsed))
        except TooManyRequests:
            t = self.translator(request)
            return self.render(request, t, "supplier/sign_in.html", link=None, route=ROUTE, here="/s", status=429,
                               csrf_for=SIGN_IN_KEY, email="", problem=t("Too many attempts. Please wait a few "
                                                                         "minutes and try again."))
        except TautanError as error:
            return await self.error_page(request, error)
        except Exception:  # a system error: logged with context, the reader gets an apology
            log.exception("supplier page %s failed", handler.__name__)
            return await self.error_page(request, TautanError())

    return endpoint


class SupplierPages(InvitationPages):
    """The supplier page, sharing the link pages' rendering, language, CSRF and error table."""

    def __init__(self, container: PageContainer) -> None:
        super().__init__(container)

    def routes(self) -> list[Route]:
        return [
            Route("/s", self.sign_in_form, methods=["GET", "POST"], name="supplier_sign_in"),
            Route("/s/connections", self.connections, methods=["GET"], name="supplier_connections"),
            Route("/s/connections/{connection_id:int}", self.connection, methods=["GET", "POST"],
                  name="supplier_connection"),
            Route("/s/contacts", self.contacts, methods=["GET", "POST"], name="supplier_contacts"),
            Route("/s/contacts/{person_id:int}/remove", self.remove_contact, methods=["POST"],
                  name="supplier_contact_remove"),
            Route("/s/sign-out", self.sign_out, methods=["POST"], name="supplier_sign_out"),
            Route("/s/{token}", self.open_link, methods=["GET", "POST"], name="supplier_link"),
        ]

    # --- signing in ---------------------------------------------------------------------------

    @supplier_page
    async def sign_in_form(self, request: Request) -> Response:
        t = self.translator(request)
        if request.method in ("GET", "HEAD"):
            return self.render(request, t, "supplier/sign_in.html", link=None, route=ROUTE, here="/s",
                               csrf_for=SIGN_IN_KEY, email="", problem=None)
        form = await self.form(request)
        self.check_csrf_for(request, form, SIGN_IN_KEY)
        email = str(form.get("email", "")).strip()[:320]
        try:
            await self.run(services.request_sign_in, email=email, client=client_of(request), lang=t.locale)
        except TooManyRequests:
            raise
        except TautanError:
            # An address that is not valid: said plainly, the form keeps what was typed.
            return self.render(request, t, "supplier/sign_in.html", link=None, route=ROUTE, here="/s", status=400,
                               csrf_for=SIGN_IN_KEY, email=email,
                               problem=t("{email} is not a valid email address.", email=email))
        # The same page whether or not the address is a contact's: nobody learns who is.
        return self.render(request, t, "supplier/check_inbox.html", link=None, route=ROUTE, here="/s", email=email)

    @supplier_page
    async def open_link(self, request: Request) -> Response:
        token = request.path_params["token"]
        nonce = unsign(self.container.settings.secret_keys, SUPPLIER_SIGN_IN, token) \
            if len(token) <= MAX_TOKEN_LENGTH else None
        if not isinstance(nonce, str):
            raise LinkExpired()
        t = self.translator(request)
        here = request.url.path
        if request.method in ("GET", "HEAD"):
            email = await self.run(services.check_sign_in, nonce=nonce)
            return self.render(request, t, "supplier/continue.html", link=None, route=ROUTE, here=here,
                               csrf_for=SIGN_IN_KEY, email=email)
        form = await self.form(request)
        self.check_csrf_for(request, form, SIGN_IN_KEY)
        who: SupplierSession = await self.run(services.sign_in, nonce=nonce)
        response = self.redirect("/s/connections")
        issued = int(self.container.clock().timestamp())
        response.set_cookie(SESSION_COOKIE, sign(self.container.settings.secret_keys, SUPPLIER_SESSION,
                                                 [who.person_id, who.supplier_id, issued]),
                            max_age=int(services.SESSION_TTL.total_seconds()), path="/s", httponly=True,
                            samesite="lax", secure=self.secure)
        return response

    @supplier_page
    async def sign_out(self, request: Request) -> Response:
        form = await self.form(request)
        who = await self.session(request)
        self.check_csrf_for(request, form, csrf_key(who))
        response = self.redirect("/s")
        response.delete_cookie(SESSION_COOKIE, path="/s", httponly=True, samesite="lax", secure=self.secure)
        return response

    def link_problem(self, request: Request, *, used: bool) -> Response:
        t = self.translator(request)
        return self.render(request, t, "supplier/link_problem.html", link=None, route=ROUTE, here="/s",
                           status=410, used=used, signed_out=False)

    # --- the connections ----------------------------------------------------------------------

    @supplier_page
    async def connections(self, request: Request) -> Response:
        who = await self.session(request)
        t = self.translator(request)
        query = request.query_params
        customer = query.get("customer", "").strip()[:200]
        type_ = query.get("type", "") if query.get("type", "") in DOCUMENT_TYPES else ""
        status = query.get("status", "") if query.get("status", "") in set(Status) else ""
        try:
            page = max(1, min(int(query.get("page", "1")), 100_000))
        except ValueError:
            page = 1
        result = await self.run(supplier_queries.connections, supplier_id=who.supplier_id, customer=customer or None,
                                type=type_ or None, status=status or None, page=page, per_page=PER_PAGE)
        filters = {k: v for k, v in (("customer", customer), ("type", type_), ("status", status)) if v}
        back = "/s/connections" + (f"?{urlencode({**filters, 'page': page})}" if filters or page > 1 else "")
        groups = [{
            "customer": g.customer,
            "last_change": t.date(g.last_change, "medium"),
            "lines": [self.line(t, line, g.customer) for line in g.lines],
            "join_path": self.root(request) + g.join_path if g.join_path else "",
        } for g in result.items]
        pages = {
            "previous": f"/s/connections?{urlencode({**filters, 'page': page - 1})}" if page > 1 else None,
            "next": f"/s/connections?{urlencode({**filters, 'page': page + 1})}" if result.has_next else None,
        }
        return self.render(request, t, "supplier/connections.html", link=None, route=ROUTE, csrf_for=csrf_key(who),
                           here="/s/connections", who=who, groups=groups, total=result.total, filters=filters,
                           customer=customer, type_filter=type_, status_filter=status, back=back, pages=pages,
                           page_label=t("Page {page} of {pages}", page=t.number(result.page),
                                        pages=t.number(result.pages)),
                           all_types=[(c, t(DOCUMENT_TYPE_LABELS[c].message_id)) for c in DOCUMENT_TYPES],
                           all_statuses=[(s.value, t(STATUS_LABELS[s].message_id)) for s in Status])

    @supplier_page
    async def connection(self, request: Request) -> Response:
        who = await self.session(request)
        t = self.translator(request)
        connection_id = int(request.path_params["connection_id"])
        if request.method == "POST":
            form = await self.form(request)
            self.check_csrf_for(request, form, csrf_key(who))
            return await self.act(request, t, who, connection_id, form)
        found = await self.run(supplier_queries.history, supplier_id=who.supplier_id, connection_id=connection_id)
        entries = [{
            "what": t(EVENT_LABELS[EventKind(e.kind)].message_id) if e.kind in set(EventKind) else e.kind,
            "when": t.datetime(e.at, "medium"),
            "who": actor_name(t, e.actor),
            "via": t(VIA_LABELS[Via(e.via)]) if e.via in set(Via) else e.via,
            "reason": e.reason,
        } for e in reversed(found.entries)]
        return self.render(request, t, "supplier/connection.html", link=None, route=ROUTE, csrf_for=csrf_key(who),
                           here=request.url.path, who=who, customer=found.customer, entries=entries,
                           line=self.line(t, found.connection, found.customer), back=request.url.path)

    async def act(self, request: Request, t: Translator, who: SupplierSession, connection_id: int,
                  form: FormData) -> Response:
        try:
            action = Action(str(form.get("action", "")))
        except ValueError:
            action = None
        if action not in ACTION_BUTTONS:
            raise Refused(400, N_("Something is not right"), N_("Choose one of the buttons on the page."))
        reason = str(form.get("reason", "")).strip()[:2000] or None
        back = str(form.get("back", ""))
        if not back.startswith("/s/connections") or "//" in back or "\\" in back:
            back = "/s/connections"
        if action in CONFIRM_FIRST and form.get("confirm") != "yes":
            found = await self.run(supplier_queries.history, supplier_id=who.supplier_id,
                                   connection_id=connection_id)
            line = found.connection
            return self.render(request, t, "supplier/confirm.html", link=None, route=ROUTE, csrf_for=csrf_key(who),
                               here=request.url.path, who=who, action=action.value, back=back,
                               button=t(ACTION_BUTTONS[action]), with_reason=action is Action.DISCONNECT,
                               question=t(CONFIRM_QUESTIONS[action], customer=found.customer,
                                          type=type_label(t, line.type)))
        actor = f"email:{who.email}"
        common = dict(supplier_id=who.supplier_id, connection_id=connection_id, actor=actor, via="link")
        if action is Action.ACCEPT:
            await self.run(services.answer_type, accept=True, **common)
        elif action is Action.DECLINE:
            await self.run(services.answer_type, accept=False, **common)
        elif action is Action.REQUEST:
            await self.run(services.reconnect, **common)
        elif action is Action.CANCEL:
            await self.run(services.withdraw, **common)
        else:
            await self.run(services.disconnect, side=Side.SUPPLIER, reason=reason, **common)
        return self.redirect(back)

    def line(self, t: Translator, line: supplier_queries.ConnectionLine, customer: str) -> dict[str, Any]:
        return {
            "id": line.id,
            "type": type_label(t, line.type),
            "status": line.status,
            "status_label": t(STATUS_LABELS[Status(line.status)].message_id),
            "changed": t.date(line.updated_at, "medium"),
            "who": actor_name(t, line.actor) if line.actor else None,
            "reason": line.reason,
            "actions": [(a.value, t(ACTION_BUTTONS[a])) for a in line.actions],
            "label": t("{type} with {customer}", type=type_label(t, line.type), customer=customer),
        }

    # --- contacts -----------------------------------------------------------------------------

    @supplier_page
    async def contacts(self, request: Request) -> Response:
        who = await self.session(request)
        t = self.translator(request)
        problem, email, name, status = None, "", "", 200
        if request.method == "POST":
            form = await self.form(request)
            self.check_csrf_for(request, form, csrf_key(who))
            email, name = str(form.get("email", "")).strip()[:320], str(form.get("name", "")).strip()[:200]
            try:
                await self.run(services.add_contact, supplier_id=who.supplier_id, email=email, name=name or None,
                               actor=f"email:{who.email}", via="link", lang=t.locale)
            except TautanError as error:
                if isinstance(error, NotFound):
                    raise
                problem, status = t.error(error), 400
            else:
                return self.redirect("/s/contacts")
        people = await self.run(services.contacts, supplier_id=who.supplier_id)
        return self.render(request, t, "supplier/contacts.html", link=None, route=ROUTE, csrf_for=csrf_key(who),
                           here="/s/contacts", who=who, people=people, problem=problem, email=email, contact_name=name,
                           status=status, last=len(people) <= 1)

    @supplier_page
    async def remove_contact(self, request: Request) -> Response:
        who = await self.session(request)
        form = await self.form(request)
        self.check_csrf_for(request, form, csrf_key(who))
        person_id = int(request.path_params["person_id"])
        await self.run(services.remove_contact, supplier_id=who.supplier_id, person_id=person_id,
                       actor=f"email:{who.email}", via="link")
        if person_id == who.person_id:  # removed oneself: the session ends with the membership
            response = self.redirect("/s")
            response.delete_cookie(SESSION_COOKIE, path="/s", httponly=True, samesite="lax", secure=self.secure)
            return response
        return self.redirect("/s/contacts")

    # --- the session --------------------------------------------------------------------------

    async def session(self, request: Request) -> SupplierSession:
        """The signed-in contact, or a refusal that leads to the sign-in form."""
        raw = request.cookies.get(SESSION_COOKIE, "")
        payload = unsign(self.container.settings.secret_keys, SUPPLIER_SESSION, raw) \
            if raw and len(raw) <= MAX_TOKEN_LENGTH else None
        if not (isinstance(payload, list) and len(payload) == 3 and all(type(v) is int for v in payload)):
            raise signed_out()
        person_id, supplier_id, issued = payload
        age = self.container.clock() - dt.datetime.fromtimestamp(issued, dt.timezone.utc)
        if not dt.timedelta(minutes=-5) <= age <= services.SESSION_TTL:
            raise signed_out()
        try:
            who: SupplierSession = await self.run(services.current_contact, person_id=person_id,
                                                  supplier_id=supplier_id)
        except NotFound:
            raise signed_out() from None
        request.state.invitation_lang = who.locale
        return who

    @property
    def secure(self) -> bool:
        return bool(self.container.settings.public_base_url.startswith("https://"))

    def render(self, request: Request, t: Translator, template: str, **kwargs: Any) -> Response:
        kwargs.setdefault("who", None)
        return super().render(request, t, template, **kwargs)


class SignedOut(Exception):
    """No valid session: the reader is shown the way to sign in."""


def signed_out() -> SignedOut:
    return SignedOut()


def csrf_key(who: SupplierSession) -> str:
    return f"s{who.person_id}"


def client_of(request: Request) -> str:
    return (request.client.host if request.client else "unknown")[:64]


def type_label(t: Translator, code: str) -> str:
    return t(DOCUMENT_TYPE_LABELS[code].message_id) if code in DOCUMENT_TYPE_LABELS else code


def actor_name(t: Translator, actor: Actor) -> str:
    if actor.kind == "person":
        return actor.name
    if actor.kind == "customer":
        return t("an administrator of {customer}", customer=actor.name)
    return t("Tautan, automatically")


def routes(container: PageContainer) -> list[Route]:
    """The supplier page, for ``app.web.create_app``."""
    return SupplierPages(container).routes()
