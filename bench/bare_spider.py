"""The baseline crawl: a bare Scrapy spider fetching a list of URLs, doing nothing with the pages.

    http_proxy=http://127.0.0.1:PORT python -m bench.bare_spider urls.txt [CONCURRENT [PER_HOST]]

Same concurrency as the dzarchive crawl it is compared with (default dzarchive's own: 8, 4 per host), no
delay, no AutoThrottle, no robots.txt, no retries.
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
    concurrent = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    per_host = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    process = CrawlerProcess({"CONCURRENT_REQUESTS": concurrent, "CONCURRENT_REQUESTS_PER_DOMAIN": per_host,
                              "DOWNLOAD_DELAY": 0,
                              "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "RETRY_ENABLED": False,
                              "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False,
                              "HTTPERROR_ALLOWED_CODES": [404]})
    process.crawl(BareSpider, urls=urls)
    process.start()
