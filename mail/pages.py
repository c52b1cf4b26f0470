"""The web pages behind the signed links in our emails.

``/i/<token>`` shows an invitation and lets the supplier accept or decline it (or ask for a new
one once it has expired); ``/u/<token>`` stops a customer's invitations (with RFC 8058 one-click).
A GET never changes anything: mail scanners open every link. Every change is a POST carrying a
double-submit CSRF token (a random nonce in an HttpOnly, SameSite=Strict cookie, and the same nonce
signed with the invitation id in a hidden field).

The reader's language is ``?lang=`` (remembered in a cookie), else the invitation's own language,
else the browser's first Accept-Language tag when it is one we speak.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tautan.core import services
from tautan.core.errors import (
    ConcurrentChange,
    InvalidInput,
    InvitationClosed,
    InvitationExpired,
    NotFound,
    TautanError,
    Unavailable,
    UserError,
)
from tautan.core.i18n import N_, SUPPORTED_LOCALES, Translator, normalize_locale, translator
from tautan.core.model import InvitationStatus
from tautan.core.uow import Clock, UnitOfWork
from tautan.core.views import DOCUMENT_TYPE_LABELS, INVITATION_STATUS_LABELS, InvitationView
from tautan.mail.compose import inviter_line
from tautan.mail.links import (
    INVITATION_PAGE,
    REQUEST_LINK_TTL,
    SUPPLIER_REQUEST,
    UNSUBSCRIBE,
    sign,
    unsign,
    unsubscribe_url,
)
from tautan.mail.onboarding import onboarding_text
from tautan.mail.templating import render

log = logging.getLogger(__name__)

CSRF = "tautan.csrf"
LANG_COOKIE = "lang"
LANG_COOKIE_AGE = 365 * 24 * 3600
MAX_TOKEN_LENGTH = 512
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Where each page's CSRF cookie is sent (by route name): only to the pages that need it.
ANSWERED = frozenset({InvitationStatus.ACCEPTED, InvitationStatus.DECLINED, InvitationStatus.CANCELLED})

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # The address is a credential: no cache may keep the page, no search engine may list it.
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}


class PageContainer(Protocol):
    """What the pages need from the composition root (``app.wiring.Container``)."""

    @property
    def settings(self) -> Any: ...

    @property
    def clock(self) -> Clock: ...

    def uow(self) -> UnitOfWork: ...


@dataclass(frozen=True)
class Link:
    """A verified signed token: which invitation, and the reply token it was issued for."""

    token: str
    invitation_id: int
    reply_token: str


class Refused(Exception):
    """A request the pages turn away before the engine sees it (a bad link, a failed CSRF check)."""

    def __init__(self, status: int, title: str, message: str, *, retry: bool = False) -> None:
        super().__init__(title)
        self.status, self.title, self.message, self.retry = status, title, message, retry


def bad_link() -> Refused:
    return Refused(400, N_("This link is not valid"),
                   N_("The link may be incomplete or may have been changed. Please open it again from "
                      "the email, or copy the whole address into your browser."))


def forbidden() -> Refused:
    return Refused(403, N_("Please try again"),
                   N_("For your security, we could not accept this form. Open the page again and press "
                      "the button once more."), retry=True)


# The one table from engine errors to what the reader of a page sees: first match wins.
# InvitationExpired and InvitationClosed show the invitation as it now stands (InvitationPages.error_page).
ERROR_PAGES: tuple[tuple[type[TautanError], int, str], ...] = (
    (NotFound, 404, N_("Not found")),
    (InvitationExpired, 410, N_("This invitation has expired")),
    (InvitationClosed, 409, N_("This invitation is closed")),
    (ConcurrentChange, 409, N_("Please try again")),
    (Unavailable, 503, N_("Temporarily unavailable")),
    (UserError, 400, N_("Something is not right")),
    (TautanError, 500, N_("Something went wrong")),
)


def error_status(error: TautanError) -> tuple[int, str]:
    """The HTTP status and the page title (a message id) for an engine error."""
    for kind, status, title in ERROR_PAGES:
        if isinstance(error, kind):
            return status, title
    return 500, N_("Something went wrong")


PagesT = TypeVar("PagesT", bound="InvitationPages")
Handler = Callable[[PagesT, Request], Awaitable[Response]]


def page(handler: Handler[PagesT]) -> Handler[PagesT]:
    """Turn every failure of a page handler into a localized page; never a traceback."""

    @functools.wraps(handler)
    async def endpoint(self: PagesT, request: Request) -> Response:
        try:
            return await handler(self, request)
        except Refused as refusal:
            return self.refusal_page(request, refusal)
        except TautanError as error:
            return await self.error_page(request, error)
        except Exception:  # a system error: logged with context, the reader gets an apology
            log.exception("page %s failed (invitation %s)", handler.__name__,
                          getattr(request.state, "invitation_id", None))
            return await self.error_page(request, TautanError())

    return endpoint


class InvitationPages:
    # Where each page's CSRF cookie is sent: only to the page that set it.
    COOKIE_PATHS: Mapping[str, str] = {"unsubscribe_page": "/u/", "request_page": "/r/", "supplier_page": "/s"}

    def __init__(self, container: PageContainer) -> None:
        self.container = container

    # --- routes -------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("/i/{token}", self.invitation, methods=["GET", "POST"], name="invitation_page"),
            Route("/i/{token}/renew", self.renew, methods=["POST"], name="invitation_renew"),
            Route("/i/{token}/identity", self.identity, methods=["POST"], name="invitation_identity"),
            Route("/u/{token}", self.unsubscribe, methods=["GET", "POST"], name="unsubscribe_page"),
            Route("/r/{token}", self.supplier_request, methods=["GET", "POST"], name="request_page"),
        ]

    async def home(self, request: Request) -> Response:
        """``/``: what Tautan is, for someone who typed the address from an email's footer."""
        return self.welcome(request, "home.html", status=200)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        """Every unknown path: a branded page in both languages, never a bare "Not Found"."""
        return self.welcome(request, "not_found.html", status=404)

    def welcome(self, request: Request, template: str, *, status: int) -> Response:
        t = self.translator(request)
        other = translator("id" if t.locale == "en" else "en")
        return self.render(request, t, template, link=None, route=None, status=status, other=other)

    @page
    async def supplier_request(self, request: Request) -> Response:
        """The double opt-in page of a supplier's request by email: the link went to the address
        that asked, so opening it proves the address; the supplier then says who it is and for
        which documents, and the customer's admins get the request."""
        request.state.route = "request_page"
        token = request.path_params["token"]
        payload = unsign(self.container.settings.secret_keys, SUPPLIER_REQUEST, token) \
            if len(token) <= MAX_TOKEN_LENGTH else None
        if not (isinstance(payload, list) and len(payload) == 3 and type(payload[0]) is int
                and isinstance(payload[1], str) and type(payload[2]) is int):
            raise bad_link()
        customer_id, email, issued = payload
        t = self.translator(request)
        here = request.url.path
        issued_at = dt.datetime.fromtimestamp(issued, dt.timezone.utc)
        if self.container.clock() - issued_at > REQUEST_LINK_TTL:
            raise Refused(410, N_("This link has expired"),
                          N_("Please write to the request address again to get a new link."))
        customer = await self.run(services.get_company, ref=customer_id)
        key = f"r{customer_id}"
        context = dict(customer=customer.display_name, email=email, all_types=[
            (code, t(label.message_id)) for code, label in DOCUMENT_TYPE_LABELS.items()])
        if request.method in ("GET", "HEAD"):
            return self.render(request, t, "request.html", link=None, route="request_page", csrf_for=key, here=here,
                               chosen=["invoice"], supplier_name="", problem=None, **context)
        form = await self.form(request)
        self.check_csrf_for(request, form, key)
        types = [code for code in form.getlist("types") if code in DOCUMENT_TYPE_LABELS]
        supplier_name = str(form.get("supplier_name", "")).strip() or None
        if not types:
            return self.render(request, t, "request.html", link=None, route="request_page", csrf_for=key, here=here,
                               status=400, chosen=[], supplier_name=supplier_name or "",
                               problem=t("Choose at least one document type."), **context)
        await self.run(services.request_by_email, email=email, customer=customer_id, types=types,
                       supplier_name=supplier_name, actor=f"email:{email}", via="link")
        return self.render(request, t, "request_sent.html", link=None, route=None, here=here,
                           types=type_list(t, types), **context)

    def check_csrf_for(self, request: Request, form: FormData, key: int | str) -> None:
        """The double-submit check: the signed form field names ``key`` and carries the cookie's nonce."""
        cookie = request.cookies.get(csrf_cookie(key), "")
        field = form.get("csrf")
        payload = unsign(self.container.settings.secret_keys, CSRF, field) \
            if isinstance(field, str) and len(field) <= MAX_TOKEN_LENGTH else None
        if not (cookie and isinstance(payload, list) and len(payload) == 2 and payload[0] == key
                and isinstance(payload[1], str) and hmac.compare_digest(payload[1].encode(), cookie.encode())):
            raise forbidden()

    @page
    async def invitation(self, request: Request) -> Response:
        link = self.link(request, INVITATION_PAGE)
        if request.method in ("GET", "HEAD"):
            view = await self.load(request, link)
            return await self.state_page(request, link, view)

        form = await self.form(request)
        view = await self.load(request, link)
        self.check_csrf(request, form, link)
        answer = {"accept": services.accept, "decline": services.decline}.get(str(form.get("action", "")))
        if answer is None:
            raise Refused(400, N_("Something is not right"), N_("Choose Accept or Decline."))
        if (answer is services.decline and form.get("confirm") != "yes"
                and invitation_state(view, self.container.clock()) == "live"):
            # Declining ends the invitation for good: one more press, on a page that says so.
            t = self.translator(request)
            return self.render(request, t, "decline_confirm.html", link=link, route="invitation_page",
                               invitation=view, csrf_for=view.id, **facts(t, view))
        await self.run(answer, invitation_id=view.id, actor=actor(view), via="link")
        # Post/redirect/get: the page shows the result, and a reload does not post again.
        return self.redirect(self.page_path(request, "invitation_page", link))

    @page
    async def renew(self, request: Request) -> Response:
        link = self.link(request, INVITATION_PAGE)
        form = await self.form(request)
        view = await self.load(request, link)
        self.check_csrf(request, form, link)
        await self.run(services.request_renewal, invitation_id=view.id, actor=actor(view), via="link")
        t = self.translator(request)
        asked = await self.last_event(view, "renewal_requested")
        return self.render(request, t, "renewal_requested.html", link=link, route="invitation_page",
                           invitation=view, asked_on=t.date(asked or self.container.clock(), "medium"),
                           **facts(t, view))

    @page
    async def identity(self, request: Request) -> Response:
        """At the end of accepting, the supplier says who it is (legal name, NPWP, PEPPOL id), once."""
        link = self.link(request, INVITATION_PAGE)
        form = await self.form(request)
        view = await self.load(request, link)
        self.check_csrf(request, form, link)
        if invitation_state(view, self.container.clock()) != "accepted":
            return self.redirect(self.page_path(request, "invitation_page", link))
        fields = {name: str(form.get(name, "")).strip()[:200] for name in ("legal_name", "tax_id", "peppol_id")}
        try:
            await self.run(services.set_supplier_identity, supplier=view.supplier_id, customer=view.customer_id,
                           actor=actor(view), via="link", country="ID" if fields["tax_id"] else None, **fields)
        except InvalidInput as error:
            return await self.state_page(request, link, view, status=400, problem=self.translator(request).error(error),
                                   typed=fields)
        return self.redirect(self.page_path(request, "invitation_page", link))

    @page
    async def unsubscribe(self, request: Request) -> Response:
        link = self.link(request, UNSUBSCRIBE)
        if request.method in ("GET", "HEAD"):
            view = await self.load(request, link)
            t = self.translator(request)
            return self.render(request, t, "unsubscribe.html", link=link, route="unsubscribe_page",
                               invitation=view, csrf_for=view.id, **facts(t, view))

        form = await self.form(request)
        view = await self.load(request, link)
        # RFC 8058 one-click comes from the mail client, without our cookie: the signed address
        # itself is the secret there, as the RFC intends.
        one_click = form.get("List-Unsubscribe") == "One-Click"
        if not one_click:
            self.check_csrf(request, form, link)
        await self.run(services.unsubscribe, invitation_id=view.id, actor=actor(view),
                       via="email" if one_click else "link")
        t = self.translator(request)
        asked = await self.last_event(view, "unsubscribed")
        return self.render(request, t, "unsubscribed.html", link=link, route="unsubscribe_page",
                           invitation=view, asked_on=t.date(asked or self.container.clock(), "medium"),
                           **facts(t, view))

    # --- what the invitation page shows --------------------------------------------------------

    async def state_page(self, request: Request, link: Link, view: InvitationView, *, status: int = 200,
                         problem: str | None = None, typed: Mapping[str, str] | None = None) -> Response:
        t = self.translator(request)
        context = dict(link=link, route="invitation_page", invitation=view, **facts(t, view))
        state = invitation_state(view, self.container.clock())
        if state == "live":
            return self.render(request, t, "invitation.html", status=status, csrf_for=view.id,
                               unsubscribe_path=self.root(request) + unsubscribe_url(
                                   "", self.container.settings.secret_keys, view.id, view.reply_token),
                               **context)
        if state == "expired":
            asked = await self.last_event(view, "renewal_requested")
            return self.render(request, t, "expired.html", status=status, csrf_for=view.id,
                               renew_path=self.page_path(request, "invitation_renew", link),
                               asked_on=t.date(asked, "medium") if asked else None, **context)
        connected = [c.type for c in view.connections if c.status == "connected"]
        onboarding = identity = None
        if state == "accepted" and connected:
            data = services.onboarding(self.container.uow(), customer=view.customer_id, types=connected)
            onboarding = onboarding_text(t, data, customer=view.customer)
            identity = services.supplier_identity(self.container.uow(), view.supplier_id)
        return self.render(request, t, "answered.html", status=status, state=state,
                           connected_types=type_list(t, connected), onboarding=onboarding, identity=identity,
                           csrf_for=view.id if identity is not None else None, problem=problem, typed=typed or {},
                           identity_path=self.page_path(request, "invitation_identity", link), **context)

    # --- errors -------------------------------------------------------------------------------

    async def error_page(self, request: Request, error: TautanError) -> Response:
        """Every engine error a page meets goes through here (the table is ``ERROR_PAGES``)."""
        status, title = error_status(error)
        link: Link | None = getattr(request.state, "link", None)
        if isinstance(error, (InvitationExpired, InvitationClosed)) and link is not None:
            # Show the invitation as it now stands: answered, cancelled or expired, when.
            try:
                view = await self.load(request, link)
            except TautanError:
                view = None
            if view is not None and invitation_state(view, self.container.clock()) != "live":
                return await self.state_page(request, link, view, status=status)
        t = self.translator(request)
        return self.render(request, t, "error.html", status=status, title=t(title), message=t.error(error),
                           link=link, route=getattr(request.state, "route", None), retry=False)

    def refusal_page(self, request: Request, refusal: Refused) -> Response:
        t = self.translator(request)
        link = getattr(request.state, "link", None)
        route = getattr(request.state, "route", None)
        return self.render(request, t, "error.html", status=refusal.status, title=t(refusal.title),
                           message=t(refusal.message), link=link, route=route,
                           retry=refusal.retry and link is not None)

    # --- links, loading, CSRF -----------------------------------------------------------------

    def link(self, request: Request, purpose: str) -> Link:
        request.state.route = "unsubscribe_page" if purpose == UNSUBSCRIBE else "invitation_page"
        token = request.path_params["token"]
        payload = unsign(self.container.settings.secret_keys, purpose, token) \
            if len(token) <= MAX_TOKEN_LENGTH else None
        if not (isinstance(payload, list) and len(payload) == 2 and type(payload[0]) is int
                and isinstance(payload[1], str)):
            raise bad_link()
        link = Link(token=token, invitation_id=payload[0], reply_token=payload[1])
        request.state.link = link
        request.state.invitation_id = link.invitation_id
        return link

    async def load(self, request: Request, link: Link) -> InvitationView:
        view = await run_in_threadpool(
            lambda: services.get_invitation(self.container.uow(), invitation_id=link.invitation_id))
        # A link outlives no re-issued invitation: it names the reply token it was sent with.
        if not hmac.compare_digest(view.reply_token.encode(), link.reply_token.encode()):
            raise bad_link()
        request.state.invitation_lang = view.lang
        return view

    async def last_event(self, view: InvitationView, kind: str) -> dt.datetime | None:
        """When the invitation last saw an event of this kind (a renewal request, an unsubscribe)."""
        events = await self.run(services.history, invitation_id=view.id)
        return max((e.at for e in events if e.kind == kind), default=None)

    async def run(self, service: Callable[..., Any], **kwargs: Any) -> Any:
        return await run_in_threadpool(lambda: service(self.container.uow(), **kwargs))

    @staticmethod
    async def form(request: Request) -> FormData:
        try:
            async with request.form(max_files=0, max_fields=20) as form:
                return form
        except HTTPException:  # a malformed or oversized body
            raise Refused(400, N_("Something is not right"),
                          N_("The form could not be read. Open the page again and press the button once more."),
                          retry=True) from None

    def check_csrf(self, request: Request, form: FormData, link: Link) -> None:
        self.check_csrf_for(request, form, link.invitation_id)

    # --- rendering ----------------------------------------------------------------------------

    def translator(self, request: Request) -> Translator:
        return translator(self.locale(request))

    def locale(self, request: Request) -> str:
        """``?lang``, then the EN|ID switch's cookie, then the invitation's own language (the
        customer chose it for this reader), then the browser's first Accept-Language tag."""
        asked = normalize_locale(request.query_params.get("lang"), default="")
        if asked:
            return asked
        remembered = normalize_locale(request.cookies.get(LANG_COOKIE), default="")
        if remembered:
            return remembered
        invitation_lang = getattr(request.state, "invitation_lang", None)
        if invitation_lang in SUPPORTED_LOCALES:
            return str(invitation_lang)
        # A page no invitation speaks for (a customer's join page): the browser, then the customer's.
        fallback = getattr(request.state, "fallback_lang", None)
        return browser_locale(request) or (str(fallback) if fallback in SUPPORTED_LOCALES else
                                           normalize_locale(self.container.settings.default_locale))

    def render(self, request: Request, t: Translator, template: str, *, link: Link | None, route: str | None,
               status: int = 200, csrf_for: int | str | None = None, **context: Any) -> Response:
        here = context.pop("here", None) or (
            self.page_path(request, route, link) if link is not None and route else request.url.path)
        nonce = None
        if csrf_for is not None:
            nonce = self.nonce(request, csrf_for)
            context["csrf"] = sign(self.container.settings.secret_keys, CSRF, [csrf_for, nonce])
        html = render(f"pages/{template}", t, here=here,
                      lang_links={code: f"{here}?lang={code}" for code in SUPPORTED_LOCALES}, **context)
        response = HTMLResponse(html, status_code=status, headers=dict(SECURITY_HEADERS))
        secure = self.container.settings.public_base_url.startswith("https://")
        if nonce is not None and csrf_for is not None:
            prefix = self.COOKIE_PATHS.get(route or "", "/i/")
            response.set_cookie(csrf_cookie(csrf_for), nonce, path=self.root(request) + prefix,
                                httponly=True, samesite="strict", secure=secure)
        asked = normalize_locale(request.query_params.get("lang"), default="")
        if asked:
            response.set_cookie(LANG_COOKIE, asked, max_age=LANG_COOKIE_AGE, path="/", httponly=True,
                                samesite="lax", secure=secure)
        return response

    @staticmethod
    def nonce(request: Request, invitation_id: int | str) -> str:
        """The nonce the browser already holds (so two open tabs both keep working), else a new one."""
        current = request.cookies.get(csrf_cookie(invitation_id), "")
        return current if NONCE.fullmatch(current) else secrets.token_urlsafe(24)

    @staticmethod
    def redirect(path: str) -> Response:
        return RedirectResponse(path, status_code=303, headers=dict(SECURITY_HEADERS))

    @staticmethod
    def page_path(request: Request, route: str, link: Link) -> str:
        return request.url_for(route, token=link.token).path

    @staticmethod
    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")


