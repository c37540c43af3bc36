"""Filler words and vocal hesitations.

Two kinds, reported together as ``fillers: [{word, start_s, end_s, kind}]``:

* **lexical** — words such as 就是, 那个, 然后, 对吧 found in the recogniser's transcript. The
  list is data (``guidance/fillers.toml``) that trainers can edit. Words that are also
  ordinary words (这个, 那个) can be limited to where they behave like fillers: doubled
  (这个这个) or opening a phrase.
* **vocal** — 呃 / 嗯 hesitations, which recognisers usually leave out, found from the sound
  by the analysis (:mod:`speechcoach.analysis.hesitations`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Iterable, Sequence

import numpy as np

from ..characters import SENTENCE_END, CLAUSE_BREAK


_T2S_PAIRS = (
    "們们這这個个說说為为來来時时會会後后麼么還还沒没對对與与從从點点現现發发經经過过進进開开關关問问題题學学習习動动國国實实體体當当應应該该樣样種种讓让給给長长見见"
    "覺觉聽听話话講讲請请謝谢認认識识讀读寫写語语論论議议記记試试計计設设許许證证調调談谈課课訪访誰谁詞词變变聲声買买賣卖錢钱銀银鐵铁鐘钟錯错門门間间閉闭聞闻陽阳陰阴"
    "隊队際际險险難难雙双雖虽雞鸡離离電电靈灵頭头顏颜願愿類类顯显風风飛飞飯饭館馆馬马驗验魚鱼鳥鸟麗丽黃黄齊齐齒齿龍龙愛爱嗎吗啟启幫帮帶带師师張张強强歸归總总態态慣惯"
    "戰战戲戏擇择據据擔担擊击數数斷断無无舊旧條条東东業业極极樂乐標标機机權权歡欢歲岁歷历曆历氣气決决況况濟济準准滿满漢汉熱热燈灯爭争爾尔獨独環环產产畫画盡尽監监確确"
    "碼码礎础禮礼稱称積积穩稳競竞筆笔節节範范簡简糧粮係系紀纪約约紅红級级納纳紙纸組组細细終终結结絕绝統统綠绿維维網网緊紧線线練练績绩續续義义聯联職职腦脑臨临興兴舉举"
    "華华萬万葉叶蘇苏處处號号蟲虫術术衛卫裝装複复規规視视親亲覽览觀观訴诉診诊詳详誠诚諸诸護护貝贝負负財财責责貨货質质購购費费資资賽赛趕赶趨趋車车軍军輕轻較较輪轮轉转"
    "農农連连運运達达遠远適适選选邊边郵邮鄉乡醫医釋释針针鋼钢錄录鏡镜隨随隱隐雜杂雲云須须預预領领頻频顧顾養养餘余驚惊髮发鬧闹麵面黨党齡龄夢梦兩两週周屆届蕭萧鍋锅溫温"
    "廣广壯壮鯉鲤驢驴劉刘蓮莲鬆松別别啞哑敗败單单儲储討讨溝沟場场訊讯圖图書书報报傳传備备優优價价偉伟側侧億亿儀仪僅仅剛刚創创劃划劇剧勞劳勢势區区協协參参嚴严團团園园"
    "圍围壓压塊块壞坏夠够奮奋婦妇孫孙寧宁審审寶宝導导將将層层屬属嶺岭幣币幹干廳厅廠厂彈弹徑径復复徵征懷怀戶户擁拥攝摄敵敌殺杀滅灭測测濃浓災灾煉炼燒烧爺爷獎奖獲获瑪玛"
    "畢毕疊叠瘋疯療疗癥症盤盘碩硕禪禅禍祸穀谷窮穷竊窃築筑簽签籃篮紹绍綜综編编縣县繼继羅罗聖圣脫脱腳脚膚肤臉脸艱艰藝艺藥药虛虚蘭兰衝冲補补製制訂订訓训評评詢询誤误諾诺"
    "謀谋謂谓讚赞豐丰貴贵貸贷賓宾賴赖贊赞輔辅輸输辦办邏逻鄰邻鎮镇閃闪閱阅陸陆陳陈階阶響响順顺頁页項项頓顿額额飲饮飽饱駕驾騎骑鬥斗魯鲁鹽盐麥麦妳你裡里裏里於于乾干隻只"
    "繫系瞭了鍾钟檯台臺台颱台衹只祇只捨舍彙汇匯汇蹤踪嚮向佔占鬱郁醜丑穫获兒儿壽寿嘆叹嘩哗囉啰嘍喽誒诶喲哟嚕噜唄呗則则專专絲丝嗚呜藍蓝紐纽誌志務务員员値值幾几説说爲为"
    "啓启衆众綫线糰团麽么內内眾众灣湾彎弯擬拟壇坛構构墊垫蘋苹鏈链軟软庫库檔档絡络盧卢勁劲滙汇織织靜静劑剂膽胆腸肠腫肿瘡疮癢痒濕湿廢废揮挥攜携擴扩搶抢輯辑遲迟臟脏嚇吓"
    "紗纱"
)
"""Traditional → Simplified pairs (character, then its Simplified form) for the characters a
recogniser commonly writes in Traditional form: everyday words, the filler list and the jargon
catalogue. Not a full converter (no phrase-level rules; 著 is left alone because 著名 keeps it);
counts never depend on it, only the matching of words against Simplified lists does."""

_T2S = str.maketrans({_T2S_PAIRS[i]: _T2S_PAIRS[i + 1] for i in range(0, len(_T2S_PAIRS), 2)})


def to_simplified(text: str) -> str:
    """``text`` with common Traditional characters replaced by their Simplified forms (same length)."""
    return text.translate(_T2S)


HESITATION_WORDS = frozenset({"呃", "嗯", "啊", "额", "唔", "哦", "噢", "欸", "诶", "呣", "嗯嗯", "呃呃"})
"""Transcript words that are themselves hesitation sounds."""


@dataclass(frozen=True)
class Filler:
    """One filler.

    Attributes
    ----------
    word : str
        The filler word (for vocal hesitations: ``"呃"``).
    start_s, end_s : float
        Time in the recording (s).
    kind : str
        ``"lexical"`` (from the transcript) or ``"vocal"`` (from the sound).
    """

    word: str
    start_s: float
    end_s: float
    kind: str

    def to_dict(self) -> dict[str, Any]:
        """The report's entry."""
        return {"word": self.word, "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3), "kind": self.kind}


@dataclass(frozen=True)
class FillerRules:
    """The editable filler list (``guidance/fillers.toml``).

    Attributes
    ----------
    always : tuple of str
        Counted wherever they occur.
    contextual : tuple of str
        Counted only when doubled or when they open a phrase.
    max_per_minute : float
        More fillers per minute than this is a finding.
    """

    always: tuple[str, ...]
    contextual: tuple[str, ...]
    max_per_minute: float


@cache
def rules(folder: str | None = None) -> FillerRules:
    """The filler list of ``fillers.toml``: a trainer's guidance ``folder``'s (``None``: the shipped one).

    Raises
    ------
    speechcoach.guidance.GuidanceError
        The file is broken (checked when first read).
    """
    from ..guidance import filler_lists

    f = filler_lists(folder)
    return FillerRules(always=f.always, contextual=f.contextual, max_per_minute=f.max_per_minute)


def _char_times(words: Sequence[Any]) -> tuple[str, np.ndarray]:
    """Concatenated word text and a ``(start_s, end_s)`` row per character (words split evenly)."""
    text = []
    times = []
    for w in words:
        t = to_simplified(w.text)
        n = max(len(t), 1)
        edges = np.linspace(w.start_s, w.end_s, n + 1)
        for i, ch in enumerate(t):
            text.append(ch)
            times.append((edges[i], edges[i + 1]))
    return "".join(text), np.array(times, dtype=float).reshape(-1, 2)


def _is_break(ch: str) -> bool:
    return ch in SENTENCE_END or ch in CLAUSE_BREAK or ch.isspace()


def lexical_fillers(words: Sequence[Any], rule: FillerRules | None = None, *, script: str | None = None) -> tuple[Filler, ...]:
    """Filler words in a timed transcript.

    Parameters
    ----------
    words : sequence of objects with ``text``, ``start_s``, ``end_s``
        :class:`speechcoach.precise.transcript.Word` items, in order.
    rule : FillerRules, optional
        Defaults to :func:`rules`.
    script : str, optional, keyword-only
        What the speaker meant to say. A filler word the script itself holds ``k`` times (然后
        as a step of a procedure) is not a filler the first ``k`` times it is heard undoubled;
        a doubled one (然后然后) always is.

    Returns
    -------
    tuple of Filler
        In time order; overlapping matches keep the longer word.
    """
    rule = rule or rules()
    text, times = _char_times(words)
    if not text:
        return ()
    cands: list[tuple[int, int, str, bool]] = []  # start, end, word, doubled
    for kind, lst in (("always", rule.always), ("contextual", rule.contextual)):
        for fw in lst:
            start = text.find(fw)
            while start != -1:
                end = start + len(fw)
                doubled = text.startswith(fw, end) or (start >= len(fw) and text[start - len(fw) : start] == fw)
                if kind == "always" or doubled or start == 0 or _is_break(text[start - 1]):
                    cands.append((start, end, fw, doubled))
                start = text.find(fw, start + 1)
    cands.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    said = to_simplified(script) if script else ""
    allowed = {fw: said.count(fw) for _, _, fw, _ in cands}
    out: list[Filler] = []
    last_end = -1
    for s, e, fw, doubled in cands:
        if s < last_end:
            continue
        last_end = e
        if allowed.get(fw, 0) > 0 and not doubled:  # the script's own word, said as written
            allowed[fw] -= 1
            continue
        out.append(Filler(fw, float(times[s, 0]), float(times[e - 1, 1]), "lexical"))
    return tuple(out)


def merge(lexical: Iterable[Filler], vocal: Iterable[Filler]) -> tuple[Filler, ...]:
    """Both kinds in time order."""
    return tuple(sorted([*lexical, *vocal], key=lambda f: (f.start_s, f.kind)))


def per_minute(fillers: Sequence[Filler], speech_s: float) -> float:
    """Fillers per minute of speech."""
    return 60.0 * len(fillers) / speech_s if speech_s > 0 else 0.0
