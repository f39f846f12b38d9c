"""Hand-checked values of the fixture pages that have no database ground truth.

``REAL_PAGES`` transcribes ``../shared/fixtures/real/INDEX.md`` ("Ground truth" section) and
``MEMBER_CAPTURE`` the README of ``discuz-x34-utf8-a-member``. Each entry is
``(file, url the page was served under, [(field, key, expected value), ...])``; ``bench/accuracy.py``
reads every value named by ``field``/``key`` out of the parsed page (see ``FIELD_READERS`` there)
and compares. Times are ISO 8601 in the forum's zone (UTC+8), as the archive stores them.
"""
from __future__ import annotations

TALKOP_1 = "http://bbs.talkop.com/thread-108869-1-1.html"
TALKOP_2 = ("http://bbs.talkop.com/forum.php?mod=viewthread&tid=117429"
            "&extra=page%3D1%26filter%3Dtypeid%26typeid%3D145")
TALKOP_LIST = "http://bbs.talkop.com/forum.php?mod=forumdisplay&fid=49&filter=typeid&typeid=145"

REAL_PAGES: list[tuple[str, str, list[tuple[str, object, object]]]] = [
    ("bbs.talkop.com/viewthread-1.html", TALKOP_1, [
        ("page.kind", None, "viewthread"),
        ("page.version", None, "X3.4"),
        ("thread.title", None, "【TalkOP汉化】海贼王资料集生命卡ONE PIECE图鉴全图翻译（201811可可亚西村+大监狱）"),
        ("thread.tid", None, 108869), ("thread.fid", None, 49),
        ("thread.views", None, 25031), ("thread.replies", None, 74), ("page.pages", None, 8),
        ("post.pids", None, [608948, 608949, 608950, 608951, 608952, 608958, 608971, 608977, 608978, 608983]),
        ("post.floor", 608948, 1), ("post.author", 608948, "鹰目"), ("post.author_uid", 608948, 2),
        ("post.posted_at", 608948, "2018-11-01T23:44:00+08:00"),
        ("stats.threads", 2, 3164), ("stats.posts", 2, 9437), ("stats.credits", 2, 44705),
        ("stats.raw", (2, "积分"), "4万"), ("stats.raw", (2, "签到天数"), "1289 天"),
        ("user.group_title", 2, "管理员"),
        ("post.floor", 608949, 2), ("post.author", 608949, "红茶北冰洋"), ("post.author_uid", 608949, 5047),
        ("post.posted_at", 608949, "2018-11-01T23:46:00+08:00"),
        ("post.content_text", 608949, "翻译翻得我灵魂升天……………………………………我爱斯摩格（冷静点"),
        ("stats.threads", 5047, 21), ("stats.posts", 5047, 233), ("stats.credits", 5047, 1200),
        ("post.floor", 608950, 3), ("post.author", 608950, "智障田螺"), ("post.author_uid", 608950, 98050),
        ("post.posted_at", 608950, "2018-11-01T23:47:00+08:00"),
    ]),
    ("bbs.talkop.com/viewthread-2.html", TALKOP_2, [
        ("page.kind", None, "viewthread"),
        ("page.version", None, "X3.4"),
        ("thread.title", None, "【TalkOP汉化】海贼王资料集生命卡ONE PIECE图鉴全图翻译（201908杰尔马66+大妈团）"),
        ("thread.tid", None, 117429), ("thread.fid", None, 49),
        ("thread.views", None, 8430), ("thread.replies", None, 93), ("page.pages", None, 10),
        ("post.pids", None, [735608, 735610, 735618, 735621, 735622, 735623, 735627, 735630, 735631, 735636]),
        ("post.floor", 735608, 1), ("post.author", 735608, "鹰目"), ("post.author_uid", 735608, 2),
        ("post.posted_at", 735608, "2019-08-02T00:20:00+08:00"),
        ("stats.threads", 2, 3165), ("stats.posts", 2, 9439), ("stats.credits", 2, 44712),
        ("post.floor", 735610, 2), ("post.author", 735610, "飯糰超人"), ("post.author_uid", 735610, 10352),
        ("post.posted_at", 735610, "2019-08-02T00:40:00+08:00"),
        ("stats.threads", 10352, 1), ("stats.posts", 10352, 666), ("stats.credits", 10352, 2928),
        ("user.group_title", 10352, "超新星"),
        ("post.floor", 735618, 3), ("post.author", 735618, "dsfgt6"), ("post.author_uid", 735618, 140405),
        ("post.posted_at", 735618, "2019-08-02T01:22:00+08:00"),
    ]),
    ("bbs.talkop.com/forumdisplay-1.html", TALKOP_LIST, [
        ("page.kind", None, "forumdisplay"),
        ("page.fid", None, 49), ("page.pages", None, 1),
        ("forum.name", 49, "TalkOP汉化区"),
        ("list.rows", None, 14), ("list.sticky_rows", None, 0),
        ("row.title", 109548, "【TalkOP汉化】海贼王资料集生命卡ONE PIECE图鉴完全版汉化（201809初始套装32张+和之国2张）"),
        ("row.type_prefix", 109548, "[生命卡]"), ("row.author", 109548, "鹰目"), ("row.author_uid", 109548, 2),
        ("row.created_at", 109548, "2018-11-25T13:43:00+08:00"),
        ("row.replies", 109548, 1121), ("row.views", 109548, 64782), ("row.last_poster", 109548, "kiku"),
        ("row.last_post_at", 109548, "2019-12-04T02:44:00+08:00"),
        ("row.title", 111668, "【TalkOP汉化】海贼王资料集生命卡ONE PIECE图鉴完全版汉化（201810东海+超新星篇）"),
        ("row.author", 111668, "鹰目"), ("row.author_uid", 111668, 2),
        ("row.created_at", 111668, "2019-02-20T22:50:00+08:00"),
        ("row.replies", 111668, 568), ("row.views", 111668, 25375), ("row.last_poster", 111668, "kiku"),
        ("row.last_post_at", 111668, "2019-12-04T02:29:00+08:00"),
        ("row.position", 108869, 13), ("row.replies", 108869, 74), ("row.views", 108869, 25031),
        ("row.position", 107596, 14), ("row.replies", 107596, 96), ("row.views", 107596, 26247),
        ("row.position", 117429, 4), ("row.replies", 117429, 93), ("row.views", 117429, 8407),
    ]),
]

