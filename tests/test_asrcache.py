"""Cached transcripts (:mod:`speechcoach.precise.cache`): keys, entries, bounds, where they live, and
the recogniser's work reused by ``batch`` after a guidance edit and by ``analyze``/``check``.

The recogniser tests run Whisper for real (skipped without it or the corpus). They count the
real decodings with a counting wrapper around :func:`speechcoach.precise.asr.decode` that calls it
unchanged, and check what the batch records in its state; nothing of the analysis is mocked.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from speechcoach.precise import asr, cache as asrcache
from speechcoach import fileio
from speechcoach.precise.transcript import Segment, Transcript, Word
from speechcoach.precise.cache import SCHEMA, TranscriptCache, prune, transcript_key
from speechcoach.app.batch import STATE_DIR, TRANSCRIPTS_DIR, run_batch
from speechcoach.app.cli import app
from speechcoach.guidance import export
from speechcoach.settings import Settings

from .conftest import CORPUS

runner = CliRunner()

TRANSCRIPT = Transcript(
    text="卡尔普陪外孙",
    raw_text="卡尔普陪外孙你的香瓜你的香瓜你的香瓜",
    segments=(Segment(0.1 + 0.2, 1.7000000000000002, "卡尔普陪外孙"), Segment(1.9, 2.3, "你的香瓜你的香瓜你的香瓜", loop=True)),
    words=(Word(0.30000000000000004, 0.485, "卡"), Word(0.485, 1.7000000000000002, "尔普陪外孙")),
    model="whisper-base",
    compute_s=6.5,
)


def _key(tag: str) -> str:
    return transcript_key(np.full(160, float(len(tag)), np.float32), 16_000, np.array([[0.0, 0.01]]), "/nowhere", {"tag": tag})


# --- entries ----------------------------------------------------------------------------------
def test_an_entry_reads_back_exactly(tmp_path):
    cache = TranscriptCache(tmp_path)
    key = _key("a")
    assert cache.get(key) is None and (cache.reused, cache.computed) == (0, 0)
    cache.put(key, TRANSCRIPT)
    assert cache.get(key) == TRANSCRIPT  # every time to the last bit, the rejected segment and raw text kept
    assert (cache.reused, cache.computed) == (1, 1)
    assert TranscriptCache(tmp_path, reuse=False).get(key) is None  # --force: recomputed


@pytest.mark.parametrize(
    "damage",
    [
        lambda p, other: p.write_bytes(b"\x00\xff garbage"),
        lambda p, other: p.write_bytes(p.read_bytes()[:40]),  # truncated
        lambda p, other: p.write_text("[]", encoding="utf-8"),
        lambda p, other: p.write_bytes(other.read_bytes()),  # another key's entry under this name
        lambda p, other: p.write_text(p.read_text(encoding="utf-8").replace(SCHEMA, "speechcoach.transcript-cache/0"), encoding="utf-8"),
        lambda p, other: p.write_text(p.read_text(encoding="utf-8").replace("false,", '"no",'), encoding="utf-8"),
        lambda p, other: p.write_text(p.read_text(encoding="utf-8").replace("0.485", '"0.485"'), encoding="utf-8"),
        lambda p, other: p.write_text("[" * 100_000, encoding="utf-8"),  # too deep for the parser
        lambda p, other: (p.unlink(), p.mkdir()),  # a folder in its place
    ],
    ids=["garbage", "truncated", "not-an-entry", "foreign", "other-schema", "bad-flag", "time-as-text", "deep", "folder"],
)
def test_a_corrupt_or_foreign_entry_is_ignored(tmp_path, damage):
    cache = TranscriptCache(tmp_path)
    key, other = _key("a"), _key("bb")
    cache.put(key, TRANSCRIPT)
    cache.put(other, TRANSCRIPT)
    damage(cache.path(key), cache.path(other))
    assert cache.get(key) is None
    if cache.path(key).is_file():  # stored again over the damaged file, it is served
        cache.put(key, TRANSCRIPT)
        assert cache.get(key) == TRANSCRIPT


def test_an_unwritable_folder_is_no_error(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    cache = TranscriptCache(tmp_path / "file" / "cache")  # a file is in the way of the folder
    cache.put(_key("a"), TRANSCRIPT)
    assert cache.get(_key("a")) is None and cache.computed == 1


def test_the_folder_keeps_the_recently_used_within_its_bound(tmp_path):
    cache = TranscriptCache(tmp_path, max_bytes=10**9)
    keys = [_key("k" * (i + 1)) for i in range(5)]
    for i, key in enumerate(keys):
        cache.put(key, TRANSCRIPT)
        os.utime(cache.path(key), (1000 + i, 1000 + i))  # stored one after the other
    size = cache.path(keys[0]).stat().st_size
    cache.get(keys[0])  # the oldest, used again: now the most recent
    writing, abandoned = tmp_path / f".{keys[1]}.json.abc.tmp", tmp_path / f".{keys[2]}.json.def.tmp"
    writing.write_bytes(b"x" * 10 * size)  # a write in progress is not an entry
    abandoned.write_bytes(b"x")
    os.utime(abandoned, (1000, 1000))  # left by a worker stopped mid-write long ago
    assert prune(tmp_path, max_bytes=3 * size) == 2
    assert [cache.path(k).exists() for k in keys] == [True, False, False, True, True]
    assert writing.exists() and not abandoned.exists()
    assert prune(tmp_path, max_bytes=10**9, max_entries=1) == 2
    assert [cache.path(k).exists() for k in keys] == [True, False, False, False, False]
    small = TranscriptCache(tmp_path / "small", max_bytes=2 * size)  # put keeps its own folder bounded
    for key in keys:
        small.put(key, TRANSCRIPT)
    assert len(list((tmp_path / "small").glob("*.json"))) == 2


# --- keys -------------------------------------------------------------------------------------
def test_the_key_follows_samples_runs_model_and_options_only(tmp_path):
    y = np.linspace(-0.5, 0.5, 16_000, dtype=np.float32)
    runs = np.array([[0.1, 0.9]])
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.bin").write_bytes(b"weights")
    opts = asr.decoding_options()
    k = transcript_key(y, 16_000, runs, model, opts)
    assert transcript_key(y.copy(), 16_000, runs.copy(), str(model), asr.decoding_options()) == k  # same inputs, same key
    y2 = y.copy()
    y2[123] += np.float32(1e-6)
    assert transcript_key(y2, 16_000, runs, model, opts) != k  # one sample
    assert transcript_key(y, 8_000, runs, model, opts) != k
    assert transcript_key(y, 16_000, np.array([[0.1, 0.91]]), model, opts) != k  # the runs (--min-pause moves them)
    assert transcript_key(y, 16_000, runs, model, asr.decoding_options(word_timestamps=False)) != k
    assert transcript_key(y, 16_000, runs, model, {**opts, "beam_size": 1}) != k
    (model / "model.bin").write_bytes(b"weights, reinstalled")
    assert transcript_key(y, 16_000, runs, model, opts) != k  # the model's files
    assert {"speechcoach", "revision", "prompt", "faster_whisper", "ctranslate2"} <= set(opts)


def test_the_user_cache_folder_and_the_switch(monkeypatch, tmp_path):
    monkeypatch.setenv("SPEECHCOACH_CACHE", str(tmp_path / "c"))
    assert fileio.user_cache_dir() == tmp_path / "c"
    cache = asrcache.user_cache()
    assert cache is not None and cache.folder == tmp_path / "c" / "transcripts"
    for off in ("off", "OFF", "0", "none", "false", "no"):
        monkeypatch.setenv("SPEECHCOACH_CACHE", off)
        assert fileio.caching_off() and fileio.user_cache_dir() is None and asrcache.user_cache() is None
    monkeypatch.delenv("SPEECHCOACH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and fileio.sys.platform != "darwin":
        assert fileio.user_cache_dir() == tmp_path / "xdg" / "speechcoach"
    assert not fileio.caching_off()


# --- the real recogniser ----------------------------------------------------------------------
CLIPS = {"csmsc_bz_000001": "卡尔普陪外孙玩滑梯。", "csmsc_bz_000003": None}
"""Two short corpus clips: one with its script, one without (the recogniser's count)."""


@pytest.fixture
def decodings(monkeypatch) -> list[float]:
    """Every real decoding of this process, as its audio length (s): :func:`speechcoach.precise.asr.decode` counted, not replaced."""
    calls: list[float] = []
    real = asr.decode

    def counted(y, sr, runs, **kw):
        calls.append(len(y) / sr)
        return real(y, sr, runs, **kw)

    monkeypatch.setattr(asr, "decode", counted)
    return calls


@pytest.fixture
def precise(whisper_model, monkeypatch):
    if not (CORPUS / "manifest.tsv").is_file():
        pytest.skip(f"real-speech corpus not found at {CORPUS}")
    monkeypatch.setenv("SPEECHCOACH_ASR_MODEL", str(whisper_model))
    monkeypatch.setenv("SPEECHCOACH_COUNT", "asr")  # every recording through the recogniser, a scripted one too
    return whisper_model


def _cohort(root: Path) -> Path:
    d = root / "cohort" / "trainee"
    d.mkdir(parents=True)
    for stem, script in CLIPS.items():
        shutil.copy(CORPUS / f"{stem}.wav", d / f"{stem}.wav")
        if script is not None:
            (d / f"{stem}.txt").write_text(script, encoding="utf-8")
    return root / "cohort"


def _guidance(folder: Path, tip: str, filler: str | None = None) -> Path:
    export(folder)
    cat = folder / "catalogue.toml"
    text = cat.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("tip_en"))  # the pace item's tip
    cat.write_text(text.replace(old, f'tip_en = "{tip}"', 1), encoding="utf-8")
    if filler is not None:  # a word the recogniser hears, now a filler
        f = folder / "fillers.toml"
        f.write_text(f.read_text(encoding="utf-8").replace('always = [\n', f'always = [\n    "{filler}",\n', 1), encoding="utf-8")
    return folder


