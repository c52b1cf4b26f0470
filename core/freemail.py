"""Shared mail providers: domains where anybody can open a mailbox, so an address there says
nothing about which company its holder works for. Such a domain never verifies a supplier company
and never makes two addresses "the same party".

A built-in table rather than a downloaded list: no maintained list of these is packaged for our
index, and the providers our suppliers actually use change slowly. It covers the global webmail
services, the Indonesian ISPs' and portals' mailboxes, and the common privacy relays; an address
at a domain missing from it is treated as a company's own, which is the conservative side only
when a company's verified domain is compared with it exactly (as ``_supplier_for`` does)."""

from __future__ import annotations

FREE_MAIL_DOMAINS: frozenset[str] = frozenset({
    # global webmail
    "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "rocketmail.com", "yahoo.co.id", "yahoo.co.uk",
    "yahoo.co.jp", "yahoo.com.sg", "yahoo.com.my", "yahoo.com.au", "yahoo.fr", "yahoo.de", "outlook.com",
    "outlook.co.id", "hotmail.com", "hotmail.co.id", "hotmail.co.uk", "live.com", "live.co.uk", "msn.com",
    "windowslive.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com", "pm.me",
    "zoho.com", "zohomail.com", "gmx.com", "gmx.net", "gmx.de", "web.de", "mail.com", "email.com",
    "yandex.com", "yandex.ru", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "tutanota.com", "tuta.io",
    "fastmail.com", "hey.com", "qq.com", "163.com", "126.com", "sina.com", "naver.com", "daum.net",
    "rediffmail.com", "libero.it", "orange.fr", "laposte.net", "t-online.de", "seznam.cz",
    # Indonesian providers and portals
    "telkom.net", "plasa.com", "indosat.net.id", "cbn.net.id", "centrin.net.id", "rad.net.id",
    "indo.net.id", "biznetnetworks.com", "myrepublic.co.id", "kompas.com", "detik.com", "bolehmail.com",
    # privacy relays and throw-away inboxes
    "privaterelay.appleid.com", "duck.com", "mailinator.com", "guerrillamail.com", "10minutemail.com",
    "temp-mail.org", "yopmail.com", "sharklasers.com", "trashmail.com",
})


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].strip().lower().rstrip(".")


def is_free_mail(email_or_domain: str) -> bool:
    """Whether an address (or a bare domain) is at a shared mail provider."""
    domain = domain_of(email_or_domain) if "@" in email_or_domain else email_or_domain.strip().lower().rstrip(".")
    return domain in FREE_MAIL_DOMAINS
