"""`custdesk serve`: the app in a browser and the customers' sign-up page (web/)."""
from __future__ import annotations

from pathlib import Path

import click

from cli.common import fail, open_store, reports_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (any other opens it to the network).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--public-url", metavar="URL", help="The address browsers use, behind a reverse proxy (https://crm.example.com).")
@click.option("--behind-proxy", is_flag=True, help="Rate-limit sign-ups by the proxy's own X-Forwarded-For entry (only behind a proxy).")
@click.option("--smtp", metavar="HOST:PORT", help="Send sign-up confirmations through this SMTP server.")
@click.option("--starttls/--no-starttls", default=None, help="STARTTLS with the SMTP server (default: on port 587).")
@click.option("--user", help="SMTP user (default: CUSTDESK_SMTP_USER); the password comes from CUSTDESK_SMTP_PASSWORD.")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path),
              help="Write sign-up confirmations as files here (made if missing).")
@click.pass_context
@reports_errors
def serve(ctx: click.Context, host: str, port: int, public_url: str | None, behind_proxy: bool, smtp: str | None,
          starttls: bool | None, user: str | None, outbox: Path | None) -> None:
    """Serve the app at /?token=… (printed at start on a terminal, else kept in a file only you can read;
    swapped for a cookie), the public sign-up page at /signup and the pages of links in mail
    (/unsubscribe/…, /confirm/…). With --smtp or --outbox a sign-up is mailed a link to confirm its address."""
    from outreach.transports import Outbox, smtp_from_spec
    from web.mailer import Mailer
    from web.server import CustdeskServer

    if smtp is not None and outbox is not None:
        fail("choose one way out for mail: --smtp HOST:PORT or --outbox DIR")
    mailer = (Mailer(smtp_from_spec(smtp, starttls=starttls, user=user), f"SMTP {smtp}") if smtp is not None
              else Mailer(Outbox(outbox, create=True), f"the outbox {outbox}") if outbox is not None else None)
    server = CustdeskServer(ctx.obj["db"], open_store(ctx), host=host, port=port, behind_proxy=behind_proxy,
                            public_url=public_url.rstrip("/") if public_url else None, mailer=mailer)
    server.serve()
