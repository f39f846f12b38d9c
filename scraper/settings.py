"""Scrapy settings for dzarchive. Polite by default: robots.txt, AutoThrottle, retries, one site at a time."""
from importlib.metadata import PackageNotFoundError, version as _version

from scrapy.settings import default_settings as _scrapy_defaults

try:
    VERSION = _version("dzarchive")
except PackageNotFoundError:  # running from a source tree without an install
    VERSION = "0.0.0"

BOT_NAME = "dzarchive"
SPIDER_MODULES = ["scraper.spiders"]
NEWSPIDER_MODULE = "scraper.spiders"

# Who is crawling: dzarchive's name and version; DZ_CONTACT (--contact, dzarchive.toml's contact) is added
# by scraper.useragent so that a forum admin can reach whoever runs the crawl.
USER_AGENT = f"dzarchive/{VERSION} (Discuz! forum archiver)"
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "scraper.useragent.ContactUserAgentMiddleware": 500,
    # --warc: every exchange as received (before decompression at 590); --media-offsite: other hosts' robots.txt.
    "scraper.warc.WarcMiddleware": 950,
    "scraper.media.OffsiteRobotsMiddleware": 45,
    # The member's cookies live only in the jar (never in requests or job state); no Public Suffix List download.
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "scraper.cookies.ArchiveCookiesMiddleware": 700,
    # Soft error pages are fetched again to confirm them, after a back-off (scraper/confirm.py).
    "scraper.confirm.ConfirmBackoffMiddleware": 40,
    # A page declaring charset=hex (or another non-text codec) is read in what its bytes are, not lost to a
    # LookupError in response.text: after decompression (590), before meta-refresh reads the text (580).
    "scraper.charset.ReadableCharsetMiddleware": 585,
    # Discuz!'s CC defence passed as a browser passes it; firewall challenges handed to the spider, which stops
    # (scraper/barriers.py). After cookies (700), redirects (600) and decompression (590); before meta refresh (580)
    # and retries (550).
    "scraper.barriers.BarrierMiddleware": 587,
    # Scrapy's meta refresh (580, METAREFRESH_* as ever), without decoding a page whose bytes hold no refresh tag.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "scraper.metarefresh.QuickMetaRefreshMiddleware": 580,
    # Scrapy's proxy middleware (750, HTTPPROXY_* as ever; --proxy and the tests use it), no_proxy read once per host.
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
    "scraper.proxy.HostCachedProxyMiddleware": 750,
}
ROBOTSTXT_OBEY = True

# Politeness: a few requests at a time, adapting to the server's latency.
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 60
# Scrapy's downloader, but the per-host cap also holds with DOWNLOAD_DELAY = 0 (scraper/downloader.py).
DOWNLOADER = "scraper.downloader.CappedDownloader"

# Discuz error pages (404 "主题不存在", 403) are pages to read, not failures.
HTTPERROR_ALLOWED_CODES = [403, 404, 410]

# One URL spelling per page: extra=, fromuid=, highlight= and the third number of thread-T-P-X.html are noise.
REQUEST_FINGERPRINTER_CLASS = "scraper.fingerprint.DiscuzRequestFingerprinter"

COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"

# The pipelines are synchronous: Scrapy's default of 100 items in parallel only made 100 tasks per response.
CONCURRENT_ITEMS = 8
# Scrapy's stats, without the shim that made each stats call (~15 a page) cost 4 us (scraper/stats.py).
STATS_CLASS = "scraper.stats.ArchiveStatsCollector"
# Scrapy re-reads a callback's source to warn of `return value` in a generator, for nearly every response (its
# cache is keyed by short-lived bound methods); tests/test_startup.py checks the spider's callbacks once instead.
WARN_ON_GENERATOR_RETURN_VALUE = False

ITEM_PIPELINES = {
    "pipelines.normalise.NormalisePipeline": 100,
    "pipelines.validate.ValidatePipeline": 200,
    "pipelines.store.StorePipeline": 300,
    "pipelines.media.MediaPipeline": 400,  # --media only (NotConfigured otherwise)
}

