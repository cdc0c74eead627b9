"""A campaign of 5,000 emails into an outbox folder, beside the stdlib writing the same files.

    python bench/send_bench.py [MESSAGES]   # default 5,000, from a demo store of MESSAGES * 1.3 customers

custdesk's figure is the whole send: render each customer's template, build the email
(From, Reply-To, Message-ID, List-Unsubscribe with a signed token), write it to a
temporary file, fsync it, rename it in place, and log the messages in the store a batch
at a time. The references, in the same run on the same bytes: the stdlib writing the
very files custdesk wrote with the same durability (temporary file, fsync, rename), and
with none (open, write, close). The last line is the send as it was before batching:
one store commit per message (a sample of 300, as that takes long).

Run it without PYTHONDONTWRITEBYTECODE (`env -u PYTHONDONTWRITEBYTECODE python …`): the
imports are then read from bytecode, as an installed custdesk does.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from unittest import mock

from common import clock

from importers.demo import build_demo
from outreach import sending
from outreach.sending import send_campaign
from outreach.transports import Outbox
from store import Store

BODY = "Dear {{ customer.first_name }},\n\nyour customer number is {{ customer.number }}.\nSee you soon!\n"


def campaign(store: Store, messages: int) -> int:
    """A campaign to the first `messages` customers who can get an email."""
    reachable, _ = store.recipients("email", store.audience(active_only=True))
    if len(reachable) < messages:
        sys.exit(f"only {len(reachable)} customers with an email address; ask for fewer messages")
    return int(store.start_campaign("welcome", [c["id"] for c in reachable[:messages]])["id"])


def stdlib_durable(files: dict[str, bytes], folder: Path) -> None:
    for name, data in files.items():
        tmp = folder / f".{name}.tmp"
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, folder / name)
        descriptor = os.open(folder, os.O_RDONLY)
        os.fsync(descriptor)
        os.close(descriptor)


def stdlib_plain(files: dict[str, bytes], folder: Path) -> None:
    for name, data in files.items():
        (folder / name).write_bytes(data)


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as work:
        root = Path(work)
        store = Store(root / "store" / "custdesk.json", user="bench")
        build_demo(store, customers=messages * 13 // 10, seed=7)
        store.save_template("welcome", "email", "Hello {{ customer.name }}", BODY)
        store.update_settings(mail_from="Engines GmbH <office@engines.de>", reply_to="help@engines.de",
                              public_url="https://crm.engines.de")
        print(f"store: {len(store.audience())} customers; {messages:,} messages into an outbox")

        outbox = root / "outbox"
        outbox.mkdir()
        report, seconds = clock(lambda: send_campaign(store, campaign(store, messages), Outbox(outbox)))
        assert report.sent == messages and not report.stopped, report.summary()
        print(f"custdesk mail send (batched log)        {seconds:6.2f} s  {messages / seconds:8,.0f} messages/s")

        files = {p.name: p.read_bytes() for p in outbox.iterdir()}
        for name, writer, folder in (("stdlib: same files, fsync + rename", stdlib_durable, root / "durable"),
                                     ("stdlib: same files, plain write", stdlib_plain, root / "plain")):
            folder.mkdir()
            _, spent = clock(lambda w=writer, f=folder: w(files, f))
            print(f"{name:<40}{spent:6.2f} s  {len(files) / spent:8,.0f} messages/s")

        sample = min(300, messages)
        before = root / "before"
        before.mkdir()
        with mock.patch.object(sending, "BATCH_MESSAGES", 1):
            report, spent = clock(lambda: send_campaign(store, campaign(store, sample), Outbox(before)))
        print(f"{'one store commit per message (before)':<40}{spent:6.2f} s  {sample / spent:8,.0f} messages/s"
              f"  ({sample} messages)")
        store.close()


if __name__ == "__main__":
    main()
