"""HTML and Markdown reports: self-contained, fully localized, escaped, seekable."""

from __future__ import annotations

import base64
import copy
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from speechcoach.errors import AudioError
from speechcoach.locales import strings
from speechcoach.render import FORMATS, render
from speechcoach.render.html import audio_source, render_html
from speechcoach.render.markdown import md_escape, render_markdown

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
VOID = {"meta", "br", "input", "link", "img", "hr", "source", "wbr"}


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    """Reports of two samples (with their scripts) in both languages; each sample analysed once."""
    from speechcoach.analysis.pipeline import analyze_file, read_script
    from speechcoach.render.report import to_dict
    from speechcoach.settings import Settings

    out = {}
    for name in ("on_target_retirement", "mid_phrase_pension"):
        an = analyze_file(SAMPLES / f"{name}.wav", script=read_script(SAMPLES / f"{name}.txt"), settings=Settings())
        for lang in ("zh", "en"):
            out[f"{name}.{lang}"] = to_dict(an, lang=lang, created="2026-03-05T09:07:00+08:00")
    return out


def unaligned(report: dict[str, Any]) -> dict[str, Any]:
    """The report as it would be without a script alignment (pauses not placed)."""
    r = copy.deepcopy(report)
    r.pop("alignment", None)
    r.pop("script_marked", None)
    for p in r["pauses"]:
        p.update(placement="unknown", char_index=None, context=None)
    return r


