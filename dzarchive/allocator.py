"""The C allocator a crawl runs on: mimalloc where the machine has it, glibc's malloc otherwise.

A crawl builds and frees one libxml2 tree per page (tens of thousands of small nodes and strings, each its own
``malloc``), and glibc's allocator spends a good part of a page consolidating the freed chunks: on the synthetic
forum the same crawl runs ~10 % faster on mimalloc (Microsoft's allocator: maintained, MIT, packaged by Debian as
``libmimalloc2.0``, by Fedora, Alpine and Homebrew as ``mimalloc``), with the same items. An allocator can only
replace ``malloc`` from the process's start, so a crawling command (:data:`COMMANDS`) started without it runs
itself again at once, the same process (``exec``: same pid, same arguments, same descriptors), with the library
in ``LD_PRELOAD``; the programs a crawl starts do not inherit it.

``DZARCHIVE_MALLOC`` chooses: unset, mimalloc where it is found (:data:`_SEARCH`) and the system's otherwise;
``system``, the system's; a path, that library (jemalloc's, tcmalloc's…). Linux only (elsewhere the system's).
"""
from __future__ import annotations

import glob
import os
import sys

# The commands that parse pages by the thousand (run and worker start a `dzarchive crawl` process for each site,
# which moves to the allocator itself).
COMMANDS = frozenset(("crawl", "demo", "reparse"))
ENV = "DZARCHIVE_MALLOC"
# Set for the process run again: the library put in LD_PRELOAD, and LD_PRELOAD as it was before.
_LOADED = "_DZARCHIVE_MALLOC_LOADED"
_PRELOAD_WAS = "_DZARCHIVE_LD_PRELOAD_WAS"
# The file names of the allocators a process may be started on (with LD_PRELOAD).
_ALLOCATORS = ("libmimalloc", "libjemalloc", "libtcmalloc")
# Where distributions put mimalloc's shared library (the versioned name first: the unversioned one may be a
# development symlink only).
_SEARCH = tuple(f"{folder}/{name}" for name in ("libmimalloc.so.2", "libmimalloc.so")
                for folder in ("/usr/lib/*-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib", "/lib/*-linux-gnu",
                               "/lib64"))


class AllocatorError(ValueError):
    """``DZARCHIVE_MALLOC`` names no library file."""


def library(environ=os.environ) -> str | None:
    """The allocator library a crawl should run on, or ``None`` for the system's; :class:`AllocatorError` when
    ``DZARCHIVE_MALLOC`` names a file that is not there."""
    chosen = environ.get(ENV, "").strip()
    if chosen.lower() == "system" or not sys.platform.startswith("linux"):
        return None
    if chosen:
        if not os.path.isfile(chosen):
            raise AllocatorError(f"{ENV}={chosen}: no such library file (a path to one, or 'system')")
        if " " in chosen or ":" in chosen:
            raise AllocatorError(f"{ENV}={chosen}: LD_PRELOAD cannot hold a path with a space or a colon")
        return os.path.abspath(chosen)
    for pattern in _SEARCH:
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(path):
                return path
    return None


def preloaded(environ=os.environ) -> str | None:
    """The allocator library ``LD_PRELOAD`` names already (mimalloc, jemalloc, tcmalloc), if it names one."""
    for name in environ.get("LD_PRELOAD", "").replace(":", " ").split():
        if os.path.basename(name).startswith(_ALLOCATORS):
            return name
    return None


def for_crawls(environ=os.environ) -> str | None:
    """The allocator library a crawling command started with ``environ`` runs on (``None``: the system's)."""
    return preloaded(environ) or library(environ)


def with_library(path: str, environ=os.environ) -> dict:
    """A copy of ``environ`` with ``path`` first in ``LD_PRELOAD``: what a process started with it runs on."""
    env = dict(environ)
    env["LD_PRELOAD"] = f"{path} {env.get('LD_PRELOAD', '')}".strip()
    return env


def command_of(argv: list[str]) -> str | None:
    """The subcommand ``argv`` (the arguments after the program) runs: its first word that is no option."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def preload(argv: list[str], environ=os.environ) -> None:
    """Run this process again on :func:`library`'s allocator when ``argv`` runs a crawling command and the process
    is not on it yet; in the process run again, take the library out of ``LD_PRELOAD`` for the programs it starts.

    Returns (having done nothing) where there is nothing to do or the ``exec`` fails; raises
    :class:`AllocatorError` as :func:`library` does."""
    if _LOADED in environ:
        was = environ.pop(_PRELOAD_WAS, None)
        environ.pop(_LOADED, None)
        if was:
            environ["LD_PRELOAD"] = was
        else:
            environ.pop("LD_PRELOAD", None)
        return
    if command_of(argv) not in COMMANDS or not sys.executable or not getattr(sys, "orig_argv", None):
        return  # (an embedded interpreter has no program to run again)
    if preloaded(environ) is not None:
        return  # started on one already
    path = library(environ)
    if path is None:
        return
    env = with_library(path, environ)
    env[_LOADED] = path
    if environ.get("LD_PRELOAD"):
        env[_PRELOAD_WAS] = environ["LD_PRELOAD"]
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, sys.orig_argv, env)
    except OSError:
        return  # (run on the system's allocator)


def in_use() -> str | None:
    """The file name of the allocator library mapped into this process besides libc's (``None``: the system's)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                name = line.rsplit("/", 1)[-1].strip()
                if name.startswith(_ALLOCATORS):
                    return name
    except OSError:
        return None
    return None