# The saraba1st files are mobile-API answers (JSON), checked only by a mobile-API parser.
MOBILE_API_PAGES: list[tuple[str, str, list[tuple[str, object, object]]]] = [
    ("bbs.saraba1st.com/mobileapi-viewthread-1.json",
     "http://bbs.saraba1st.com/2b/api/mobile/index.php?version=1&module=viewthread&tid=1814693", [
         ("page.kind", None, "viewthread"),
         ("thread.tid", None, 1814693), ("thread.fid", None, 115), ("thread.title", None, "固态硬盘 内存"),
         ("thread.author", None, "sonic3908"), ("thread.author_uid", None, 137121),
         ("thread.views", None, 341), ("thread.replies", None, 0),
         ("post.pids", None, [42787580, 42787586]),
         ("post.floor", 42787580, 1), ("post.author", 42787580, "sonic3908"), ("post.author_uid", 42787580, 137121),
         ("post.posted_at", 42787580, "2019-03-03T23:27:35+08:00"), ("post.posted_at_text", 42787580, "2019-3-3 23:27"),
         ("post.floor", 42787586, 2), ("post.author", 42787586, "sonic3908"),
         ("post.posted_at_text", 42787586, "2019-3-3 23:28"),
         ("post.content_text", 42787586, "for手机用户：闪迪SSD PLUS 120G全新未拆，150 三星DDR3 1600，8G*2，380 "
                                          "单买不包邮，全部打包包邮 有意者短消息或者留言"),
         ("attachment.aids", 42787580, [542440, 542441]),
     ]),
    ("bbs.saraba1st.com/mobileapi-viewthread-error-2.json",
     "http://bbs.saraba1st.com/2b/api/mobile/index.php?version=1&module=viewthread&tid=1", [
         ("page.kind", None, "special"), ("page.status", None, "not_found"),
         ("page.message", None, "抱歉，指定的主题不存在或已被删除或正在被审核"),
     ]),
    ("bbs.saraba1st.com/mobileapi-forumdisplay-1.json",
     "http://bbs.saraba1st.com/2b/api/mobile/index.php?version=1&module=forumdisplay&fid=6", [
         ("page.kind", None, "forumdisplay"), ("page.fid", None, 6), ("page.page", None, 1),
         ("forum.name", 6, "动漫论坛"), ("list.rows", None, 50),
         ("row.position", 1803713, 1), ("row.title", 1803713, "2019年冬季在播动画专楼汇总"),
         ("row.author", 1803713, "vxzms"), ("row.author_uid", 1803713, 444069),
         ("row.created_at_text", 1803713, "2019-1-11 22:29"), ("row.replies", 1803713, 22),
         ("row.views", 1803713, 11079), ("row.last_poster", 1803713, "vxzms"),
         ("row.last_post_at_text", 1803713, "2019-2-15 18:19"),
         ("row.position", 1175676, 2), ("row.title", 1175676, "比村乳业再度开张了"),
         ("row.author", 1175676, "黄金蔷薇"), ("row.author_uid", 1175676, 264690),
         ("row.created_at_text", 1175676, "2015-11-26 22:31"), ("row.replies", 1175676, 4066),
         ("row.views", 1175676, 607019), ("row.last_poster", 1175676, "哈里.谢顿"),
         ("row.last_post_at_text", 1175676, "2019-3-4 09:32"),
     ]),
    ("bbs.saraba1st.com/mobileapi-forumdisplay-2.json",
     "http://bbs.saraba1st.com/2b/api/mobile/index.php?version=1&module=forumdisplay&fid=51", [
         ("page.kind", None, "forumdisplay"), ("page.fid", None, 51), ("page.page", None, 1),
         ("forum.name", 51, "ＰＣ数码"), ("list.rows", None, 50),
         ("row.position", 800635, 1), ("row.title", 800635, "【萌叔】20180113，更新15年抽奖奖品公示，奖品总额翻倍。"),
         ("row.author", 800635, "颓废至死"), ("row.author_uid", 800635, 71755),
         ("row.created_at_text", 800635, "2012-4-9 15:22"), ("row.replies", 800635, 879),
         ("row.views", 800635, 593726), ("row.last_poster", 800635, "shiji5"),
         ("row.last_post_at_text", 800635, "2019-1-26 13:00"),
         ("row.position", 1815587, 2), ("row.title", 1815587, "你们都是用什么测试内存性能的？"),
         ("row.author", 1815587, "台球论坛网友"), ("row.author_uid", 1815587, 107254),
         ("row.created_at_text", 1815587, "2019-3-7 23:54"), ("row.replies", 1815587, 4),
         ("row.views", 1815587, 258), ("row.last_poster", 1815587, "小野賢章"),
         ("row.last_post_at_text", 1815587, "2019-3-8 12:38"),
     ]),
]

# discuz-x34-utf8-a-member/README.md: what a logged-in member sees that guests cannot.
MEMBER_CAPTURE: list[tuple[str, list[tuple[str, object, object]]]] = [
    ("http://bbs.example.test/forum.php?mod=viewthread&tid=27", [
        ("page.kind", None, "viewthread"), ("thread.title", None, "站务：会员守则"), ("thread.fid", None, 43),
        ("post.count", None, 1), ("post.first_author", None, "admin"),
        ("post.first_posted_at", None, "2024-01-01T10:00:00+08:00"),
    ]),
    ("http://bbs.example.test/forum.php?mod=forumdisplay&fid=43", [
        ("page.kind", None, "forumdisplay"), ("page.fid", None, 43), ("forum.name", 43, "站务公告"),
        ("list.tids", None, [27]),
    ]),
    ("http://bbs.example.test/forum.php", [
        ("page.kind", None, "index"), ("forum.name", 43, "站务公告"),
    ]),
]
