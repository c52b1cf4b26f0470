"""Sign-up pages: the directory of listed customers and a join page per customer and unit.

``GET /join`` searches the customers that chose to be listed (an empty search lists nobody).
``GET /join/<customer>[/<unit>]`` says who the customer is and offers the request form; its POST
(CSRF, rate limits per address, per domain and per client) sends a signed link to the address
typed and nothing else: double opt-in. ``GET /j/<signed>`` shows what will be asked and changes
nothing (mail scanners open links); its POST, with CSRF, makes the request. The supplier company
behind it is decided by the engine's rules, never by the name typed (no impersonation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tautan.core import inbox, services
from tautan.core.errors import InvalidInput
from tautan.core.freemail import domain_of
from tautan.core.i18n import N_, Translator
from tautan.core.views import DOCUMENT_TYPE_LABELS
from tautan.mail.links import REQUEST_LINK_TTL, join_url, request_address, sign, unsign
from tautan.mail.pages import InvitationPages, PageContainer, Refused, bad_link, page, type_list

JOIN_REQUEST = "tautan.join-request"
CLIENT_KEY = "tautan.join-client"
MAX_JOIN_TOKEN = 2048
DAY = dt.timedelta(days=1)


class JoinPages(InvitationPages):
    COOKIE_PATHS: Mapping[str, str] = {**InvitationPages.COOKIE_PATHS, "join_page": "/join", "join_confirm": "/j/"}
    # Confirmations a day: per address, per domain (a whole company), per client network address.
    per_address = 3
    per_domain = 20
    per_client = 10

    def __init__(self, container: PageContainer) -> None:
        super().__init__(container)

    def routes(self) -> list[Route]:
        return [
            Route("/join", self.directory, methods=["GET"], name="join_directory"),
            Route("/join/{customer}", self.join, methods=["GET", "POST"], name="join_page"),
            Route("/join/{customer}/{unit}", self.join, methods=["GET", "POST"], name="join_unit_page"),
            Route("/j/{token}", self.confirm, methods=["GET", "POST"], name="join_confirm"),
        ]

    # --- the directory ------------------------------------------------------------------------

    @page
    async def directory(self, request: Request) -> Response:
        t = self.translator(request)
        query = request.query_params.get("q", "")[:200].strip()
        found = await self.run(services.directory, query=query) if query else []
        return self.render(request, t, "join/directory.html", link=None, route="join_directory", query=query,
                           found=found, searched=bool(query))

    # --- the join page and its form -----------------------------------------------------------

    @page
    async def join(self, request: Request) -> Response:
        request.state.route = "join_page"
        target = await self.run(services.join_target, customer_slug=request.path_params["customer"][:80],
                                unit_slug=(request.path_params.get("unit") or "")[:80] or None)
        request.state.fallback_lang = target.locale
        t = self.translator(request)
        key = f"join{target.id}"
        values = {"supplier_name": "", "email": "", "contact": "", "tax_id": "", "peppol_id": "",
                  "types": ["invoice"], "consent": False}
        if request.method in ("GET", "HEAD"):
            return self.join_form(request, t, target, key, values)
        form = await self.form(request)
        self.check_csrf_for(request, form, key)
        values = read_form(form)
        problem, details = self.check(t, target, values)
        if problem:
            return self.join_form(request, t, target, key, values, problem=problem, status=400)
        email = details["email"]
        client = self.client_key(request)
        kinds = ["request_confirm"]
        if (await self.run(inbox.answers_sent, recipient=email, kinds=kinds, since=DAY) >= self.per_address
                or await self.run(inbox.answers_sent, domain=domain_of(email), kinds=kinds,
                                  since=DAY) >= self.per_domain
                or await self.run(services.confirmations_from, client=client, since=DAY) >= self.per_client):
            raise Refused(429, N_("Too many requests"),
                          N_("We have sent several confirmation links for this address already today. Please use "
                             "the last one, or try again tomorrow."))
        issued = int(self.container.clock().timestamp())
        token = sign(self.container.settings.secret_keys, JOIN_REQUEST,
                     [target.id, email, issued, details["supplier_name"], details["types"], details["contact"],
                      details["tax_id"], details["peppol_id"]])
        link = f"{self.container.settings.public_base_url.rstrip('/')}/j/{token}"
        await self.run(services.answer, recipient=email, kind="request_confirm", lang=t.locale,
                       customer=target.display_name, link=link, valid_days=REQUEST_LINK_TTL.days,
                       original_subject="", in_reply_to="", client=client)
        return self.render(request, t, "join/sent.html", link=None, route=None, customer=target.display_name,
                           email=email, valid_days=REQUEST_LINK_TTL.days)

    def join_form(self, request: Request, t: Translator, target: services.JoinTarget, key: str,
                  values: Mapping[str, Any], *, problem: str | None = None, status: int = 200) -> Response:
        settings = self.container.settings
        return self.render(
            request, t, "join/form.html", link=None, route="join_page", csrf_for=key, here=request.url.path,
            status=status, target=target, values=values, problem=problem,
            all_types=[(code, t(label.message_id)) for code, label in DOCUMENT_TYPE_LABELS.items()],
            offered=type_list(t, target.types), terms=texts_in(target.texts.get("terms"), t.locale),
            privacy=texts_in(target.texts.get("privacy"), t.locale),
            join_address=join_url(settings.public_base_url, target.customer_slug, target.unit_slug),
            request_address=request_address(target.request_slug, settings.mail_domain))

    def check(self, t: Translator, target: services.JoinTarget,
              values: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
        """The first problem with the form, in the reader's language, or the cleaned details."""
        details: dict[str, Any] = {}
        name = " ".join(str(values["supplier_name"]).split())
        if not name or len(name) > services.MAX_NAME_LENGTH:
            return t("Please give your company's name (at most {max} characters).",
                     max=services.MAX_NAME_LENGTH), details
        details["supplier_name"] = name
        try:
            details["email"] = services.normalize_email(str(values["email"]))
            contact = str(values["contact"]).strip()
            details["contact"] = services.normalize_email(contact) if contact else None
            details["tax_id"] = services.clean_tax_id("ID", values["tax_id"]) if values["tax_id"] else None
            details["peppol_id"] = services.clean_peppol_id(values["peppol_id"]) if values["peppol_id"] else None
        except InvalidInput as error:
            return t.error(error), details
        types = [code for code in values["types"] if code in target.types]
        if not types:
            return t("Choose at least one document type."), details
        details["types"] = types
        contact = details["contact"]
        if contact and contact not in target.known_contacts and domain_of(contact) not in target.domains:
            return t("We do not know {email} at {customer}. Leave the field empty, or give the address of "
                     "someone you deal with there.", email=contact, customer=target.display_name), details
        if not values["consent"]:
            return t("Please accept the terms and the privacy notice to send the request."), details
        return None, details

    def client_key(self, request: Request) -> str:
        """A keyed digest of the client's address: enough to count, nothing to leak in a database."""
        host = request.client.host if request.client else "unknown"
        secret = self.container.settings.secret_keys[0].encode()
        return hmac.new(secret, f"{CLIENT_KEY}:{host}".encode(), hashlib.sha256).hexdigest()[:32]

    # --- the confirmation link ----------------------------------------------------------------

    @page
    async def confirm(self, request: Request) -> Response:
        request.state.route = "join_confirm"
        token = request.path_params["token"]
        payload = unsign(self.container.settings.secret_keys, JOIN_REQUEST, token) \
            if len(token) <= MAX_JOIN_TOKEN else None
        if not (isinstance(payload, list) and len(payload) == 8 and type(payload[0]) is int
                and isinstance(payload[1], str) and type(payload[2]) is int and isinstance(payload[3], str)
                and isinstance(payload[4], list)):
            raise bad_link()
        customer_id, email, issued, supplier_name, types, contact, tax_id, peppol_id = payload
        if self.container.clock() - dt.datetime.fromtimestamp(issued, dt.timezone.utc) > REQUEST_LINK_TTL:
            raise Refused(410, N_("This link has expired"),
                          N_("Please fill in the form on the join page again to get a new link."))
        customer = await self.run(services.get_company, ref=customer_id)
        request.state.fallback_lang = customer.locale
        t = self.translator(request)
        key = f"j{customer_id}"
        context = dict(customer=customer.display_name, email=email, supplier_name=supplier_name,
                       types=type_list(t, types), contact=contact)
        if request.method in ("GET", "HEAD"):
            return self.render(request, t, "join/confirm.html", link=None, route="join_confirm", csrf_for=key,
                               here=request.url.path, **context)
        form = await self.form(request)
        self.check_csrf_for(request, form, key)
        views = await self.run(services.request_by_email, email=email, customer=customer_id, types=types,
                               supplier_name=supplier_name, contact=contact, actor=f"email:{email}", via="link")
        if views and (tax_id or peppol_id):
            try:
                await self.run(services.set_supplier_identity, supplier=views[0].supplier_id, tax_id=tax_id,
                               peppol_id=peppol_id, customer=customer_id, actor=f"email:{email}", via="link")
            except InvalidInput:  # the company has other details on record: the request stands, they are kept
                pass
        return self.render(request, t, "request_sent.html", link=None, route=None, here=request.url.path,
                           customer=customer.display_name, email=email, types=type_list(t, types))


def read_form(form: FormData) -> dict[str, Any]:
    def field(name: str, limit: int = 320) -> str:
        value = form.get(name, "")
        return value.strip()[:limit] if isinstance(value, str) else ""

    return {"supplier_name": field("supplier_name", 400), "email": field("email"), "contact": field("contact"),
            "tax_id": field("tax_id", 40), "peppol_id": field("peppol_id", 100),
            "types": [str(v) for v in form.getlist("types")][:10], "consent": form.get("consent") == "yes"}


def texts_in(texts: Mapping[str, str] | None, locale: str) -> str | None:
    """A customer's own text in the reader's language, else in its other language."""
    if not texts:
        return None
    return texts.get(locale) or next(iter(texts.values()), None)


def routes(container: PageContainer) -> list[Route]:
    """The sign-up pages, for ``app.web.create_app``."""
    return JoinPages(container).routes()
