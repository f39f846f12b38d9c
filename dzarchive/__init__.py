"""The ``dzarchive`` command line, one package: thin click commands over the Python API of the other packages.

- :mod:`dzarchive.cli`: the ``dzarchive`` group and the crawling commands (``crawl``, ``run``, ``parse``, ``reparse``,
  ``demo``) over :mod:`scraper`, :mod:`archive` and :mod:`testbed`.
- :mod:`dzarchive.research_commands`: the researchers' commands (``export``, ``import-jsonl``, ``search``, ``query``,
  ``stats``, ``changes``, ``datasette-metadata``, ``serve``) over :mod:`research`, with the output switches they
  share.
- :mod:`dzarchive.queue_commands`: the queue's commands (``enqueue``, ``worker``, ``queue-status``) over
  :mod:`dzarchive.queue`.
- :mod:`dzarchive.config`: ``dzarchive.toml``, the sites a scheduled ``dzarchive run`` archives.
- :mod:`dzarchive.launch`: the program's entry point; :mod:`dzarchive.allocator`: the C allocator a crawling
  command runs on (mimalloc where the machine has it).

``python -m dzarchive`` is the same as the ``dzarchive`` command.
"""
