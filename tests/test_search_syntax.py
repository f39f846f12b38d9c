"""How a search query and a --since/--until value are read (no archive needed)."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest

import research
from research import SearchQuery

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize("query, groups, excluded", [
    ("“哪家最正宗”", [["哪家最正宗"]], []),
    ("「盐帮 菜」 推荐", [["盐帮 菜"], ["推荐"]], []),
    ("『冷吃兔』", [["冷吃兔"]], []),
    ('"法院 判决" ＂平台＂', [["法院 判决"], ["平台"]], []),
    ("盐帮　推荐", [["盐帮"], ["推荐"]], []),  # U+3000, the IME's space
    ("盐帮 推荐 OR 正宗", [["盐帮"], ["推荐", "正宗"]], []),
    ("盐帮 -广告 －软文 -“托儿”", [["盐帮"]], ["广告", "软文", "托儿"]),
    ("X-3 2024-10", [["X-3"], ["2024-10"]], []),  # a dash inside a word is the word's
    ('盐帮 "没关上', [["盐帮"], ["没关上"]], []),  # a quote left open separates
    ("OR 盐帮 OR", [["盐帮"]], []),
    ("or 盐帮", [["or"], ["盐帮"]], []),  # only capital OR is the operator
])
def test_parse_search(query, groups, excluded):
    assert research.parse_search(query) == SearchQuery(tuple(map(tuple, groups)), tuple(excluded))


def test_a_query_that_only_excludes_is_refused():
    with pytest.raises(ValueError, match="nothing to look for"):
        research.parse_search("-广告")


@pytest.mark.parametrize("value, problem", [("2024-13", "no month 13"), ("2024-00", "no month 00"),
                                            ("2024-12-32", "no day 32"), ("2023-02-29", "no day 29"),
                                            ("0000", "no year"), ("2024-13-01T09:00", "not a date or time")])
def test_dates_that_do_not_exist_are_refused(value, problem):
    with pytest.raises(ValueError, match=problem):
        research.time_bound(value, CST)


def test_real_dates_are_periods():
    assert research.time_bound("2024-02-29", CST) == "2024-02-29"
    assert research.time_bound("2024-12", CST, until=True) == "2024-12~"
