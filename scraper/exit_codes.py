"""How a `dzarchive crawl` ends, as its exit code (importable without Scrapy, by the queue and `run`)."""

EXIT_OK = 0  # finished: everything it was asked for is archived
EXIT_FAILED = 1  # archived nothing past its start page, or the site is closed
EXIT_BAD_INPUT = 2  # a bad URL, option, cookies file or archive: nothing was done
EXIT_LOCKED = 3  # another crawl holds the archive
EXIT_OTHER_SITE = 4  # the archive belongs to another site
EXIT_ERRORS = 5  # finished with errors: pages it could not read (`--retry-errors` fetches them)
EXIT_WRITE_FAILED = 6  # stopped: the archive (or a WARC, media or job-state file) could not be written, e.g. a full
#   disk; what was archived is kept, and the same command resumes once there is room
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM: what was archived is kept, and the next crawl resumes

# What each code means, as `dzarchive crawl --help` lists them (the comments above, in the user's words).
MEANINGS = {
    EXIT_OK: "finished: everything it was asked for is archived",
    EXIT_FAILED: "failed: archived nothing past its start page, or the site is closed",
    EXIT_BAD_INPUT: "bad input (URL, option, cookies file, archive): nothing was done",
    EXIT_LOCKED: "another crawl holds the archive",
    EXIT_OTHER_SITE: "the archive belongs to another site",
    EXIT_ERRORS: "finished with errors: pages it could not read (--retry-errors fetches them)",
    EXIT_WRITE_FAILED: "stopped: could not write the archive (or a WARC, media or job file), e.g. a full disk;"
                       " what was archived is kept, the same command resumes",
    EXIT_INTERRUPTED: "stopped by Ctrl-C or SIGTERM: what was archived is kept, the same command resumes",
}


def help_text() -> str:
    """The exit codes as a --help epilog (click keeps the lines of a paragraph that starts with \\b)."""
    return "\b\nExit codes:\n" + "\n".join(f"  {code:<4} {meaning}" for code, meaning in MEANINGS.items())


__all__ = ["MEANINGS", "help_text", "EXIT_OK", "EXIT_FAILED", "EXIT_BAD_INPUT", "EXIT_LOCKED", "EXIT_OTHER_SITE", "EXIT_ERRORS",
           "EXIT_WRITE_FAILED", "EXIT_INTERRUPTED"]
