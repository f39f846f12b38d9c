"""Writing a command's output file whole or not at all: a temporary file beside it, renamed over it when done.

An interrupted export (Ctrl-C, a full disk, a crash) or one that selected nothing leaves the previous file as it
was; Ctrl-C exits 130, as ``dzarchive crawl`` does.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
from pathlib import Path

import click

EXIT_INTERRUPTED = 130


class AtomicFile:
    """The open temporary file; :meth:`discard` asks for it to be thrown away instead of renamed."""

    def __init__(self, handle, target: Path):
        self.handle, self.target, self.discarded = handle, target, False

    def write(self, data: bytes) -> int:
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()

    def discard(self) -> None:
        self.discarded = True


def check_output_path(path: str | os.PathLike) -> Path:
    """The output path, or a :class:`click.ClickException` (one line) when no file can be written there."""
    target = Path(path)
    if target.is_dir():
        raise click.ClickException(f"{target} is a folder: give a file name, e.g. -o {target / 'threads.jsonl'}")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise click.ClickException(f"cannot write {target}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise click.ClickException(f"cannot write {target}: permission denied")
    return target


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield an :class:`AtomicFile`; on success it replaces ``path``, else (error, Ctrl-C, discard) ``path`` is
    untouched and the temporary file removed. Ctrl-C exits 130."""
    target = check_output_path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent if str(target.parent) else ".")
    out = None
    try:
        with os.fdopen(fd, "wb") as handle:
            out = AtomicFile(handle, target)
            yield out
        if out.discarded:
            os.unlink(tmp)
        else:
            if target.exists():
                os.chmod(tmp, target.stat().st_mode & 0o777)
            else:
                os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
    except KeyboardInterrupt:
        _remove(tmp)
        click.echo(f"interrupted: {target} left as it was", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BaseException:
        _remove(tmp)
        raise


def exits_130_on_interrupt(function):
    """Ctrl-C in a command: a one-line note and exit 130 (click would print "Aborted!" and exit 1)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