def browser_locale(request: Request) -> str:
    """The browser's first Accept-Language tag when we speak it, else ``""``."""
    first = request.headers.get("accept-language", "").split(",")[0].split(";")[0].strip()
    return normalize_locale(first, default="") if first != "*" else ""


def routes(container: PageContainer) -> list[Route]:
    """The link pages, for ``app.web.create_app``."""
    return InvitationPages(container).routes()


def home_route(container: PageContainer) -> Route:
    """``/``: a short page on what Tautan is."""
    return Route("/", InvitationPages(container).home, methods=["GET", "HEAD"], name="home")


def not_found_handler(container: PageContainer) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The 404 handler for ``Starlette(exception_handlers=...)``."""
    return InvitationPages(container).not_found


def csrf_cookie(invitation_id: int | str) -> str:
    # One cookie per invitation, so a supplier can have several invitations open at once.
    return f"csrf_{invitation_id}"


def actor(view: InvitationView) -> str:
    return f"email:{view.email}"


def invitation_state(view: InvitationView, now: dt.datetime) -> str:
    """``live``, ``expired``, or the answer (``accepted``, ``declined``, ``cancelled``).

    An undeliverable invitation counts as live here: whoever opened the link evidently got it."""
    if view.status in ANSWERED:
        return view.status
    if view.status == InvitationStatus.EXPIRED or now >= view.expires_at:
        return "expired"
    return "live"


def type_list(t: Translator, types: Any) -> str:
    return t.list(t(DOCUMENT_TYPE_LABELS[code].message_id) if code in DOCUMENT_TYPE_LABELS else code
                  for code in types)


def facts(t: Translator, view: InvitationView) -> dict[str, Any]:
    """The invitation's details, formatted for the reader."""
    status = InvitationStatus(view.status)
    shown = InvitationStatus.PENDING if status == InvitationStatus.UNDELIVERABLE else status
    return {
        "types": type_list(t, view.types),
        "status_label": t(INVITATION_STATUS_LABELS[shown].message_id),
        "expires_on": t.date(view.expires_at),
        "closed_on": t.date(view.closed_at) if view.closed_at else None,
        "inviter_line": inviter_line(t, view),
    }
