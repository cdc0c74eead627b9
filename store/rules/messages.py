"""Email and SMS templates: checked when saved, rendered in Jinja2's sandbox.

A template sees one variable, `customer`, with the fields in PLACEHOLDERS.
Every part is parsed and rendered against a sample customer when it is
saved, so an unknown placeholder or a reach for Python internals
(`{{ ''.__class__ }}`) is refused then, not half-way through a campaign.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, get_args

from jinja2 import StrictUndefined, Template, TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from store.base.errors import RuleViolation
from store.model import Channel, display_name

CHANNELS: tuple[Channel, ...] = get_args(Channel)
PLACEHOLDERS = ("name", "first_name", "last_name", "company", "email", "phone", "mobile", "street", "postcode",
                "city", "country", "number", "kind", "vat_id", "tags")
PARTS = ("subject", "body", "html")
SMS_MAX = 1600  # ten SMS segments; longer is a letter, not a text message


class TemplateRefused(RuleViolation):
    """A template that cannot be saved or rendered; the message names the part."""


MAX_OUTPUT = 1_000_000  # characters a part may render to: a letter, not a flood
MAX_RANGE = 1000  # what range() may count to in a template
# A message template stands alone and renders in bounded time: no other templates
# (there is no loader to reach them), no macros or call blocks (recursion), and loops
# one level deep over a bounded range or a customer's field.
_REFUSED_NODES = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "import",
                  nodes.Extends: "extends", nodes.Macro: "macro", nodes.CallBlock: "call"}


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateRefused(f"range() counts to at most {MAX_RANGE:,} in a template")
    return numbers


@lru_cache(maxsize=2)
def _environment(html: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=html, keep_trailing_newline=True, loader=None)
    env.globals["range"] = _bounded_range
    return env


def _render_part(part: str, source: str, values: dict[str, Any]) -> str:
    """One part rendered, its output bounded; any failure is a TemplateRefused naming the part."""
    try:
        pieces, size = [], 0
        for piece in _compiled(part == "html", source).generate(values):
            size += len(piece)
            if size > MAX_OUTPUT:
                raise TemplateRefused(f"{part}: renders to more than {MAX_OUTPUT:,} characters")
            pieces.append(piece)
        return "".join(pieces)
    except TemplateRefused as err:
        raise TemplateRefused(f"{part}: {err}" if not str(err).startswith(f"{part}:") else str(err)) from None
    except TemplateError as err:  # SecurityError and UndefinedError are TemplateErrors
        raise TemplateRefused(f"{part}: {err}") from None
    except Exception as err:  # 1/0, a filter given the wrong arguments, a recursion …: the template's fault
        raise TemplateRefused(f"{part}: {type(err).__name__}: {err}") from None


@lru_cache(maxsize=64)
def _compiled(html: bool, source: str) -> Template:
    # Compiling is ~0.5 ms; a campaign renders the same few sources for every customer.
    return _environment(html).from_string(source)


def context(customer: Mapping[str, Any]) -> dict[str, Any]:
    """What `{{ customer.… }}` can read: every placeholder, empty when unknown."""
    values = {key: customer.get(key) or "" for key in PLACEHOLDERS}
    values["name"] = display_name(customer)
    values["tags"] = ", ".join(customer.get("tags") or [])
    return {"customer": values}


SAMPLE = context({key: f"sample {key}" for key in PLACEHOLDERS} | {"tags": ["sample"]})


def _check_part(part: str, source: str) -> None:
    env = _environment(part == "html")
    try:
        tree = env.parse(source)
    except TemplateError as err:
        raise TemplateRefused(f"{part}: line {getattr(err, 'lineno', '?')}: {err.message}") from None
    for node_type, what in _REFUSED_NODES.items():
        if any(True for _ in tree.find_all(node_type)):
            raise TemplateRefused(f"{part}: {{% {what} %}} is not allowed: a message template stands alone")
    if any(next(loop.find_all(nodes.For), None) is not None for loop in tree.find_all(nodes.For)):
        raise TemplateRefused(f"{part}: loops inside loops are not allowed")
    unknown = meta.find_undeclared_variables(tree) - {"customer", "range"}
    if unknown:
        raise TemplateRefused(f"{part}: unknown placeholder {{{{ {sorted(unknown)[0]} }}}}; use customer.<field>")
    used = [n.attr for n in tree.find_all(nodes.Getattr) if isinstance(n.node, nodes.Name) and n.node.name == "customer"]
    used += [n.arg.value for n in tree.find_all(nodes.Getitem)
             if isinstance(n.node, nodes.Name) and n.node.name == "customer" and isinstance(n.arg, nodes.Const)]
    for name in used:
        if name not in PLACEHOLDERS:
            raise TemplateRefused(f"{part}: unknown placeholder customer.{name} (known: {', '.join(PLACEHOLDERS)})")
    # The sandbox refuses these when they run; refused here, an untaken branch cannot hide one.
    private = [n.attr for n in tree.find_all(nodes.Getattr) if n.attr.startswith("_")]
    private += [n.arg.value for n in tree.find_all(nodes.Getitem)
                if isinstance(n.arg, nodes.Const) and isinstance(n.arg.value, str) and n.arg.value.startswith("_")]
    if private:
        raise TemplateRefused(f"{part}: '{private[0]}' is not a placeholder; templates cannot reach Python's internals")
    _render_part(part, source, SAMPLE)


def message_channel(text: str) -> Channel:
    """A template's channel, named as the user typed it."""
    for channel in CHANNELS:
        if text == channel:
            return channel
    raise TemplateRefused(f"channel must be email or sms, not '{text}'")


def check_template(name: str, channel_text: str, subject: str | None, body: str, html: str | None = None) -> dict[str, Any]:
    """The template document to store, or TemplateRefused naming what is wrong."""
    name = (name or "").strip()
    if not name:
        raise TemplateRefused("a template needs a name")
    channel = message_channel(channel_text)
    if not (body or "").strip():
        raise TemplateRefused("body: a template needs a body")
    if channel == "email" and not (subject or "").strip():
        raise TemplateRefused("subject: an email template needs a subject")
    if channel == "sms" and html:
        raise TemplateRefused("html: an SMS has no HTML part")
    doc = {"name": name, "channel": channel, "subject": (subject or "").strip() or None, "body": body,
           "html": html or None}
    for part in PARTS:
        source = doc[part]
        if source:
            _check_part(part, source)
    return doc


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str
    html: str | None


def render(template: Mapping[str, Any], customer: Mapping[str, Any]) -> Rendered:
    values = context(customer)

    def part(name: str) -> str | None:
        source = template.get(name)
        return _render_part(name, source, values) if source else None

    subject, body, html = part("subject"), part("body") or "", part("html")
    if subject:
        subject = " ".join(subject.split())  # a header is one line: a name's line break is a space
    if template["channel"] == "sms" and len(body) > SMS_MAX:
        raise TemplateRefused(f"the SMS for {customer.get('number')} is {len(body)} characters (at most {SMS_MAX})")
    return Rendered(subject, body, html)
