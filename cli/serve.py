"""`custdesk serve`: the app in a browser and the customers' sign-up page (web/)."""
from __future__ import annotations

import click

from cli.common import open_store, reports_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (any other opens it to the network).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--public-url", metavar="URL", help="The address browsers use, behind a reverse proxy (https://crm.example.com).")
@click.option("--behind-proxy", is_flag=True, help="Rate-limit sign-ups by the proxy's own X-Forwarded-For entry (only behind a proxy).")
@click.pass_context
@reports_errors
def serve(ctx: click.Context, host: str, port: int, public_url: str | None, behind_proxy: bool) -> None:
    """Serve the app at /?token=… (printed at start on a terminal, else kept in a file only you can read;
    swapped for a cookie) and the public sign-up page at /signup."""
    from web.server import CustdeskServer

    server = CustdeskServer(ctx.obj["db"], open_store(ctx), host=host, port=port, behind_proxy=behind_proxy,
                            public_url=public_url.rstrip("/") if public_url else None)
    server.serve()
