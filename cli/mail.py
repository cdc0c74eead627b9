"""Email/SMS templates and campaigns."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast, get_args

import click

from cli.common import fail, open_store, read_utf8, reports_errors, say
from cli.summaries import campaign_lines
from store.base.text import path_text
from store.model import Channel

if TYPE_CHECKING:
    from outreach.sending import CampaignReport


@click.group()
def mail() -> None:
    """Email/SMS templates and bulk sending."""


@mail.group("templates")
def mail_templates() -> None:
    """Manage the message templates of the store."""


@mail_templates.command("list")
@click.pass_context
@reports_errors
def templates_list(ctx: click.Context) -> None:
    """List the templates."""
    for template in open_store(ctx).templates():
        say(f"{template['name']}  ({template['channel']})  {template.get('subject') or ''}")


@mail_templates.command("add")
@click.argument("name")
@click.option("--channel", type=click.Choice(get_args(Channel)), default="email", show_default=True)
@click.option("--subject", help="Subject line (email); placeholders allowed.")
@click.option("--body", "body_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="File with the plain-text body, e.g. 'Dear {{ customer.first_name }}, …'.")
@click.option("--html", "html_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File with an optional HTML part (email).")
@click.pass_context
@reports_errors
def templates_add(ctx: click.Context, name: str, channel: Channel, subject: str | None, body_file: Path,
                  html_file: Path | None) -> None:
    """Add (or replace) template NAME; refused if a placeholder is unknown."""
    html = read_utf8(html_file) if html_file else None
    saved = open_store(ctx).save_template(name, channel, subject, read_utf8(body_file), html)
    say(f"saved {saved['channel']} template '{saved['name']}'")


@mail_templates.command("show")
@click.argument("name")
@click.option("--customer", "number", help="Render it for this customer number.")
@click.pass_context
@reports_errors
def templates_show(ctx: click.Context, name: str, number: str | None) -> None:
    """Show template NAME, or the message it makes for one customer."""
    from store.rules.messages import render

    store = open_store(ctx)
    template = store.template(name)
    if number:
        found = store.find("customers", "number", number)
        if not found:
            fail(f"no customer numbered {number}")
        rendered = render(template, found[0])
        say(f"Subject: {rendered.subject or ''}\n\n{rendered.body}", lines=True)
        return
    say(f"{template['name']} ({template['channel']})\nSubject: {template.get('subject') or ''}\n\n{template['body']}", lines=True)


@mail_templates.command("remove")
@click.argument("name")
@click.pass_context
@reports_errors
def templates_remove(ctx: click.Context, name: str) -> None:
    """Remove template NAME."""
    open_store(ctx).remove_template(name)
    say(f"removed template '{name}'")


@mail.command("send")
@click.option("--template", "template_name", help="The template to send.")
@click.option("--tag", help="Only customers with this tag.")
@click.option("--kind", type=click.Choice(["corporate", "private"]), help="Only this kind of customer.")
@click.option("--active-only", is_flag=True, help="Leave inactive customers out of the campaign (they are skipped anyway).")
@click.option("--smtp", metavar="HOST:PORT", help="Send through this SMTP server.")
@click.option("--starttls/--no-starttls", default=None, help="STARTTLS with the SMTP server (default: on port 587).")
@click.option("--user", help="SMTP user (default: CUSTDESK_SMTP_USER); the password comes from CUSTDESK_SMTP_PASSWORD.")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), help="Write the messages as files here.")
@click.option("--resume", "campaign_id", type=int, help="Go on with an interrupted campaign: only the customers not reached.")
@click.option("--dry-run", is_flag=True, help="Render every message and report; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_context
@reports_errors
def mail_send(ctx: click.Context, template_name: str | None, tag: str | None, kind: str | None, active_only: bool,
              smtp: str | None, starttls: bool | None, user: str | None, outbox: Path | None, campaign_id: int | None,
              dry_run: bool, as_json: bool) -> None:
    """Send a template to the chosen customers (a campaign), or resume one. A missing --outbox
    folder is created (a dry run says it would be), as the app's send does."""
    from outreach.sending import CampaignReport, outgoing, send_campaign
    from outreach.transports import Outbox, smtp_from_spec

    store = open_store(ctx)
    if not dry_run and (smtp is None) == (outbox is None):
        fail("choose one way out: --smtp HOST:PORT or --outbox DIR")
    if campaign_id is None:
        if not template_name:
            fail("say which --template to send (or --resume a campaign)")
        ids = store.audience(tag=tag, kind=kind, active_only=active_only)
    else:
        campaign = store.campaign(campaign_id)
        template_name, ids = campaign["template"], campaign["recipients"]
    if dry_run:
        outbox_exists = outbox is None or Outbox.check(outbox)
        report = CampaignReport(None)
        would_send = sum(1 for _ in outgoing(store, template_name, ids, report))
        say_dry_run(template_name, would_send, report.skipped, None if outbox_exists else outbox, as_json=as_json)
        return
    transport = (smtp_from_spec(smtp, starttls=starttls, user=user) if smtp is not None
                 else Outbox(cast(Path, outbox), create=True))
    if campaign_id is None:
        campaign_id = store.start_campaign(template_name, ids)["id"]
    report = send_campaign(store, campaign_id, transport)
    say_campaign(campaign_id, report, as_json=as_json)
    if report.stopped:
        say(f"custdesk: campaign #{campaign_id} stopped: {report.stopped}; "
                   f"go on with: custdesk mail send --resume {campaign_id} …", err=True)
        sys.exit(1)


def say_dry_run(template_name: str, would_send: int, skipped: list[dict[str, Any]], new_outbox: Path | None, *,
                as_json: bool) -> None:
    if as_json:
        say(json.dumps({"would_send": would_send, "skipped": skipped}))
        return
    say(f"would send {would_send} message(s) of template '{template_name}', skip {len(skipped)}")
    for line in campaign_lines(skipped, []):
        say(line)
    if new_outbox is not None:
        say(f"the outbox folder {path_text(new_outbox)} would be created")
    say("dry run: nothing was sent")


def say_campaign(campaign_id: int, report: CampaignReport, *, as_json: bool) -> None:
    if as_json:
        say(json.dumps({"campaign": campaign_id, **report.summary()}))
        return
    say(f"campaign #{campaign_id}: {report.sent} sent, {len(report.skipped)} skipped, {len(report.failed)} failed"
        + (f", {report.already} reached by an earlier run" if report.already else ""))
    for line in campaign_lines(report.skipped, report.failed):
        say(line)
