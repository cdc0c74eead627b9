"""A realistic demo store: customers from six countries with their history.

Faker is slow per call (tens of µs), so each locale's names, companies and
streets are drawn once into pools and combined with a seeded random; that
builds 100,000 customers in seconds while they still read like real ones.
"""
from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import product
from typing import Any

from faker import Faker
from stdnum import luhn

from store import Batch, Store
from store.base.bulk import Progress, counted, paused_gc
from store.model import RELATED_KINDS
from store.rules.phones import quick_e164
from store.rules.vat import clean_vat

POOL = 400
DEPARTMENT_NAMES = ("Sales", "Purchasing", "Accounting", "Logistics", "IT", "Marketing", "Customer Service")
ROLES = ("Buyer", "Managing Director", "Accountant", "Office Manager", "Head of Purchasing", "Sales Manager")
TAGS = ("wholesale", "retail", "vip", "newsletter", "reseller", "trade-fair-2026", "slow-payer")
ORDER_TITLES = ("Office chairs", "Spare parts", "Annual licence", "Printer toner", "Workwear",
                "Packaging material", "Coffee machines", "Laptops", "Safety shoes", "Shelving")
TICKET_TITLES = ("Delivery late", "Wrong item received", "Invoice question", "Login problem",
                 "Damaged parcel", "Change of address", "Warranty claim")
TASK_TITLES = ("Call back about offer", "Send price list", "Check credit limit", "Visit on site",
               "Renew contract", "Collect signed order")


@dataclass(frozen=True)
class Locale:
    code: str
    country: str
    mail_domains: tuple[str, ...]
    phone_prefixes: tuple[tuple[str, int], ...]  # (prefix, how many digits follow it)
    vat_form: str | None  # a VAT id's shape (`checked_vat`), None: its companies give none


LOCALES = (
    Locale("de_DE", "DE", ("web.de", "gmx.de", "t-online.de", "gmail.com"),
           (("+4930", 8), ("+4989", 8), ("+49151", 8), ("+49176", 8)), "DE########?"),
    Locale("tr_TR", "TR", ("gmail.com", "hotmail.com", "yandex.com.tr"),
           (("+90212", 7), ("+90532", 7), ("+90542", 7), ("+90312", 7)), "TR#########?"),
    Locale("en_US", "US", ("gmail.com", "yahoo.com", "outlook.com"),
           (("+1212", 7), ("+1415", 7), ("+1312", 7), ("+1617", 7)), None),
    Locale("en_GB", "GB", ("gmail.com", "btinternet.com", "outlook.com"), (("+44207", 7), ("+447700", 6), ("+44161", 7)), "GB#######??"),
    Locale("fr_FR", "FR", ("orange.fr", "free.fr", "gmail.com"), (("+331", 8), ("+336", 8), ("+337", 8)), "FR??########*"),
    Locale("nl_NL", "NL", ("ziggo.nl", "kpnmail.nl", "gmail.com"), (("+3120", 7), ("+316", 8)), "NL########?B01"),
)
WEIGHTS = (30, 20, 20, 12, 10, 8)


def _ascii(text: str) -> str:
    text = text.replace("ı", "i").replace("ß", "ss")
    kept = "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and (c.isalnum() or c in ".-"))
    return re.sub(r"\.{2,}", ".", kept).strip(".-")


class _Pools:
    def __init__(self, locale: Locale, seed: int) -> None:
        fake = Faker(locale.code)
        fake.seed_instance(seed)
        self.locale = locale
        self.first = [fake.first_name() for _ in range(POOL)]
        self.last = [fake.last_name() for _ in range(POOL)]
        self.company = [fake.company() for _ in range(POOL)]
        self.street = [fake.street_address() for _ in range(POOL)]
        self.city = [(fake.postcode(), fake.city()) for _ in range(POOL)]


