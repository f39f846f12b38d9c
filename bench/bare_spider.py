"""The baseline crawl: a bare Scrapy spider fetching a list of URLs, doing nothing with the pages.

    http_proxy=http://127.0.0.1:PORT python -m bench.bare_spider urls.txt

Same concurrency as dzarchive (8, 4 per host), no delay, no AutoThrottle, no robots.txt, no retries.
"""
import sys

import scrapy
from scrapy.crawler import CrawlerProcess


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls, **kwargs):
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        return None


if __name__ == "__main__":
    urls = [line.strip() for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
    process = CrawlerProcess({"CONCURRENT_REQUESTS": 8, "CONCURRENT_REQUESTS_PER_DOMAIN": 4, "DOWNLOAD_DELAY": 0,
                              "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "RETRY_ENABLED": False,
                              "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False,
                              "HTTPERROR_ALLOWED_CODES": [404]})
    process.crawl(BareSpider, urls=urls)
    process.start()
