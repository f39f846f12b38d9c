"""Discuz! 7.x profile pages (``space.php?uid=N``, ``space.php?uid=N&action=viewpro``).

``space.php`` renders ``templates/default/viewpro_classic.htm`` (public 7.x sources, e.g. the
``AlexChien/EY_BBS`` tree) with the ``templates.lang.php`` labels: ``({lang uid}: $member[uid])``,
``ul.commonlist`` lines ``{lang regdate}: …`` / ``{lang posts}: N {lang piece}(…)``, the
``h3.blocktitle`` lines ``{lang usergroup}`` and ``{lang credits}``, and the extcredits paragraph
``$credit[title]: value $credit[unit]`` joined by ``,&nbsp;``. The pages below are written from that
template; the member, forum and figures are made up. Two themes move the lines around; the reader
must follow the labels, not the places.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from scraper.parsers import parse_page

CST = timezone(timedelta(hours=8))
BASE = "http://bbs.qingshi.test/"


def viewpro_page(*, uid: int = 1024, username: str = "石头记", posts: str = "98129", digest: str = "3",
                 credits: str = "2333", extcredits: str = "威望: 5 ,&nbsp;金钱: 300 ,&nbsp;贡献: 12 点",
                 regdate: str = "2006-11-28", oltime: str = "总计 <em>120.5</em> 小时, 本月 <em>5</em> 小时",
                 generator: str = "7.2", swap: bool = False) -> str:
    left = f"""<ul class="commonlist right" style="width: 50%">
<li>注册日期: {regdate}</li>
<li>上次访问: 2009-6-10 13:18</li>
<li>最后发表: 2009-6-10 13:20</li>
</ul>"""
    right = f"""<ul class="commonlist">
<li>发帖数级别: 中级会员 <img src="images/default/star_level2.gif" alt="Rank: 3" /></li>
<li>阅读权限: 30</li>
<li>帖子: {posts} 篇(占全部帖子的 1.52%)</li>
<li>平均每日发帖: 12.3 篇</li>
<li>精华: {digest} 篇</li>
</ul>"""
    lines = right + left if swap else left + right
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<title>{username}的个人资料 - 青石论坛 - Powered by Discuz!</title>
<meta name="generator" content="Discuz! {generator}" />
</head><body>
<div id="nav"><a href="index.php">青石论坛</a> &raquo; {username}的个人资料</div>
<script type="text/javascript">var imagemaxwidth = parseInt(600);</script>
<div id="wrap" class="wrap with_side special s_clear">
 <div class="main">
  <div id="profilecontent" class="content">
   <div class="itemtitle s_clear"><h1>{username}</h1><ul><li>(UID: {uid})</li></ul></div>
   <div id="baseprofile">
    <table cellpadding="0" class="formtable" style="table-layout:fixed">
     <tr><th width="70">性别:</th><td>保密</td></tr>
     <tr><th width="70">来自:</th><td>杭州</td></tr>
    </table>
   </div>
   <hr class="dashline" />
   <h3 class="blocktitle lightlink">用户组: 中级会员 <img src="images/default/star_level2.gif" alt="Rank: 3" /></h3>
   <div class="s_clear">{lines}</div>
   <p>在线时间: {oltime} <img src="images/default/star_level1.gif" alt="" /> (升级剩余 19 小时)</p>
   <hr class="dashline" />
   <h3 class="blocktitle lightlink">积分: {credits}</h3>
   <p>{extcredits}</p>
  </div>
 </div>
 <div class="side"><div class="profile_side"><div class="avatar"><img src="http://bbs.qingshi.test/uc_server/avatar.php?uid={uid}&size=middle" /></div>
  <ul id="profile_act">
   <li class="pm"><a href="pm.php?action=new&amp;uid={uid}">发短消息</a></li>
   <li class="searchpost"><a href="search.php?srchuid={uid}&amp;srchfid=all&amp;srchfrom=0&amp;searchsubmit=yes">搜索帖子</a></li>
  </ul></div></div>
</div>
<div id="footer"><p id="copyright">Powered by <strong><a href="http://www.discuz.net">Discuz!</a></strong> <em class="f_golden">{generator}</em></p></div>
</body></html>"""


@pytest.mark.parametrize("url", [BASE + "space.php?uid=1024", BASE + "space.php?uid=1024&action=viewpro"])
def test_7x_profile_is_read_by_its_labels(url):
    page = parse_page(url, viewpro_page().encode("gb18030"))
    assert (page.kind, page.status, page.uid, page.version) == ("profile", "ok", 1024, "7.2")
    user, stats = page.users[0], page.user_stats[0]
    assert (user.uid, user.username, user.group_title) == (1024, "石头记", "中级会员")
    assert user.registered_at == date(2006, 11, 28) and user.registered_at_text == "2006-11-28"
    assert user.last_login_text == "2009-6-10 13:18"
    assert (stats.source, stats.posts, stats.digests, stats.credits, stats.online_hours) == \
        ("profile", 98129, 3, 2333, 120.5)
    assert stats.extcredits == {"威望": {"value": 5, "unit": None}, "金钱": {"value": 300, "unit": None},
                                "贡献": {"value": 12, "unit": "点"}}
    assert stats.raw["阅读权限"] == "30" and "阅读权限" not in stats.extcredits
    assert stats.approx == []


def test_7x_profile_lines_in_another_order_give_the_same_figures():
    a = parse_page(BASE + "space.php?uid=7", viewpro_page(uid=7).encode("gb18030"))
    b = parse_page(BASE + "space.php?uid=7", viewpro_page(uid=7, swap=True).encode("gb18030"))
    assert (a.user_stats[0].posts, a.user_stats[0].digests, a.users[0].registered_at) == \
        (b.user_stats[0].posts, b.user_stats[0].digests, b.users[0].registered_at)


def test_7x_profile_uid_comes_from_the_page_not_the_url():
    page = parse_page(BASE + "space.php?username=%CA%AF", viewpro_page(uid=55).encode("gb18030"))
    assert page.kind == "profile" and page.uid == 55 and page.users[0].uid == 55


def test_7x_profile_registration_with_a_time_is_a_datetime():
    page = parse_page(BASE + "space.php?uid=9", viewpro_page(uid=9, regdate="2006-11-28 10:05").encode("gb18030"))
    assert page.users[0].registered_at == datetime(2006, 11, 28, 10, 5, tzinfo=CST)


def test_7x_profile_without_version_records_the_family():
    html = viewpro_page(generator="").replace('<meta name="generator" content="Discuz! " />', "")
    page = parse_page(BASE + "space.php?uid=1024", html.encode("gb18030"))
    assert page.kind == "profile" and page.version == "7.x"