def _reports(out: Path) -> dict[str, bytes]:
    """Every report file of a batch output, its creation time (as the JSON and the page show it) blanked."""
    from speechcoach.render.words import Words

    files = {}
    for p in sorted((out / "reports").rglob("*.*")):
        report = json.loads(p.with_suffix(".json").read_bytes())
        shown = (report["created"] if p.suffix == ".json" else Words(report["lang"]).date(report["created"])).encode()
        assert p.read_bytes().count(shown) == 1, p
        files[str(p.relative_to(out))] = p.read_bytes().replace(shown, b"<created>")
    return files


def test_a_batch_after_a_guidance_edit_reuses_every_transcript(tmp_path, precise, decodings, monkeypatch):
    cohort = _cohort(tmp_path)
    n = len(CLIPS)
    v1 = _guidance(tmp_path / "v1", "First wording of the tip.")
    out = tmp_path / "out"

    first = run_batch([cohort], out, settings=Settings(lang="en", guidance=str(v1)), jobs=1)
    assert first.analysed == n and len(decodings) == n
    heard = json.loads((out / "reports" / "trainee" / "csmsc_bz_000003.json").read_text(encoding="utf-8"))["transcript"]["words"]
    word = heard[0]["text"]  # a word the recogniser heard (宝马, or a homophone of it)
    v2 = _guidance(tmp_path / "v2", "Second wording of the tip.", filler=word)  # the trainer's edit: now a filler
    cached = sorted((out / STATE_DIR / TRANSCRIPTS_DIR).glob("*.json"))
    assert len(cached) == n
    before = _reports(out)

    edited = run_batch([cohort], out, settings=Settings(lang="en", guidance=str(v2)), jobs=1)
    assert edited.analysed == n and len(decodings) == n  # every report redone, the recogniser not run again
    log = json.loads((out / STATE_DIR / "last-run.json").read_text(encoding="utf-8"))
    assert log["transcripts"] == {"reused": n, "computed": 0}
    states = [json.loads(p.read_text(encoding="utf-8")) for p in (out / STATE_DIR).glob("*.json") if p.name != "last-run.json"]
    assert sorted(s["transcript"] for s in states) == ["reused"] * n
    after = _reports(out)
    assert after != before and any(b"Second wording of the tip." in data for data in after.values())
    fillers = [f["word"] for p in (out / "reports").rglob("*.json") for f in json.loads(p.read_text(encoding="utf-8"))["fillers"]]
    assert word in fillers  # the edited filler list is applied to the reused transcript

    fresh = tmp_path / "fresh"  # the same edited guidance, nothing cached
    run_batch([cohort], fresh, settings=Settings(lang="en", guidance=str(v2)), jobs=1)
    assert len(decodings) == 2 * n
    assert _reports(fresh) == after  # byte for byte, the creation time aside
    assert (fresh / "summary.csv").read_bytes() == (out / "summary.csv").read_bytes()

    # a corrupt entry and a foreign one (another recording's) are recomputed, never an error
    cached[0].write_bytes(b"\x00not json")
    cached[1].write_bytes((fresh / STATE_DIR / TRANSCRIPTS_DIR / cached[0].name).read_bytes())
    shutil.rmtree(out / "reports")  # so that the recordings are redone
    again = run_batch([cohort], out, settings=Settings(lang="en", guidance=str(v2)), jobs=1)
    assert again.analysed == n and again.failed == 0 and len(decodings) == 3 * n
    assert json.loads((out / STATE_DIR / "last-run.json").read_text(encoding="utf-8"))["transcripts"] == {"reused": 0, "computed": n}
    assert _reports(out) == after
    for p in cached:  # stored again, whole
        assert json.loads(p.read_text(encoding="utf-8"))["key"] == p.stem

    run_batch([cohort], out, settings=Settings(lang="en", guidance=str(v2)), jobs=1, force=True)
    assert len(decodings) == 4 * n  # --force recomputes the transcripts too

    monkeypatch.setenv("SPEECHCOACH_CACHE", "off")  # no cache read or written, nothing counted
    stamps = {p: p.stat().st_mtime_ns for p in cached}
    run_batch([cohort], out, settings=Settings(lang="en", guidance=str(v1)), jobs=1)
    assert len(decodings) == 5 * n
    assert json.loads((out / STATE_DIR / "last-run.json").read_text(encoding="utf-8"))["transcripts"] is None
    assert {p: p.stat().st_mtime_ns for p in cached} == stamps