class DemoBuilder:
    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.pools = [_Pools(loc, seed + i) for i, loc in enumerate(LOCALES)]
        self.today = date(2026, 11, 1)

    def _pool(self) -> _Pools:
        return self.rng.choices(self.pools, WEIGHTS)[0]

    def _phone(self, loc: Locale) -> str:
        """A number valid for the locale's country (a random one may not be: US exchanges never start with 0 or 1)."""
        while True:
            prefix, digits = self.rng.choice(loc.phone_prefixes)
            number = prefix + str(self.rng.randrange(10 ** digits)).zfill(digits)
            if quick_e164(number, None) == number:
                return number

    def _vat(self, loc: Locale) -> str | None:
        if loc.vat_form is None:
            return None
        # One draw of the builder's random, as many as before, so the rest of a demo store stays as it was.
        return checked_vat(loc.vat_form, self.rng.randrange(10 ** sum(c in "#?*" for c in loc.vat_form)))

    def _day(self, max_days_ago: int) -> str:
        return (self.today - timedelta(days=self.rng.randrange(max_days_ago))).isoformat()

    def _address(self, pools: _Pools) -> dict[str, Any]:
        postcode, city = self.rng.choice(pools.city)
        return {"street": self.rng.choice(pools.street), "postcode": postcode, "city": city,
                "country": pools.locale.country}

    def person(self, n: int) -> tuple[dict[str, Any], _Pools]:
        pools = self._pool()
        first, last = self.rng.choice(pools.first), self.rng.choice(pools.last)
        local = _ascii(f"{first}.{last}".lower())
        record = {
            "first_name": first,
            "last_name": last,
            "email": f"{local}{n}@{self.rng.choice(pools.locale.mail_domains)}",
            "phone": self._phone(pools.locale),
            **self._address(pools),
        }
        return record, pools

    def customer(self, n: int, corporate: bool) -> dict[str, Any]:
        record, pools = self.person(n)
        active = self.rng.random() < 0.9
        record.update({
            "tags": self.rng.sample(TAGS, self.rng.choice((0, 0, 1, 1, 2))),
            "obfuscate_enabled": self.rng.random() < 0.8,
            "active": active,
            "created_at": self._day(2000) + "T09:00:00+00:00",
        })
        if not active:
            record["deactivated_at"] = self._day(900) + "T17:00:00+00:00"
        if self.rng.random() < 0.15:
            record["mobile"] = self._phone(pools.locale)
        if self.rng.random() < 0.05:
            record["notes"] = self.rng.choice(("Prefers email.", "Call only mornings.", "Met at trade fair.",
                                               "Pays by bank transfer.", "Second delivery address on file."))
        children: dict[str, list[dict[str, Any]]] = {}
        if corporate:
            company = self.rng.choice(pools.company)
            domain = _ascii(company.split()[0].lower().strip(",")) or "firma"
            record.update({"company": company, "vat_id": self._vat(pools.locale),
                           "email": f"info{n}@{domain}.example"})
            children["departments"] = self._departments(pools, domain, n)
            children["contacts"] = self._contacts(pools, domain, n)
        if self.rng.random() < 0.3:
            children.update(self._history(active))
        record["children"] = children
        return record

    def _departments(self, pools: _Pools, domain: str, n: int) -> list[dict[str, Any]]:
        hq = {"name": "Headquarters", "headquarters": True, "email": f"office{n}@{domain}.example",
              "phone": self._phone(pools.locale), **self._address(pools)}
        others = [{"name": name, "headquarters": False, "email": f"{name.lower().replace(' ', '')}{n}@{domain}.example",
                   "phone": self._phone(pools.locale), **self._address(pools)}
                  for name in self.rng.sample(DEPARTMENT_NAMES, self.rng.randrange(0, 3))]
        return [hq, *others]

    def _contacts(self, pools: _Pools, domain: str, n: int) -> list[dict[str, Any]]:
        contacts = []
        for i in range(self.rng.randrange(1, 4)):
            first, last = self.rng.choice(pools.first), self.rng.choice(pools.last)
            contacts.append({"first_name": first, "last_name": last, "role": self.rng.choice(ROLES),
                             "email": f"{_ascii(first.lower())}.{_ascii(last.lower())}{n}{i}@{domain}.example",
                             "phone": self._phone(pools.locale), "department_id": None})
        return contacts

    def _related(self, kind: str, title: str, amount: float | None, settled: bool, days: int) -> dict[str, Any]:
        related = RELATED_KINDS[kind]
        closed = [s for s in related.statuses if s not in related.open_statuses]
        status = self.rng.choice(closed if settled else sorted(related.open_statuses))
        return {"date": self._day(days), "status": status, "title": title, "amount": amount}

    def _history(self, active: bool) -> dict[str, list[dict[str, Any]]]:
        rng = self.rng
        # Inactive customers have only settled business: nothing open blocks them.

        def settled() -> bool:
            return not active or rng.random() < 0.7

        orders = [self._related("orders", rng.choice(ORDER_TITLES), round(rng.uniform(20, 9000), 2), settled(), 1500)
                  for _ in range(rng.randrange(1, 4))]
        history = {
            "orders": orders,
            "invoices": [self._related("invoices", f"Invoice for {o['title']}", o["amount"], settled(), 1500) for o in orders],
            "offers": [self._related("offers", rng.choice(ORDER_TITLES), round(rng.uniform(100, 20000), 2), settled(), 700)
                       for _ in range(rng.randrange(0, 2))],
            "tickets": [self._related("tickets", rng.choice(TICKET_TITLES), None, settled(), 400) for _ in range(rng.randrange(0, 2))],
            "tasks": [self._related("tasks", rng.choice(TASK_TITLES), None, settled(), 120) for _ in range(rng.randrange(0, 3))],
            "conversations": [{"at": self._day(600) + "T10:30:00+00:00", "channel": rng.choice(("email", "call", "chat")),
                               "direction": rng.choice(("in", "out")), "subject": rng.choice(TICKET_TITLES), "body": None}
                              for _ in range(rng.randrange(0, 3))],
        }
        if rng.random() < 0.1:
            history["returns"] = [self._related("returns", f"Return of {orders[0]['title']}", orders[0]["amount"], True, 900)]
        return history

    def prospect(self, n: int, row: int) -> dict[str, Any]:
        record, pools = self.person(n)
        if self.rng.random() < 0.5:
            record["company"] = self.rng.choice(pools.company)
        raw = {"Name": f"{record['first_name']} {record['last_name']}", "E-Mail": record["email"],
               "Phone": record["phone"], "Company": record.get("company") or "", "City": record["city"]}
        record.update({"origin": {"file": "leads-2026-10.xlsx", "sheet": "Leads", "row": row}, "raw": raw})
        return record


