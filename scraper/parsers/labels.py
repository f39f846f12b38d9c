"""Every label the readers look for, in both scripts: one table, so a label added once serves both.

Discuz's language packs come in simplified (SC_UTF8, SC_GBK) and traditional (TC_UTF8, TC_BIG5) Chinese; the
traditional packs print the same labels with traditional characters (發表於, 本帖最後由 … 於 … 編輯, 該帖被管理員或版主
屏蔽, 積分, 回覆). Readers never spell a label's traditional form themselves: they name the simplified label and
get a pattern that matches either script, character by character (``label_re("本帖最后由")`` matches 本帖最后由
and 本帖最後由). Where a traditional pack words a label differently (not just character by character), the
other wording is listed in :data:`SYNONYMS` and matched too.

Functions:

* :func:`chars` / :func:`label_re` / :func:`any_label_re`: a regular expression (text) or compiled pattern for one
  label or several;
* :func:`label_regex` / :func:`label_pattern`: a whole regular expression written with simplified labels
  (``共\\s*(\\d+)\\s*页``), each label character made a class of its forms, the rest of the syntax untouched;
* :func:`xpath_contains` / :func:`xpath_contains_any`: an XPath predicate body that tests ``contains(., …)`` for
  every spelling;
* :func:`spellings`: every spelling of a label (simplified, traditional, synonyms), for exact lookups;
* :class:`LabelTable`: ``label -> value`` given in simplified labels, looked up with a label as either script
  shows it (``KNOWN_LABELS.find("積分")``);
* :func:`simplified`: a text with the traditional characters of this table turned back into simplified ones, so
  that a label read off a traditional page can be looked up in simplified tables (stats labels, states).

Readers name labels only here and in simplified characters; the traditional packs' spellings follow. The table
was checked against OpenCC's s2t / s2tw / s2hk (which made the G-TC capture) for every label the readers use.
"""
from __future__ import annotations

import re
from functools import lru_cache

