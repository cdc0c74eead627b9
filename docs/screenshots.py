"""README's pictures of the app: `make screenshots` writes docs/screens/NAME.svg.

Each picture is one case of tests/screen_cases.py (the same fixed store and keys as
the snapshot tests), taken at 120x32, so what README shows is what the tests hold.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from screen_cases import CASES, Case, build_store, reach, steady_cursor  # noqa: E402

from tui.app import CustdeskApp  # noqa: E402

SIZE = (120, 32)
# The pictures README shows, in its order.
SHOWN = ("customers", "detail_orders", "customer_form_errors", "sources", "import_review", "merge", "mail", "help")


async def shoot(case: Case, workdir: Path, out: Path) -> Path:
    store = build_store(workdir / f"{case.name}.json", workdir)
    try:
        app = CustdeskApp(store)
        with steady_cursor():
            async with app.run_test(size=SIZE) as pilot:
                await reach(pilot, case)
                return Path(app.save_screenshot(filename=f"{case.name}.svg", path=str(out)))
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["TZ"] = "UTC"  # the fixed store's times read the same everywhere
    time.tzset()
    cases = {case.name: case for case in CASES}
    with tempfile.TemporaryDirectory() as workdir:
        os.chdir(workdir)  # the import cases read leads.csv from here
        for name in SHOWN:
            print(asyncio.run(shoot(cases[name], Path(workdir), args.out.resolve())))


if __name__ == "__main__":
    main()
