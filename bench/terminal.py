"""The bench's terminal: the app started in a real pty (a 160x50 pane of a tmux server of
the bench's own) and timed from exec until a text shows; and the bare Textual app with a
DataTable that every first-rows figure is put beside (the floor no Textual app goes under)."""
from __future__ import annotations

import subprocess
import time

TMUX = ["tmux", "-L", "custdesk-bench", "-f", "/dev/null"]
BARE_APP = """
from textual.app import App
from textual.widgets import DataTable
class Bare(App):
    def compose(self):
        yield DataTable()
    def on_mount(self):
        t = self.query_one(DataTable); t.add_columns("Number", "Name")
        t.add_rows([(f"C-{i:06d}", f"Name {i}") for i in range(100)])
Bare().run()
"""


def tmux(*args: str) -> str:
    return subprocess.run([*TMUX, *args], capture_output=True, text=True, check=False).stdout


def keep_server() -> None:
    """One server for every start (with no session left a server exits, and a start meanwhile fails)."""
    subprocess.run([*TMUX, "start-server", ";", "set-option", "-g", "exit-empty", "off"], check=True)


def stop_server() -> None:
    tmux("kill-server")


def start(command: str, session: str) -> float:
    """Start `command` in a new pane (exec'd: the pane's process is the app's); the start time."""
    tmux("kill-session", "-t", session)
    began = time.perf_counter()
    subprocess.run([*TMUX, "new-session", "-d", "-s", session, "-x", "160", "-y", "50", f"exec {command}"], check=True)
    return began


def wait_for(text: str, session: str, began: float, timeout: float = 120) -> float:
    """Seconds since `began` until `text` is on the pane (polled every 20 ms)."""
    while text not in tmux("capture-pane", "-p", "-t", session):
        if time.perf_counter() - began > timeout:
            raise RuntimeError(f"never showed {text!r}:\n{tmux('capture-pane', '-p', '-t', session)}")
        time.sleep(0.02)
    return time.perf_counter() - began


def shown_after(command: str, text: str = "C-0", session: str = "first-rows", timeout: float = 120) -> float:
    """Seconds from exec of `command` in a new pane until `text` is on screen."""
    try:
        return wait_for(text, session, start(command, session), timeout)
    finally:
        tmux("kill-session", "-t", session)


def pane_pid(session: str) -> int:
    return int(tmux("list-panes", "-t", session, "-F", "#{pane_pid}").split()[0])