def test_analyze_and_check_reuse_the_user_cache(tmp_path, precise, decodings, monkeypatch):
    wav = tmp_path / "clip.wav"
    shutil.copy(CORPUS / "csmsc_bz_000001.wav", wav)
    monkeypatch.setenv("SPEECHCOACH_CACHE", "off")
    res = runner.invoke(app, ["analyze", str(wav), "-f", "json", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert len(decodings) == 1
    fresh = json.loads(res.stdout)

    monkeypatch.setenv("SPEECHCOACH_CACHE", str(tmp_path / "cache"))
    res = runner.invoke(app, ["analyze", str(wav), "-f", "json", "--lang", "en", "--target", "110"])
    assert res.exit_code == 0, res.output
    assert len(decodings) == 2  # recognised, and stored
    assert len(list((tmp_path / "cache" / "transcripts").glob("*.json"))) == 1
    res = runner.invoke(app, ["analyze", str(wav), "-f", "json", "--lang", "en", "--target", "110"])
    assert res.exit_code == 0, res.output
    assert len(decodings) == 2  # reused
    res = runner.invoke(app, ["analyze", str(wav), "-f", "json", "--lang", "en"])
    again = json.loads(res.stdout)
    assert len(decodings) == 2  # another target, the same transcript
    assert {k: v for k, v in again.items() if k != "created"} == {k: v for k, v in fresh.items() if k != "created"}
    res = runner.invoke(app, ["check", str(wav)])
    assert res.exit_code in (0, 1), res.output
    assert len(decodings) == 2
