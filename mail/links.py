"""Signed, expiring links (itsdangerous): one salt per purpose, key rotation through the
comma-separated ``SECRET_KEY`` (the first key signs, every key verifies)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from itsdangerous import BadSignature, URLSafeSerializer

INVITATION_PAGE = "tautan.invitation-page"


def _serializer(secret_keys: Sequence[str], purpose: str) -> URLSafeSerializer:
    return _cached_serializer(tuple(secret_keys), purpose)


@functools.lru_cache(maxsize=64)  # built once per key set and purpose, not for every link of a batch
def _cached_serializer(secret_keys: tuple[str, ...], purpose: str) -> URLSafeSerializer:
    # itsdangerous signs with the last key of the list and verifies with all of them.
    return URLSafeSerializer(list(reversed(secret_keys)), salt=purpose)


def sign(secret_keys: Sequence[str], purpose: str, payload: object) -> str:
    return _serializer(secret_keys, purpose).dumps(payload)


def unsign(secret_keys: Sequence[str], purpose: str, token: str) -> object | None:
    """The payload, or ``None`` when the token was not signed by us for this purpose."""
    try:
        payload: object = _serializer(secret_keys, purpose).loads(token)
        return payload
    except BadSignature:
        return None


def invitation_url(base_url: str, secret_keys: Sequence[str], invitation_id: int, reply_token: str) -> str:
    """The invitation page's address. It binds the invitation to its reply token, so a link
    outlives no cancelled or re-issued invitation; expiry is the invitation's own."""
    token = sign(secret_keys, INVITATION_PAGE, [invitation_id, reply_token])
    return f"{base_url.rstrip('/')}/i/{token}"


def reply_address(reply_token: str, mail_domain: str) -> str:
    return f"connect+{reply_token}@{mail_domain}"


UNSUBSCRIBE = "tautan.unsubscribe"


def unsubscribe_url(base_url: str, secret_keys: Sequence[str], invitation_id: int, reply_token: str) -> str:
    """The List-Unsubscribe address: stops invitations from this invitation's customer."""
    token = sign(secret_keys, UNSUBSCRIBE, [invitation_id, reply_token])
    return f"{base_url.rstrip('/')}/u/{token}"


SUPPLIER_REQUEST = "tautan.supplier-request"
REQUEST_LINK_TTL = dt.timedelta(days=7)


def request_url(base_url: str, secret_keys: Sequence[str], customer_id: int, email: str, issued_at: int) -> str:
    """The double opt-in link for a supplier's request by email: only the mailbox that asked can
    open it, so a forged From: achieves nothing. It carries when it was issued (seconds since the
    epoch); the page decides whether it is still valid, with the application's clock."""
    token = sign(secret_keys, SUPPLIER_REQUEST, [customer_id, email, issued_at])
    return f"{base_url.rstrip('/')}/r/{token}"


SUPPLIER_SIGN_IN = "tautan.supplier-sign-in"
SUPPLIER_SESSION = "tautan.supplier-session"


def supplier_page_url(base_url: str) -> str:
    """The supplier page's sign-in form: where every email tells a supplier it can always come back."""
    return f"{base_url.rstrip('/')}/s"


def sign_in_url(base_url: str, secret_keys: Sequence[str], nonce: str) -> str:
    """The emailed sign-in link. The signature keeps guessed links out before the database is
    asked; the nonce makes it single-use and its row says when it was issued."""
    return f"{base_url.rstrip('/')}/s/{sign(secret_keys, SUPPLIER_SIGN_IN, nonce)}"


def join_url(base_url: str, customer_slug: str, unit_slug: str | None = None) -> str:
    """The public join page of a customer (or unit): not a secret, so not signed."""
    return f"{base_url.rstrip('/')}/join/{customer_slug}" + (f"/{unit_slug}" if unit_slug else "")


def request_address(slug: str, mail_domain: str) -> str:
    return f"request+{slug}@{mail_domain}"
