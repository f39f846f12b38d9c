"""Scrapy item pipelines, in order: ``normalise`` (a parsed page to archive rows), ``validate`` (rows against
``schemas/archive.json``), ``store`` (rows into the archive through :class:`archive.Archive`)."""
