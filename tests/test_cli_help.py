"""The command line's own words: every command's --help, one name for the archive option, the crawl's exit codes,
and `demo --serve`, which ends on Ctrl-C or SIGTERM like any server."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from scraper import exit_codes, settings

from .test_e2e import run_cli


def _commands() -> list[str]:
    listed = run_cli("--help").stdout
    return re.findall(r"^  ([a-z][a-z-]+)\s", listed.split("Commands:", 1)[1], re.M)


def test_every_command_has_a_help_that_names_the_archive_option_the_same_way():
    commands = _commands()
    assert {"crawl", "search", "export", "import-jsonl", "stats", "queue-status"} <= set(commands)
    with_db = []
    for command in commands:
        shown = run_cli(command, "--help")
        assert shown.returncode == 0 and shown.stderr == "", (command, shown.stderr)
        assert f"Usage: dzarchive {command} " in shown.stdout
        # A first paragraph that says what the command does.
        assert re.search(r"Usage: .*\n\n  \S", shown.stdout), command
        metavars = set(re.findall(r"--db ([A-Z]+)", shown.stdout))
        if metavars:
            with_db.append(command)
            assert metavars == {"PATH"}, (command, metavars)
    assert {"crawl", "search", "export", "import-jsonl", "stats", "reparse", "demo"} <= set(with_db)


def test_crawl_help_gives_the_delay_default_the_crawl_uses_and_every_exit_code():
    shown = " ".join(run_cli("crawl", "--help").stdout.split())
    assert f"[default: {settings.DOWNLOAD_DELAY}]" in shown
    for code, meaning in exit_codes.MEANINGS.items():
        assert f"{code} {meaning}" in shown
    assert set(exit_codes.MEANINGS) == {getattr(exit_codes, name) for name in dir(exit_codes) if name.startswith("EXIT_")}


def test_the_queue_listing_is_not_named_like_the_archive_statistics():
    listed = run_cli("--help").stdout
    assert "  queue-status " in listed and not re.search(r"^  status ", listed, re.M)
    # The old name still answers, for scripts written against it.
    old = run_cli("status", "--help")
    assert old.returncode == 0 and "The crawl queue" in old.stdout


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_demo_serve_stops_on_ctrl_c_and_sigterm(tmp_path, signum):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    process = subprocess.Popen([sys.executable, "-m", "dzarchive", "demo", "--serve", "--db", str(tmp_path / "d.db")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        line = ""
        while "Ctrl-C to stop" not in line:
            line = process.stdout.readline()
            assert line and time.monotonic() < deadline, process.stderr.read()
        process.send_signal(signum)
        out, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "stopped serving the sample forum" in out and "Traceback" not in err
