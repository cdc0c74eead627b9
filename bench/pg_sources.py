"""The source list of a team on PostgreSQL at scale (issue 31): a million prospects (the
import bench's file, `custdesk import` in a fresh process, timed) beside the ten million
customers `bench/pg_scale.py` builds, into a store the app has prepared (its searched
columns and indexes: `store.views.searched.prepare_server`); then the app in a real pty
(`bench/keystrokes.py`): `p`, the source list's first rows, search keystrokes there, the
app's memory. Afterwards the database is put back as it was (the prospects gone).

    python bench/pg_sources.py [--rows 1000000] [--customers 10000000] [TEXT…]   (make bench-sources)
"""
from __future__ import annotations

from keystrokes import measure
from pg_import import import_arguments, imported, put_back, saved_state, started

# Searches of the imported people: a surname, text across a space, a domain, a city.
TEXTS = ("müller", "b l", "@web.de", "köln")


def main() -> None:
    parser = import_arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("texts", nargs="*", default=list(TEXTS))
    args = parser.parse_args()
    server, url, path = started("pg_sources", args)
    try:
        from store.views.searched import prepare_server

        prepare_server(url)  # (as the app leaves the store it opened)
        saved = saved_state(url)
        try:
            seconds, peak, counts = imported(url, path)
            print(f"## {counts['created']:,} prospects beside {args.customers:,} customers on PostgreSQL\n")
            print(f"imported by `custdesk import`: {seconds:.1f} s, {peak:.0f} MB at its peak\n")
            measure(url, args.texts, args.repeat, "C-0", prospects="Origin")
        finally:
            put_back(url, saved)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
