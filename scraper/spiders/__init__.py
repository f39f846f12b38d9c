"""Scrapy spiders: ``site`` walks a Discuz! site by the links its pages show."""
