"""``tautan demo``: one whole flow on the embedded default, for a newcomer to watch and try."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from tautan.core import services
from tautan.core.errors import NotFound
from tautan.core.i18n import N_, Translator, translator
from tautan.core.model import Role, Status
from tautan.core.transitions import STATUS_LABELS
from tautan.core.views import DOCUMENT_TYPE_LABELS
from tautan.db import upgrade
from tautan.mail.links import invitation_url, reply_address
from tautan.mail.transport import MaildirTransport
from tautan.wiring import Container
from tautan.worker import Worker

DEMO_CUSTOMER = "PT Contoh Pembeli"
DEMO_UNIT = "Keuangan"
DEMO_SUPPLIER = "PT Maju Jaya"
DEMO_LANG = "id"  # the invitation is Indonesian whatever language the operator reads
ACTOR = "cli:demo"


def run_demo(container: Container, t: Translator, *, serve: bool = True) -> None:
    settings = container.settings
    upgrade(settings.database_url)
    uow = container.uow
    total = 4
    step = _stepper(t, total=total)

    step(t("A customer company and one of its units"))
    try:
        customer = services.get_company(uow(), DEMO_CUSTOMER)
    except NotFound:
        customer = services.create_company(uow(), name=DEMO_CUSTOMER, roles=[Role.CUSTOMER], locale="id",
                                           actor=ACTOR, via="cli")
        services.create_company(uow(), name=DEMO_UNIT, parent=DEMO_CUSTOMER, actor=ACTOR, via="cli")
    click.echo("  " + t("{customer}, unit {unit}", customer=customer.name, unit=DEMO_UNIT))

    # Each run invites a new supplier contact, so the demo can be run again and again.
    run = services.search(uow(), company=DEMO_CUSTOMER, unit=DEMO_UNIT, per_page=1).total // 2 + 1
    email = f"ana{run}@pt-maju-jaya.example"

    step(t("The unit invites a supplier for orders and invoices"))
    invitation = services.invite(uow(), customer=DEMO_CUSTOMER, unit=DEMO_UNIT, email=email,
                                 types=["order", "invoice"], supplier_name=f"{DEMO_SUPPLIER} {run}", lang=DEMO_LANG,
                                 # The supplier reads the message: in the invitation's language, not the operator's.
                                 message=translator(DEMO_LANG)(
                                     N_("We would like to receive your invoices electronically.")),
                                 actor=ACTOR, via="cli")
    link = invitation_url(settings.public_base_url, settings.secret_keys, invitation.id, invitation.reply_token)
    click.echo("  " + t("Invitation {id} to {email}, in Indonesian, expires {date}.", id=invitation.id,
                        email=email, date=t.date(invitation.expires_at)))
    click.echo("  " + t("Reply-To: {address}", address=reply_address(invitation.reply_token, settings.mail_domain)))

    step(t("The worker sends the invitation email"))
    worker = Worker.from_container(container)
    worker.run_once()
    if isinstance(worker.transport, MaildirTransport):
        click.echo("  " + t("The email is in the local maildir: {path}", path=_newest(worker.transport.path)))
    else:
        click.echo("  " + t("The email went to the relay {relay}.", relay=worker.transport.description))

    if serve:
        from tautan.serve import run_all

        step(t("Open the invitation as the supplier would"))
        click.echo("  " + t("Link: {url}", url=link))
        run_all(container, host="127.0.0.1", port=settings.port, t=t)
        return

    step(t("The supplier accepts through the link"))
    accepted = services.accept(uow(), invitation_id=invitation.id, actor=f"email:{email}", via="link")
    for connection in accepted.connections:
        click.echo("  " + t("{type}: {status}", type=t(DOCUMENT_TYPE_LABELS[connection.type].message_id),
                            status=t(STATUS_LABELS[Status(connection.status)].message_id)))
    worker.run_once()
    from tautan.cli.output import event_line as _event_line

    click.echo("  " + t("History:"))
    for event in services.history(uow(), invitation_id=invitation.id):
        click.echo("    " + _event_line(t, event))
    click.echo()
    click.echo(t("Done. See it again with: tautan show {id}", id=invitation.id))


def _newest(maildir: Path) -> Path:
    files = sorted((maildir / "new").glob("*"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else maildir


def _stepper(t: Translator, total: int) -> Callable[[str], None]:
    count = 0

    def step(title: str) -> None:
        nonlocal count
        count += 1
        click.echo()
        click.secho(t("Step {n} of {total}: {title}", n=count, total=total, title=title), bold=True)

    return step
