"""The ``dzarchive`` program: a crawling command first moves to a faster allocator where the machine has one
(:mod:`dzarchive.allocator`: the process runs itself again on it, before the command's imports), then
:func:`dzarchive.cli.main` runs the command."""
from __future__ import annotations

import sys


def main() -> None:
    from . import allocator

    try:
        allocator.preload(sys.argv[1:])
    except allocator.AllocatorError as exc:
        from scraper.exit_codes import EXIT_BAD_INPUT

        print(f"dzarchive: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    from .cli import main as run_command

    run_command()
