"""Fetching: the spider and everything it needs to decide what to fetch and to read what it fetched.

``parsers/`` (pure page readers), ``items.py`` (what they return), ``urls.py`` (Discuz URL spellings),
``spiders/`` (what to fetch next), ``settings.py`` (polite Scrapy defaults), ``fingerprint.py`` and
``progress.py`` (Scrapy components), ``crawl.py`` (one crawl in this process), ``reparse.py`` (kept pages read
again). Storing is :mod:`pipelines` and :mod:`archive`.
"""