DRAWS = 50  # (a form no check digit makes valid, e.g. a mistyped one, is said, not looped on)


def checked_vat(form: str, seed: int) -> str:
    """A VAT id of `form` that python-stdnum finds valid: each `#` a digit drawn from `seed`,
    `*` the Luhn check digit of the digits drawn (France's SIREN), the `?`s the first check
    digits that make it valid (digits drawn again when none do, a few times); other characters as written."""
    rng = random.Random(seed)
    checks = [i for i, c in enumerate(form) if c == "?"]
    for _ in range(DRAWS):
        chars = [str(rng.randrange(10)) if c == "#" else c for c in form]
        drawn = "".join(c for c, shape in zip(chars, form, strict=True) if shape == "#")
        chars = [luhn.calc_check_digit(drawn) if c == "*" else c for c in chars]
        for digits in product("0123456789", repeat=len(checks)):
            for i, digit in zip(checks, digits, strict=True):
                chars[i] = digit
            vat = "".join(chars)
            if clean_vat(vat, None).problem is None:
                return vat
    raise ValueError(f"no valid VAT id of the form {form} in {DRAWS} draws")


def build_demo(store: Store, customers: int = 2000, seed: int = 7, progress: Progress | None = None) -> dict[str, Any]:
    """Fill a new store with `customers` demo customers and a tenth as many prospects
    (refused by the store when it holds any customer or prospect); `progress` is told
    how far the building and then each batch's saving is."""
    builder = DemoBuilder(seed)
    corporate: list[dict[str, Any]] = []
    private: list[dict[str, Any]] = []
    with paused_gc():
        for n in counted(range(1, customers + 1), "building customers", progress):
            is_corporate = builder.rng.random() < 0.3
            (corporate if is_corporate else private).append(builder.customer(n, is_corporate))
        prospects = [builder.prospect(customers + i, i + 1) for i in range(max(1, customers // 10))]
    first = True
    for target, records in (("corporate", corporate), ("private", private), ("sources", prospects)):
        if records:
            _save(store, Batch(target, creates=records, action="demo", into_empty_store=first,
                               summary=f"Demo data: {len(records)} {target}"), f"saving {SAVED[target]}", progress)
            first = False
    return store.stats()


SAVED = {"corporate": "corporate customers", "private": "private customers", "sources": "prospects"}


def _save(store: Store, batch: Batch, what: str, progress: Progress | None) -> None:
    """One batch saved, `progress` told as `what` from its start (its records checked
    first, which tells nothing) to its end (the batch tells every 2,000 records)."""
    if progress is None:
        store.apply_batch(batch)
        return
    total = batch.create_count
    progress(what, 0, total)
    store.apply_batch(batch, progress=lambda done, _total: progress(what, done, total))
    progress(what, total, total)