# dzarchive's own settings (the CLI sets them from its options).
DZ_DB = "data/archive.db"  # the SQLite archive
DZ_TIMEZONE = "+08:00"  # the forum's timeoffset: Discuz prints local times without an offset
DZ_PROFILES = True  # also fetch each poster's profile page (exact registration time and figures)
DZ_KEEP_PAGES = "failed"  # keep raw bodies of pages that could not be read; "all" keeps every page
DZ_FULL = False  # walk every list page and fetch every thread, even when the archive says it is unchanged
DZ_COOKIES = None  # a cookies.txt (Netscape format) to crawl as a logged-in member
DZ_CONFIRM_TIMES = 3  # a soft error page (not found, site closed, served with 200) is fetched again this often
DZ_CONFIRM_BACKOFF = 1.0  # seconds before the first confirming fetch, doubled for each next one
DZ_CC_INTERVAL = 1.1  # seconds between requests to a host whose CC defence refuses requests under a second apart
DZ_CC_REFETCHES = 3  # answers of the CC defence (reload, 频繁刷新限制) one page may get before it counts as flood control
DZ_LOGIN_USER = None  # --login USER: log in through the site's login form (scraper/login.py)
DZ_LOGIN_PASSWORD = None  # its password, in memory only (the CLI reads DZARCHIVE_PASSWORD or asks)
DZ_LOGIN_RETRIES = 3  # how often a session that expired mid-crawl is renewed
DZ_CONTACT = None  # an e-mail address or URL for the forum's admins, sent in the User-Agent

DZ_PROGRESS = False  # progress on stderr (the CLI turns it on)
DZ_PROGRESS_BAR = False  # as a rich progress bar (the CLI's choice when stderr is a terminal showing no log)
DZ_PROGRESS_INTERVAL = 10.0  # seconds between plain progress lines when there is no bar

# Scrapy's scheduler, but a job state (JOBDIR) that cannot be written stops the crawl (scraper/write_failures.py),
# and the queue is kept in memory, written to JOBDIR only when the crawl stops before finishing (scraper/jobstate.py).
SCHEDULER = "scraper.jobstate.CheckpointScheduler"

EXTENSIONS = {"scraper.progress.Progress": 500}
# Scrapy's own extensions but the two consoles, which run Python sent to a local port (telnet, or the remote
# control's HTTP server): a crawl never uses them. Left out of the _BASE dict rather than set to None, because
# Scrapy imports every class a component dict names, None or not, and the remote control brings aiohttp (about
# a tenth of a second of start-up) and starts a server.
_unused_extensions = ("scrapy.extensions.telnet.TelnetConsole", "scrapy.extensions.remote_control.RemoteControl")
# Scrapy's SpiderState (the spider's state in JOBDIR) as one that stops the crawl, in one line, when it cannot be
# written (scraper/write_failures.py), and writes nothing for a crawl that finished (scraper/jobstate.py).
_replaced_extensions = {"scrapy.extensions.spiderstate.SpiderState": "scraper.jobstate.StoppedSpiderState"}
EXTENSIONS_BASE = {_replaced_extensions.get(name, name): order
                   for name, order in _scrapy_defaults.EXTENSIONS_BASE.items() if name not in _unused_extensions}

# --warc DIR: every exchange as WARC/1.1 records. At 950 the middleware is nearer the network than every
# built-in one: it sees the final request headers and the response still content-encoded (HttpCompression
# is at 590), and every redirect, retry and robots.txt fetch. Disabled (NotConfigured) without DZ_WARC_DIR.
DZ_WARC_DIR = None  # folder for the .warc.gz files
DZ_WARC_MAX_SIZE = 1_000_000_000  # bytes per WARC file before the next one starts

# --media: the images and attachments posts show, stored content-addressed in DZ_MEDIA_DIR (default ARCHIVE.media/).
DZ_MEDIA = False
DZ_MEDIA_OFFSITE = False  # also images hosted on other sites
DZ_MEDIA_DIR = None

FEED_EXPORT_ENCODING = "utf-8"
# `scrapy crawl site -O items.jsonl`: each archived page's rows as JSON, without the raw bytes.
FEED_EXPORTERS = {
    "json": "scraper.feeds.PageJsonExporter",
    "jsonlines": "scraper.feeds.PageJsonLinesExporter",
    "jsonl": "scraper.feeds.PageJsonLinesExporter",
    "jl": "scraper.feeds.PageJsonLinesExporter",
}
