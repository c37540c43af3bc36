"""Counting the spoken characters of a script."""

from __future__ import annotations

import pytest

from speechcoach.characters import break_after, count_spoken, read_cardinal, spoken_units


@pytest.mark.parametrize(
    "text,count",
    [
        ("退休认证", 4),
        ("2024年", 5),  # 二〇二四年
        ("500元", 3),  # 五百元
        ("100块钱", 4),  # 一百块钱
        ("交500元社保，看病花费1000元", 13),
        ("60-80厘米", 7),  # 六十到八十厘米
        ("40%", 5),  # 百分之四十
        ("3.5天", 4),  # 三点五天
        ("APP咨询", 5),
        ("你好，世界！😀 ……", 4),
        ("１２３", 5),  # full-width digits: 一百二十三
        ("13800138000", 11),  # phone numbers digit by digit
        ("拨打12333咨询", 9),  # a hotline is a code: 一二三三三, not 一万两千三百三十三
        ("邮编100081。", 8),  # a postcode too
        ("覆盖15000人", 7),  # an amount with its unit is a number: 一万五千人
        ("报销10000元", 5),  # 一万元
        ("", 0),
        ("。，！？", 0),
    ],
)
def test_count_spoken(text, count):
    assert count_spoken(text) == count


@pytest.mark.parametrize(
    "n,reading",
    [(0, "零"), (10, "十"), (15, "十五"), (105, "一百零五"), (120, "一百二十"), (1000, "一千"), (1005, "一千零五"), (10000, "一万"), (12345, "一万二千三百四十五"), (100020, "十万零二十")],
)
def test_read_cardinal(n, reading):
    assert read_cardinal(n) == reading


def test_units_point_back_into_the_script():
    text = "请带500元。"
    units = spoken_units(text)
    assert "".join(u.text for u in units) == "请带五百元"
    assert [u.index for u in units] == [0, 1, 2, 2, 5]


def test_break_after():
    text = "首先，带上身份证。然后去窗口"
    assert break_after(text, 1) == "clause"
    assert break_after(text, 7) == "sentence"
    assert break_after(text, 4) == "none"