# Simplified -> traditional, for the characters Discuz's labels use (templates and lang_*.php of X2–X3.5 and
# 7.x): each entry is a simplified character followed by its traditional form(s) (复覆復複: 回覆, 恢復, 複製).
# Entries whose characters are all the same are ignored. Add an entry here when a new label needs it.
_PAIRS = (
    "发發 于於 后後 编編 辑輯 该該 帖帖 被被 管管 理理 员員 版版 主主 屏屏 蔽蔽 作作 者者 禁禁 止止 删刪 除除 内內 容容 自自 动動 "
    "隐隱 藏藏 游遊 客客 如如 果果 您您 要要 查查 看看 本本 请請 回回 复覆 仅僅 可可 见見 积積 分分 题題 币幣 钱錢 "
    "威威 望望 贡貢 献獻 线線 时時 间間 注註 册冊 最最 登登 录錄 阅閱 读讀 权權 限限 精精 华華 好好 友友 记記 日日 志誌 "
    "相相 册冊 享享 听聽 众眾 收收 广廣 播播 帖帖 子子 级級 组組 单單 选選 多多 投投 票票 共共 有有 人人 参參 与與 "
    "结結 束束 距距 还還 天天 小小 钟鐘 已已 经經 过過 期期 悬懸 赏賞 解解 决決 答答 案案 佳佳 辩辯 论論 正正 反反 方方 "
    "观觀 点點 裁裁 判判 获獲 胜勝 辩辯 手手 支支 持持 对對 立立 场場 活活 类類 型型 开開 始始 地地 花花 销銷 性性 "
    "别別 男男 女女 报報 名名 数數 剩剩 余餘 额額 截截 商商 品品 现現 价價 原原 量量 所所 在在 成成 色色 新新 二二 "
    "手手 运運 费費 卖賣 家家 评評 计計 总總 全全 部部 理理 由由 次次 附附 件件 上上 传傳 载載 大大 图圖 片片 "
    "售售 买買 标標 签簽 警警 告告 匿匿 头頭 像像 该該 户戶 无無 法法 浏瀏 览覽 需需 样樣 说說 明明 详詳 细細 "
    "尚尚 未未 问問 访訪 块塊 抱抱 歉歉 指指 定定 存存 或或 正正 审審 核核 楼樓 沙沙 发發 板板 凳凳 "
    "地地 下下 室室 来來 机機 端端 网網 页頁 属屬 门門 个個 从從 当當 前前 离離 线線 刚剛 秒秒 钟鐘 半半 "
    "昨昨 前前 周週 月月 年年 份份 两兩 几幾 万萬 亿億 条條 项項 页頁 码碼 输輸 入入 跳跳 转轉 "
    "给給 宝寶 贝貝 买買 卖賣 货貨 邮郵 递遞 快快 平平 挂掛 号號 满滿 额額 状狀 态態 进進 行行 "
    "处處 应應 办辦 问問 务務 权權 兑兌 换換 积積 满滿 种種 设設 置置 显顯 示示 隐隱 际際 议議 "
    "图圖 标標 论論 坛壇 专專 区區 讨討 报報 导導 读讀 层層 沙沙 帮幫 顶頂 踩踩 扣扣 务務 复覆復複 干乾幹 "
    "里裡裏 台臺 制製 准準 历歷曆 钟鐘鍾 系係繫 松鬆 面麵 只隻 云雲 尽盡儘 "
    "会會 暂暫 征徵 担擔 虚虛 拟擬"
    " 为為"
    # showmessage texts, stats and moderation labels (允許, 關閉, 頻繁, 審覈, 沒有, 粉絲, 維護, 視頻認證, 購買…).
    " 许許 关關 闭閉 才才纔 频頻 布佈 众衆 核核覈 没沒 丝絲 统統 维維 护護 视視 认認 证證 购購 铜銅 链鏈 阅閲"
    # the CC defence's pages (页面重载开启, 代理服务器访问限制): scraper/parsers/barriers.py
    " 启啟"
)
S2T: dict[str, str] = {}  # simplified character -> its traditional form(s)
# Simplified characters an entry lists again among their traditional forms (核核覈: the packs write 審核, OpenCC
# 審覈): both stay spellings, and the character itself is the one traditional() writes.
_ALSO_ITSELF: set[str] = set()
for _entry in _PAIRS.split():
    _forms = "".join(ch for ch in _entry[1:] if ch != _entry[0])
    if _forms:
        S2T[_entry[0]] = "".join(dict.fromkeys(S2T.get(_entry[0], "") + _forms))
        if _entry[0] in _entry[1:]:
            _ALSO_ITSELF.add(_entry[0])
T2S: dict[str, str] = {t: s for s, forms in S2T.items() for t in forms}

# Labels a traditional pack words differently, not only character by character: simplified -> other spellings.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "回复": ("回覆", "回應"),
    "在线时间": ("線上時間",),
    "发表于": ("發表于", "发表於"),
    "登录": ("登入",),
    "用户": ("用戶", "會員"),
    "浏览": ("瀏覽", "觀看"),
    "服务器": ("伺服器",),
}

_TRANSLATE_T2S = str.maketrans(T2S)


def simplified(text: str) -> str:
    """``text`` with this table's traditional characters in simplified form (other characters unchanged)."""
    return text.translate(_TRANSLATE_T2S)


def traditional(text: str) -> str:
    """``text`` with this table's simplified characters in their (first) traditional form."""
    return "".join(ch if ch in _ALSO_ITSELF else S2T.get(ch, ch)[:1] for ch in text)


def _traditional_forms(text: str) -> list[str]:
    """Every traditional form of ``text``: one per combination of the forms of its characters that have several
    (回复 -> 回覆, 回復, 回複), at most :data:`_MAX_FORMS`."""
    out = [""]
    for ch in text:
        forms = ch + S2T[ch] if ch in _ALSO_ITSELF else S2T.get(ch, ch)
        out = [head + form for head in out for form in forms][:_MAX_FORMS]
    return out


_MAX_FORMS = 16


