"""The command line, by command group; `main` is the `custdesk` entry point."""
from cli.main import main

__all__ = ["main"]
