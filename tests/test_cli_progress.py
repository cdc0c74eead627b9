"""`demo` and `export` show their progress on a terminal's stderr, told by the work itself
(the demo's building and saving, the export's writing), and nothing of it in a pipe."""
import os
import pty
import select
import subprocess
import sys

from helpers import ROOT, custdesk

from store import Store

CUSTDESK = "import sys; from cli import main; sys.argv = ['custdesk', *sys.argv[1:]]; main()"


def custdesk_on_a_terminal(*args: object, timeout: float = 300) -> tuple[int, str, str]:
    """The command with its stderr on a pseudo-terminal (as a user's shell gives it) and its
    stdout in a pipe: (exit code, stdout, what the terminal received)."""
    main, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-c", CUSTDESK, *map(str, args)], cwd=ROOT, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=terminal, env={**os.environ, "COLUMNS": "120"})
    os.close(terminal)
    received = bytearray()
    while True:
        ready, _, _ = select.select([main], [], [], timeout)
        if not ready:
            process.kill()
            raise TimeoutError(f"custdesk {args} said nothing for {timeout} s")
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other side closed: the process is done with it
            chunk = b""
        if not chunk:
            break
        received += chunk
    os.close(main)
    stdout = process.stdout.read().decode() if process.stdout else ""
    return process.wait(timeout), stdout, received.decode()


def test_demo_shows_its_building_and_saving_on_a_terminal(store_path):
    code, stdout, terminal = custdesk_on_a_terminal("--db", store_path, "demo", "--customers", "3000", "--no-tui")
    assert code == 0, terminal
    assert "building customers 3,000/3,000" in terminal
    assert "saving private customers" in terminal and "saving prospects 300/300" in terminal
    assert "demo store" in stdout


def test_export_shows_its_writing_on_a_terminal_and_nothing_in_a_pipe(store_path, tmp_path):
    assert custdesk("--db", store_path, "demo", "--customers", "2500", "--no-tui").returncode == 0
    for suffix in ("csv", "xlsx", "vcf"):
        code, stdout, terminal = custdesk_on_a_terminal("--db", store_path, "export", tmp_path / f"on-terminal.{suffix}")
        assert code == 0, terminal
        assert "writing customers 2,500/2,500" in terminal and "exported 2,500 customers" in stdout
    piped = custdesk("--db", store_path, "export", tmp_path / "piped.csv")
    assert piped.returncode == 0 and "exported 2,500 customers" in piped.stdout
    assert piped.stderr == ""
    with Store(store_path) as store:
        assert [e["action"] for e in store.journal(20)].count("export") == 4  # each logged, the piped one too


def test_demo_in_a_pipe_says_nothing_on_stderr(store_path):
    result = custdesk("--db", store_path, "demo", "--customers", "2500", "--no-tui")
    assert result.returncode == 0 and result.stderr == ""
    assert "demo store" in result.stdout