@lru_cache(maxsize=None)
def spellings(label: str) -> tuple[str, ...]:
    """Every spelling of ``label`` (given in simplified characters): itself, its traditional forms, its synonyms."""
    out = [label, *_traditional_forms(label)]
    for word, others in SYNONYMS.items():
        if word in label:
            out += [label.replace(word, other) for other in others]
            for other in others:
                out += _traditional_forms(label.replace(word, other))
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=None)
def chars(label: str) -> str:
    """A regular expression (text) matching ``label`` in either script: each character that has a traditional
    form becomes a class (``本帖最[后後]由``); synonyms are alternatives. Regex-special characters are escaped."""
    def one(spelling: str) -> str:
        return "".join(f"[{re.escape(ch)}{re.escape(S2T[ch])}]" if ch in S2T else re.escape(ch) for ch in spelling)

    forms = [one(label)]
    for word, others in SYNONYMS.items():
        if word in label:
            forms += [one(label.replace(word, other)) for other in others]
    forms = list(dict.fromkeys(forms))
    return forms[0] if len(forms) == 1 else "(?:" + "|".join(forms) + ")"


@lru_cache(maxsize=None)
def label_re(label: str, flags: int = 0) -> re.Pattern:
    """:func:`chars` compiled."""
    return re.compile(chars(label), flags)


def any_label_re(*labels: str, flags: int = 0) -> re.Pattern:
    """One compiled pattern matching any of ``labels``, in either script."""
    return re.compile("|".join(f"(?:{chars(label)})" for label in labels), flags)


def xpath_contains(label: str, what: str = ".") -> str:
    """An XPath predicate body: ``what`` contains ``label`` in any of its spellings."""
    return " or ".join(f"contains({what}, '{s}')" for s in spellings(label))


def xpath_contains_any(*labels: str, what: str = ".") -> str:
    """An XPath predicate body: ``what`` contains any of ``labels`` in any of their spellings."""
    return " or ".join(xpath_contains(label, what) for label in labels)


@lru_cache(maxsize=None)
def label_regex(pattern: str) -> str:
    """A regular expression (text) written with simplified labels, made to match either script: each character of
    the table becomes a class of its forms (``共\\s*(\\d+)\\s*页`` -> ``共\\s*(\\d+)\\s*[页頁]``); inside a class
    the forms are added to it (``[于於]`` stays one class). Escapes and the rest of the syntax are left alone.
    Word-level synonyms are not added: name those with :func:`chars` / :func:`any_label_re`."""
    out: list[str] = []
    in_class = escaped = False
    class_start = 0  # characters of the current class so far (a "]" first, or after "^", is literal)
    for ch in pattern:
        if escaped:
            out.append(ch)
            escaped = False
            class_start += 1
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif in_class:
            out.append(ch + S2T.get(ch, ""))
            in_class = ch != "]" or class_start == 0
            class_start += 0 if ch == "^" and class_start == 0 and out[-2] == "[" else 1
        elif ch == "[":
            out.append(ch)
            in_class = True
            class_start = 0
        elif ch in S2T:
            out.append(f"[{ch}{S2T[ch]}]")
        else:
            out.append(ch)
    return "".join(out)


def label_pattern(pattern: str, flags: int = 0) -> re.Pattern:
    """:func:`label_regex` compiled."""
    return re.compile(label_regex(pattern), flags)


class LabelTable(dict):
    """``label -> value`` looked up in either script: built from simplified labels (each synonym included), keyed
    by their :func:`simplified` spelling, so that ``table.find("在線時間")`` finds what ``"在线时间"`` was given."""

    def __init__(self, mapping: dict | None = None):
        super().__init__()
        for label, value in (mapping or {}).items():
            for spelling in spellings(label):
                self.setdefault(simplified(spelling), value)

    def find(self, label: str, default=None):
        """The value of ``label`` as a page shows it (either script), else ``default``."""
        return self.get(simplified(label), default)

    def has(self, label: str) -> bool:
        """Whether ``label`` (either script) is in the table."""
        return simplified(label) in self


__all__ = ["S2T", "T2S", "SYNONYMS", "simplified", "traditional", "spellings", "chars", "label_re", "any_label_re",
           "xpath_contains", "xpath_contains_any", "label_regex", "label_pattern", "LabelTable"]
