"""The store-wide flows: its settings (`comma`), and the obfuscation policy run (the palette)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work

from ..screens.modals import ConfirmScreen, PromptScreen, SettingsScreen, literal
from ..verbs import attempt, outcome, working_on
from . import GROUP

if TYPE_CHECKING:
    from ..app import CustdeskApp


@work(group=GROUP)
async def edit_settings(app: CustdeskApp) -> None:
    values = await app.push_screen_wait(SettingsScreen(app.store.settings))
    if values:
        attempt(app, app.store.update_settings, **values, success="Settings saved")


@work(group=GROUP)
async def obfuscation_policy(app: CustdeskApp) -> None:
    """The policy run: who is due, who is refused and why, then (after a yes) do it."""
    days = await app.push_screen_wait(PromptScreen("Obfuscate customers inactive for at least how many days?",
                                                   str(app.store.settings["obfuscation_retention_days"])))
    if days is None:
        return
    # (the store judges the days as typed)
    due = await outcome(app, app.store.obfuscate_inactive, days, dry_run=True)
    if due is None or not await app.push_screen_wait(ConfirmScreen(_policy_message(days, due))):
        return
    count = len(due["obfuscated"])
    done = await outcome(app, app.store.obfuscate_inactive, days, working=working_on(count, f"Obfuscating {count:,} customers"))
    if done is not None:
        app.notify(f"Obfuscated {len(done['obfuscated'])}, refused {len(done['refused'])}, "
                   f"passed over {done['opted_out']} opted out")


def _policy_message(days: str, report: dict[str, Any]) -> Text:
    message = Text(f"Obfuscate {len(report['obfuscated'])} customer(s) inactive for {days.strip()}+ days: "
                   f"{', '.join(report['obfuscated'][:10]) or 'none'}. This cannot be undone.", style="bold")
    if report["opted_out"]:
        message.append(f"\n{report['opted_out']} customer(s) opted out of obfuscation are passed over.")
    for refused in report["refused"][:5]:
        message.append("\nrefused: ")
        message.append_text(literal(refused["reason"]))
    return message
