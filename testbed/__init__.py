"""Discuz! sites to crawl on loopback, for tests, benchmarks and ``dzarchive demo``; never used by a real crawl.

- :mod:`testbed.replay`: an HTTP server (also an HTTP proxy) that replays a captured site (``manifest.json`` +
  pages) exactly as it was served.
- :mod:`testbed.demo_site`: a generated sample Discuz! X3.4 forum, written as such a capture.
"""