class Page(HTMLParser):
    """Collects tags, links and visible text, noting text inside ``lang="zh-CN"`` elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.text: list[str] = []  # visible text outside zh-marked elements, script and style
        self.zh_text: list[str] = []
        self.attrs_text: list[str] = []  # title / aria-label / alt outside zh-marked elements
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.errors: list[str] = []

    def _zh(self) -> bool:
        return any(z for _, z in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        for k in ("src", "href", "data", "poster", "action", "srcset"):
            if k in a:
                self.links.append((tag, k, a[k]))
        is_zh = a.get("lang", "").startswith("zh") and tag != "html"
        if not (self._zh() or is_zh):
            for k in ("title", "aria-label", "alt"):
                if k in a:
                    self.attrs_text.append(a[k])
        if tag not in VOID:
            self.stack.append((tag, is_zh))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {[t for t, _ in self.stack][-3:]})")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        names = [t for t, _ in self.stack]
        if "style" in names or "script" in names:
            return
        (self.zh_text if self._zh() else self.text).append(data)


def parse(doc: str) -> Page:
    p = Page()
    p.feed(doc)
    p.close()
    return p


def html_of(report: dict[str, Any]) -> str:
    return render_html(report, audio_src="rec.wav")


def test_formats_include_md_and_html() -> None:
    assert {"md", "html"} <= set(FORMATS)


def test_report_strings_exist_in_both_languages() -> None:
    assert set(strings("zh")["report"]) == set(strings("en")["report"])


@pytest.mark.parametrize("key", ["on_target_retirement.zh", "mid_phrase_pension.en"])
def test_html_parses_and_is_self_contained(reports, key) -> None:
    doc = render(reports[key], "html", audio_src="../samples/x.wav")
    page = parse(doc)
    assert page.errors == []
    assert page.stack == []
    assert doc.startswith("<!DOCTYPE html>")
    for tag, attr, value in page.links:
        if tag == "audio" and attr == "src":
            assert value == "../samples/x.wav"
        else:
            assert value.startswith("#"), (tag, attr, value)  # in-page links only
    tags = {t for t, _ in page.tags}
    assert not tags & {"link", "img", "iframe", "object", "embed"}
    assert not any(t == "script" and "src" in a for t, a in page.tags)
    assert "@import" not in doc and "url(" not in doc and "http://" not in doc and "https://" not in doc


@pytest.mark.parametrize("sample", ["on_target_retirement", "mid_phrase_pension"])
def test_english_html_has_no_chinese_outside_the_script(reports, sample) -> None:
    r = reports[f"{sample}.en"]
    page = parse(html_of(r))
    leftovers = [t for t in page.text + page.attrs_text if CJK.search(t)]
    assert leftovers == []
    assert page.zh_text, "the script should be marked lang=zh-CN"
    r2 = unaligned(r)
    page2 = parse(html_of(r2))
    assert [t for t in page2.text + page2.attrs_text if CJK.search(t)] == []


@pytest.mark.parametrize("sample", ["on_target_retirement", "mid_phrase_pension"])
def test_chinese_html_has_no_english_labels(reports, sample) -> None:
    r = reports[f"{sample}.zh"]
    for variant in (r, unaligned(r)):
        doc = html_of(variant)
        page = parse(doc)
        text = " ".join(page.text + page.attrs_text)
        for allowed in (r["input"]["path"], Path(r["input"]["path"]).name, r["generator"], "rec.wav"):  # rec.wav: the linked recording
            text = text.replace(allowed, " ")
        words = set(re.findall(r"[A-Za-z]{2,}", text))
        assert words == set(), words


def test_html_header_headline_and_sections(reports) -> None:
    r = reports["on_target_retirement.en"]
    doc = html_of(r)
    L = strings("en")["labels"]
    for label in (L["title"], L["rate"], L["timeline"], L["pace_chart"], L["pauses"], L["script"], L["findings"], L["self_check"], L["score"]):
        assert label in doc
    assert "5 March 2026, 09:07" in doc
    assert L["source_script"] in doc
    assert f'{r["rate"]["cpm"]:.0f}' in doc
    assert strings("en")["verdict"][r["rate"]["verdict"]] in doc
    for item in r["self_check"]:
        assert item["title"] in doc


def test_zh_date_and_numbers(reports) -> None:
    doc = html_of(reports["on_target_retirement.zh"])
    assert "2026年3月5日 09:07" in doc
    assert "字/分钟" in doc and "秒" in doc


def test_every_pause_and_timed_finding_seeks_the_audio(reports) -> None:
    r = reports["mid_phrase_pension.zh"]
    page = parse(html_of(r))
    groups = [a for t, a in page.tags if t == "g" and "pause" in a.get("class", "").split()]
    assert len(groups) == len(r["pauses"])
    assert all("data-t" in a for a in groups)
    assert {a["class"].split()[1] for a in groups} <= {"p-sentence", "p-clause", "p-mid_phrase", "p-unknown"}
    timed = [f for f in r["findings"] if f["start_s"] is not None]
    lis = [a for t, a in page.tags if t == "li" and a.get("class", "").startswith("sev-") and "data-t" in a]
    assert len(lis) == len(timed)
    svgs = [a for t, a in page.tags if t == "svg" and "data-t1" in a]
    assert len(svgs) == 2  # timeline and pace chart
    assert float(svgs[0]["data-t1"]) == pytest.approx(r["input"]["duration_s"], abs=1e-3)
    assert any(t == "audio" and a.get("id") == "player" for t, a in page.tags)


def test_findings_most_important_first_and_linked_to_guidance(reports) -> None:
    r = copy.deepcopy(reports["mid_phrase_pension.en"])
    r["findings"].reverse()
    doc = html_of(r)
    order = [m.group(1) for m in re.finditer(r'<li class="sev-(\w+)"', doc)]
    rank = {"problem": 0, "warning": 1, "info": 2}
    assert order == sorted(order, key=rank.__getitem__)
    for f in r["findings"]:
        assert f'href="#g-{f["guidance"]}"' in doc
        assert f'id="g-{f["guidance"]}"' in doc


def test_all_four_placements_are_drawn_and_marked_in_the_script(reports) -> None:
    r = unaligned(reports["on_target_retirement.zh"])
    places = ["sentence", "clause", "mid_phrase", "unknown"]
    script = r["script"]
    idx = [i for i, ch in enumerate(script) if ch.strip() and not re.match(r"[，。：；、！？]", ch)]
    for k, p in enumerate(r["pauses"][:4]):
        p.update(placement=places[k], char_index=idx[10 * (k + 1)])
    doc = html_of(r)
    for place in places:
        assert f'class="pause p-{place}"' in doc
        assert f'class="pm p-{place}"' in doc
    assert strings("zh")["report"]["script_marks"] in doc
    # a mark follows its character, after the punctuation that closes it
    r2 = copy.deepcopy(r)
    comma = script.index("，")
    r2["pauses"] = [dict(r["pauses"][0], char_index=comma - 1, placement="clause")]
    doc2 = html_of(r2)
    i = doc2.index('class="script"')
    seg = doc2[i:]
    assert seg.index("，") < seg.index('class="pm p-clause"')


def test_plain_script_without_alignment(reports) -> None:
    r = unaligned(reports["mid_phrase_pension.en"])
    doc = html_of(r)
    assert strings("en")["report"]["script_plain"] in doc
    assert 'class="pm ' not in doc
    assert r["script"].strip().splitlines()[0][:10] in doc


def test_no_script_means_no_script_section(reports) -> None:
    r = unaligned(reports["mid_phrase_pension.zh"])
    del r["script"]
    r["characters"]["source"] = "estimate"
    doc = html_of(r)
    assert 'id="h-script"' not in doc
    assert strings("zh")["labels"]["source_estimate"] in doc


def test_everything_is_escaped(reports) -> None:
    r = copy.deepcopy(reports["mid_phrase_pension.en"])
    evil = '<script>alert("x")</script>&<u onclick=x>'
    r["input"]["path"] = f"rec/{evil}.wav"
    r["script"] = evil + r["script"]
    r["findings"][0]["message"] = evil
    r["pauses"][0]["context"] = evil
    r["warnings"] = [{"id": "noisy", "message": evil}]
    doc = render_html(r, audio_src='a".wav')
    assert evil not in doc
    assert "<u " not in doc
    assert doc.count("<script>") == 1  # only the page's own script
    assert 'src="a&quot;.wav"' in doc
    assert parse(doc).errors == []


def test_audio_source_relative_to_the_output_folder(tmp_path, monkeypatch) -> None:
    (tmp_path / "rec").mkdir()
    wav = tmp_path / "rec" / "练习 1.wav"
    wav.write_bytes(b"RIFF0000WAVE")
    monkeypatch.chdir(tmp_path)
    assert audio_source("rec/练习 1.wav", tmp_path / "out" / "r.html") == "../rec/%E7%BB%83%E4%B9%A0%201.wav"
    assert audio_source("rec/练习 1.wav", Path("r.html")) == "rec/%E7%BB%83%E4%B9%A0%201.wav"
    assert audio_source(wav, None) == "rec/%E7%BB%83%E4%B9%A0%201.wav"


def test_audio_embedded_as_data_uri(tmp_path) -> None:
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF\x00\x01WAVEdata")
    src = audio_source(wav, tmp_path / "r.html", embed=True)
    assert src.startswith("data:audio/wav;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == wav.read_bytes()
    with pytest.raises(AudioError):
        audio_source(tmp_path / "missing.wav", None, embed=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_markdown_report(reports, lang) -> None:
    r = reports[f"mid_phrase_pension.{lang}"]
    md = render(r, "md")
    L = strings(lang)["labels"]
    assert md.startswith(f"# {L['title']}\n")
    assert f"## {L['findings']}" in md
    table = [ln for ln in md.splitlines() if re.match(r"\| \d+ \|", ln)]
    assert len(table) == len(r["pauses"])
    assert md.count("- [ ] ") == len(r["self_check"])
    assert "<svg" not in md and "<" not in md.replace("\\<", "")
    if lang == "en":  # Chinese only where the script is quoted
        runs = re.findall(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+", md)
        assert runs and [x for x in runs if x not in r["script"]] == []
    else:
        text = md.replace(r["generator"], "").replace(r["input"]["path"], "")
        text = re.sub(r"`[^`]*`", "", text)  # pause marks in the script
        words = set(re.findall(r"[A-Za-z]{2,}", text))
        assert words == set(), words


def test_markdown_without_alignment_and_escaping(reports) -> None:
    r = unaligned(reports["on_target_retirement.en"])
    r["findings"][0]["message"] = "a *bold* [link](x) | pipe"
    md = render_markdown(r)
    assert strings("en")["report"]["script_plain"] in md
    assert r"\*bold\*" in md and r"\[link\]" in md and r"\|" in md


# -- precise mode: transcript, fillers and hesitations, policy terms ----------------------------

JARGON_SCRIPT = "去外地看病，要先做异地就医备案。起付线以上的部分，医保按比例报销。"


@pytest.fixture(scope="module")
def jargon_reports(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """A real recording analysed against a script with policy terms (no recogniser: terms found in the script)."""
    from speechcoach.analysis.pipeline import analyze_file, read_script
    from speechcoach.render.report import to_dict
    from speechcoach.settings import Settings

    script = tmp_path_factory.mktemp("jargon") / "script.txt"
    script.write_text(JARGON_SCRIPT, encoding="utf-8")
    an = analyze_file(SAMPLES / "on_target_reimbursement.wav", script=read_script(script), settings=Settings())
    return {lang: to_dict(an, lang=lang, created="2026-03-05T09:07:00+08:00") for lang in ("zh", "en")}


def precise(report: dict[str, Any]) -> dict[str, Any]:
    """The report with what the recogniser would add: a transcript, fillers, a spoken policy term."""
    r = copy.deepcopy(report)
    segs = [
        {"start_s": 0.52, "end_s": 3.9, "text": "您好，退休认证可以在手机上办。"},
        {"start_s": 4.25, "end_s": 9.0, "text": "步骤是：首先，打开社保应用；"},
        {"start_s": 9.4, "end_s": 14.0, "text": "然后，点开认证服务，对着镜头刷脸。"},
    ]
    r["transcript"] = {"text": "".join(s["text"] for s in segs), "source": "asr", "segments": segs}
    r["fillers"] = [
        {"word": "就是", "start_s": 2.1, "end_s": 2.4, "kind": "lexical"},
        {"word": "呃", "start_s": 6.05, "end_s": 6.5, "kind": "vocal"},
    ]
    r["jargon"] = [
        {"term": "待遇领取资格认证", "plain": "证明您本人还健在、能继续领钱", "start_s": 11.3, "in_script": False},
        {"term": "起付线", "plain": "每年自己先掏的那部分钱", "start_s": None, "in_script": True},
    ]
    return r


def test_jargon_found_in_the_script_without_the_recogniser(jargon_reports) -> None:
    for lang, r in jargon_reports.items():
        assert {j["term"] for j in r["jargon"]} >= {"异地就医备案", "起付线"}
        assert "transcript" not in r and not r.get("fillers")
        L = strings(lang)["labels"]
        doc = html_of(r)
        page = parse(doc)
        assert page.errors == []
        assert 'id="h-jargon"' in doc and 'id="h-transcript"' not in doc and 'id="h-fillers"' not in doc
        assert doc.count(f'<td class="when muted">{L["in_script"]}</td>') == len(r["jargon"])
        for j in r["jargon"]:
            assert j["term"] in doc and j["plain"] in doc
        md = render_markdown(r)
        assert f"## {L['jargon']}" in md and f"## {L['transcript']}" not in md and f"## {L['fillers']}" not in md
        rows = [ln for ln in md.splitlines() if ln.startswith("| ") and ln.endswith(f"| {L['in_script']} |")]
        assert len(rows) == len(r["jargon"])


def test_transcript_fillers_and_terms_seek_the_audio(reports) -> None:
    r = precise(reports["on_target_retirement.en"])
    doc = html_of(r)
    page = parse(doc)
    assert page.errors == []
    L = strings("en")["labels"]
    for label in (L["transcript"], L["fillers"], L["jargon"]):
        assert label in doc
    segs = [a for t, a in page.tags if t == "span" and a.get("class") == "seg"]
    assert [float(a["data-t"]) for a in segs] == [s["start_s"] for s in r["transcript"]["segments"]]
    assert [float(a["data-e"]) for a in segs] == [s["end_s"] for s in r["transcript"]["segments"]]
    assert all(a.get("role") == "button" and a.get("tabindex") == "0" for a in segs)
    assert "0:00.5" in doc and "0:04.3" in doc
    # fillers and the spoken term play from a moment before them; the term in the script is not clickable
    rows = [a for t, a in page.tags if t == "tr" and "data-t" in a]
    seeks = {round(float(a["data-t"]), 3) for a in rows}
    assert {1.1, 5.05, 10.3} <= seeks
    assert L["filler_lexical"] in doc and L["filler_vocal"] in doc
    assert '<td class="when">0:11.3</td>' in doc
    assert f'<td class="when muted">{L["in_script"]}</td>' in doc
    jargon = doc[doc.index('id="h-jargon"') : doc.index('id="h-findings"')]
    assert jargon.count("<tr data-t=") == 1 and jargon.count("<tr>") == 2  # header row, the term in the script


def test_precise_sections_are_escaped(reports) -> None:
    r = precise(reports["on_target_retirement.zh"])
    evil = '<script>alert("x")</script>&<u onclick=x>'
    r["transcript"]["segments"][0]["text"] = evil
    r["fillers"][0]["word"] = evil
    r["fillers"][1]["kind"] = evil
    r["jargon"][0]["term"] = evil
    r["jargon"][1]["plain"] = evil
    doc = html_of(r)
    assert evil not in doc and "<u " not in doc
    assert doc.count("<script>") == 1
    assert parse(doc).errors == []
    md = render_markdown(r)
    assert "<" not in md.replace("\\<", "")


@pytest.mark.parametrize("sample", ["on_target_retirement", "mid_phrase_pension"])
def test_english_precise_sections_have_no_chinese_outside_quoted_text(reports, sample) -> None:
    for variant in (precise(reports[f"{sample}.en"]), precise(unaligned(reports[f"{sample}.en"]))):
        page = parse(html_of(variant))
        assert [t for t in page.text + page.attrs_text if CJK.search(t)] == []
        assert "呃" in page.zh_text and any("退休认证" in t for t in page.zh_text)


@pytest.mark.parametrize("sample", ["on_target_retirement", "mid_phrase_pension"])
def test_chinese_precise_sections_have_no_english_labels(reports, sample) -> None:
    r = reports[f"{sample}.zh"]
    for variant in (precise(r), precise(unaligned(r))):
        page = parse(html_of(variant))
        text = " ".join(page.text + page.attrs_text)
        for allowed in (r["input"]["path"], Path(r["input"]["path"]).name, r["generator"], "rec.wav"):  # rec.wav: the linked recording
            text = text.replace(allowed, " ")
        assert set(re.findall(r"[A-Za-z]{2,}", text)) == set()
        L = strings("zh")["labels"]
        assert L["filler_vocal"] in page.text and L["in_script"] in page.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_markdown_precise_sections(reports, lang) -> None:
    r = precise(reports[f"on_target_retirement.{lang}"])
    md = render_markdown(r)
    L = strings(lang)["labels"]
    for label in (L["transcript"], L["fillers"], L["jargon"]):
        assert f"## {md_escape(label)}" in md
    assert "- `0:00.5` 您好，退休认证可以在手机上办。" in md
    assert "- `0:09.4` 然后，点开认证服务，对着镜头刷脸。" in md
    assert f"| 2 | 0:06.1 | 呃 | {md_escape(L['filler_vocal'])} |" in md
    assert "| 待遇领取资格认证 | 证明您本人还健在、能继续领钱 | 0:11.3 |" in md
    assert f"| 起付线 | 每年自己先掏的那部分钱 | {L['in_script']} |" in md
    if lang == "en":
        runs = re.findall(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+", md)
        quoted = r["script"] + r["transcript"]["text"] + "".join(
            x for j in r["jargon"] for x in (j["term"], j["plain"])
        ) + "".join(f["word"] for f in r["fillers"])
        assert [x for x in runs if x not in quoted] == []
    else:
        text = md.replace(r["generator"], "").replace(r["input"]["path"], "")
        assert set(re.findall(r"[A-Za-z]{2,}", text)) == set()


def test_chinese_markdown_pause_marks_in_seconds(reports) -> None:
    r = reports["mid_phrase_pension.zh"]
    assert any(re.search(r"⏸\d+(\.\d+)?s", p.get("context") or "") for p in r["pauses"])
    md = render_markdown(r)
    assert re.search(r"⏸\d+(\.\d+)?s", md) is None
    rows = [ln for ln in md.splitlines() if re.match(r"\| \d+ \|", ln)]
    assert rows and all(re.search(r"⏸\d+\.\d 秒", ln) for ln in rows if "⏸" in ln and "✗" not in ln)
    assert any("⏸" in ln for ln in rows)
    marked = [f for f in r["findings"] if re.search(r"⏸\d", f["message"])]
    for f in marked:  # messages quoting the script get the same marks
        assert re.sub(r"⏸(\d+(?:\.\d+)?)s", r"⏸\1 秒", f["message"]).split("⏸")[0] in md
    en = render_markdown(reports["mid_phrase_pension.en"])
    assert re.search(r"⏸\d+\.\d s", en) and re.search(r"⏸\d+(\.\d+)?s", en) is None


def test_one_pace_window_shows_no_spread_fastest_or_trend(tmp_path):
    import soundfile as sf

    from speechcoach.analysis.pipeline import analyze_file
    from speechcoach.render.report import to_dict
    from speechcoach.settings import Settings

    y, sr = sf.read(SAMPLES / "on_target_retirement.wav")
    short = tmp_path / "short.wav"
    sf.write(short, y[: int(6.5 * sr)], sr)  # ~6 s of speech: one 8 s pace window
    rep = to_dict(analyze_file(short, settings=Settings(lang="en")))
    assert len(rep["pace"]["series"]) == 1
    label = strings("en")["labels"]["pace_cv"]
    for fmt in ("text", "md", "html"):
        assert label not in render(rep, fmt), fmt  # a cv of 0.00 from one window would mislead
    text = render(rep, "text")
    assert not re.search("[▁▂▃▄▅▆▇█]", text), text  # no one-bar spark line ("▇ 130–130"): reads as an even pace
    assert not any(ln.startswith(strings("en")["labels"]["pace"]) for ln in text.splitlines())  # no section, as in md
    assert 'id="h-pace"' not in render(rep, "html")  # no one-point chart either (Markdown has no section)
    assert f"## {strings('en')['labels']['pace_chart']}" not in render(rep, "md")


def test_every_finding_in_the_text_report_names_its_guidance_item(reports):
    for name, rep in reports.items():
        text = render(rep, "text")
        for f in rep["findings"]:
            g = rep["guidance"][f["guidance"]]
            assert f"→ {g['title']}" in text, (name, f["id"])  # info findings too


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_report_shows_the_points_the_score_lost(reports, lang):
    """A trainee sees why the score is not 100: each rule that cost points, beside the score, in
    the terminal, Markdown and HTML reports (the practice page shows the HTML one); nothing
    beside a score of 100."""
    r = copy.deepcopy(reports[f"mid_phrase_pension.{lang}"])
    r["score_deductions"] = {"rate": 4, "pauses": 12, "pace": 0}
    r["score"] = 84
    items = {"zh": "语速 −4，停顿 −12", "en": "rate −4, pauses −12"}[lang]
    lost = {"zh": f"84/100（{items}）", "en": f"84/100 ({items})"}[lang]
    label = strings(lang)["labels"]["score"]
    colon = strings(lang)["report"]["colon"]
    assert f"{label}{colon}{lost}" in render(r, "text")
    assert f"**{label}**{colon}{lost}" in render(r, "md")
    page = render(r, "html")
    shown = re.search(r'<div class="num">84</div>.*?<div class="lost"[^>]*>(.*?)</div>', page)
    assert shown and re.sub("<[^>]+>", "", shown.group(1)) == items
    # each item stays whole on a narrow score column ("语速变化 −6" never splits after 语)
    assert shown.group(1).count('<span class="item">') == 2 and ".score .lost .item{white-space:nowrap}" in page
    assert "−0" not in render(r, "text") + render(r, "md")  # a rule that cost nothing is left out
    full = copy.deepcopy(r)
    full["score_deductions"] = {"rate": 0, "pauses": 0, "pace": 0}
    full["score"] = 100
    for fmt in ("text", "md"):
        line = next(ln for ln in render(full, fmt).splitlines() if label in ln)
        assert line.endswith("100/100"), line  # nothing after the score
    assert '<div class="num">100</div>' in render(full, "html") and 'class="lost"' not in render(full, "html")


@pytest.mark.parametrize("sample", ["on_target_retirement", "mid_phrase_pension"])
def test_chinese_text_and_markdown_labels_use_full_width_punctuation(reports, sample):
    """zh labels end in "：" (no space), remarks go in "（）": no ASCII colon or bracket after a
    Chinese word (the tester's "文件: ", "字数: 62 (按讲稿计数)"); English keeps ": " and " (".
    The terminal pause table keeps its columns level, a Chinese character taking two cells."""
    from speechcoach.render.text import _width

    zh, en = reports[f"{sample}.zh"], reports[f"{sample}.en"]
    for fmt in ("text", "md"):
        out = render(zh, fmt)
        assert not re.search(r"[\u4e00-\u9fff）] ?[:(]", out), re.findall(r".{12}[\u4e00-\u9fff）] ?[:(].{6}", out)
        L = strings("zh")["labels"]
        for label in ("file", "duration", "chars", "rate", "score"):
            assert f"{L[label]}：" in out or f"{L[label]}**：" in out, (fmt, label)
    text = render(zh, "text")
    assert "字数：" in text and "（按讲稿计数）" in text
    assert all(f"{g['title']}：{g['advice']}" in text for g in zh["self_check"])
    en_text = render(en, "text")
    assert "File: " in en_text and "Characters: " in en_text and " (counted from the script)" in en_text
    lines = text.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("#"))
    table = lines[head: head + 1 + len(zh["pauses"])]
    def right_edge(line: str, cell: str) -> int:  # the terminal column where ``cell`` ends in ``line``
        return _width(line[: line.index(cell) + len(cell)])

    length = strings("zh")["labels"]["length"]
    assert {right_edge(ln, ln.split()[1]) for ln in table[1:]} | {right_edge(table[0], strings("zh")["labels"]["start"])} == {
        right_edge(table[1], table[1].split()[1])
    }  # the start column: one right edge (exact: whole cells)
    assert {right_edge(ln, "秒") for ln in table[1:]} == {right_edge(table[0], length)}  # the length column too
