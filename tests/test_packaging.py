"""The package as a user meets it: the installed `custdesk` command's version and help, and what
`make test` says on a machine without the shared corpus."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from helpers import ROOT

from cli.main import cli

# The console script pip installed (not `python -c`): its entry point and metadata are what is tested.
COMMAND = Path(sysconfig.get_path("scripts")) / "custdesk"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert COMMAND.is_file(), f"{COMMAND}: custdesk is not installed in this environment"
    return subprocess.run([str(COMMAND), *args], check=False, capture_output=True, text=True, timeout=60, cwd=cwd)


def command_paths(group: click.Group = cli, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The top-level command and every subcommand, groups and their commands alike."""
    yield path
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from command_paths(command, (*path, name))
        else:
            yield (*path, name)


def test_version_is_the_installed_packages(tmp_path):
    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert result.stdout == f"custdesk {declared}\n" == f"custdesk {version('custdesk')}\n"
    assert re.fullmatch(r"custdesk \d+\.\d+\.\d+\n", result.stdout)


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda path: " ".join(("custdesk", *path)))
def test_every_command_answers_h_as_help(path, tmp_path):
    result = run(*path, "-h", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: {' '.join(('custdesk', *path))} [OPTIONS]")
    # One option under both names: -h prints what --help prints.
    assert re.search(r"^  -h, --help +Show this message and exit\.$", result.stdout, re.MULTILINE)


def test_a_missing_corpus_is_said_in_one_line(tmp_path):
    """A checkout with no shared/ beside it: the corpus tests are skipped and the run says why, once."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "tests", project / "tests", ignore=shutil.ignore_patterns("__pycache__", "__snapshots__"))
    shutil.copy(ROOT / "pyproject.toml", project)
    env = {name: value for name, value in os.environ.items() if name != "CI"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_import_corpus.py"],
                            check=False, capture_output=True, text=True, timeout=300, cwd=project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = re.search(r"^(\d+) skipped in ", result.stdout, re.MULTILINE)
    assert skipped, result.stdout
    said = [line for line in result.stdout.splitlines() if "corpus" in line]
    assert said == [f"{tmp_path / 'shared' / 'corpus'} is absent: {skipped[1]} importer tests on real exports "
                    "were skipped (tests/test_import_corpus.py)"]
