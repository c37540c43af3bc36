"""Synthesise the bundled practice samples and write ``expected.toml``.

Every sample is described in ``specs.toml`` beside this file as a list of
chunks ``[text, espeak_speed, gap_after_s]``.  Each chunk is synthesised on
its own with espeak-ng (punctuation removed, so espeak adds no pauses of its
own), resampled to 16 kHz, scaled by a fixed gain, trimmed to its first and
last sample at or above a fixed amplitude threshold, and the chunks are
joined with exactly ``gap_after_s`` of silence.  Very low Gaussian noise with
a fixed seed is added over the whole file, so re-running the script gives
bit-identical WAVs for the same espeak-ng, NumPy and SciPy versions.

Usage: ``python samples/make_samples.py`` rebuilds everything (needs
espeak-ng on PATH); ``python samples/make_samples.py --check`` only re-reads
the committed WAVs and compares them with ``expected.toml``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import tomllib
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from scipy.io import wavfile
from scipy.signal import resample_poly

HERE = Path(__file__).resolve().parent
CJK = re.compile(r"[\u3007\u3400-\u4dbf\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
PUNCT = "。，、；：？！"
TOLERANCE_S = 0.01


def substitute(text: str, table: dict[str, str]) -> str:
    """Replace every key of `table` in `text` by its value, longest keys first.

    Parameters
    ----------
    text : str
        Script text.
    table : dict of str to str
        A sample's ``readings`` (digits to the characters they are read as,
        e.g. ``"500" = "五百"``) or ``say`` (pronunciation fixes for espeak).

    Returns
    -------
    str
        The substituted text.
    """
    for key in sorted(table, key=len, reverse=True):
        text = text.replace(key, table[key])
    return text


def count_chars(text: str) -> int:
    """Count spoken characters: CJK ideographs (and 〇) plus Latin letters.

    Parameters
    ----------
    text : str
        Text with digits already replaced by their readings.

    Returns
    -------
    int
        Number of spoken characters; punctuation and spaces count nothing.
    """
    if re.search(r"\d", text):
        raise ValueError(f"digits without a reading in {text!r}")
    return len(CJK.findall(text)) + len(LATIN.findall(text))


def synth(text: str, speed: int, meta: dict[str, Any]) -> np.ndarray:
    """Synthesise one chunk and return it trimmed, at the output rate.

    Parameters
    ----------
    text : str
        Chunk text without punctuation.
    speed : int
        espeak-ng ``-s`` value (nominally words per minute).
    meta : dict
        The ``[meta]`` table of the specs.

    Returns
    -------
    numpy.ndarray
        Float samples from the first to the last sample whose magnitude is
        at or above the threshold.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chunk.wav"
        command = ["espeak-ng", "-v", meta["voice"], "-s", str(speed), "-w", str(path), text]
        subprocess.run(command, check=True)
        x, rate = sf.read(path, dtype="float64")
    y = resample_poly(x, meta["sample_rate"], rate) * 10 ** (meta["gain_db"] / 20)
    loud = np.flatnonzero(np.abs(y) >= 10 ** (meta["threshold_dbfs"] / 20))
    return y[loud[0] : loud[-1] + 1]


def analyse(pcm: np.ndarray, meta: dict[str, Any]) -> tuple[float, float, list[list[float]]]:
    """Find the speech span and the pauses in a finished int16 signal.

    Parameters
    ----------
    pcm : numpy.ndarray
        int16 samples.
    meta : dict
        The ``[meta]`` table of the specs.

    Returns
    -------
    onset_s, offset_s : float
        Start of the first and end of the last sample at or above the threshold.
    pauses : list of [float, float]
        ``[start_s, end_s]`` of each run below the threshold that lasts at
        least ``pause_min_s`` between onset and offset.
    """
    rate = meta["sample_rate"]
    loud = np.flatnonzero(np.abs(pcm / 32768.0) >= 10 ** (meta["threshold_dbfs"] / 20))
    jumps = np.flatnonzero(np.diff(loud) - 1 >= meta["pause_min_s"] * rate)
    pauses = [[round((loud[j] + 1) / rate, 4), round(loud[j + 1] / rate, 4)] for j in jumps]
    return loud[0] / rate, (loud[-1] + 1) / rate, pauses


def close(a: list[list[float]], b: list[list[float]]) -> bool:
    """Tell whether two lists of ``[start_s, end_s]`` agree within `TOLERANCE_S`.

    Parameters
    ----------
    a, b : list of [float, float]
        Intervals to compare.

    Returns
    -------
    bool
        True if both have the same length and every bound is within tolerance.
    """
    return len(a) == len(b) and all(
        abs(x - y) <= TOLERANCE_S for p, q in zip(a, b) for x, y in zip(p, q)
    )


def build(name: str, spec: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Write ``NAME.wav`` and ``NAME.txt`` for one sample and return its expectations.

    Parameters
    ----------
    name : str
        Sample name.
    spec : dict
        The sample's table from the specs.
    meta : dict
        The ``[meta]`` table of the specs.

    Returns
    -------
    dict
        The sample's table for ``expected.toml``.
    """
    rate, chunks = meta["sample_rate"], spec["chunks"]
    readings, say = spec.get("readings", {}), spec.get("say", {})
    pieces = [np.zeros(round(meta["lead_s"] * rate))]
    starts: list[int] = []
    planned: list[list[float]] = []
    mid = 0
    for i, (text, speed, gap) in enumerate(chunks):
        starts.append(sum(map(len, pieces)))
        words = re.sub(f"[{PUNCT}]", "", substitute(substitute(text, readings), say))
        pieces.append(synth(words, speed, meta))
        if i < len(chunks) - 1:
            end = sum(map(len, pieces))
            pieces.append(np.zeros(round(gap * rate)))
            if gap >= meta["pause_min_s"]:
                planned.append([end / rate, (end + len(pieces[-1])) / rate])
                mid += text[-1] not in PUNCT
    pieces.append(np.zeros(round(meta["trail_s"] * rate)))
    signal = np.concatenate(pieces)
    rng = np.random.default_rng(meta["noise_seed"] ^ zlib.crc32(name.encode()))
    signal += rng.normal(0.0, 10 ** (meta["noise_dbfs"] / 20), signal.size)
    pcm = np.clip(np.round(signal * 32768), -32768, 32767).astype(np.int16)
    wavfile.write(HERE / f"{name}.wav", rate, pcm)
    script = "".join(chunk[0] for chunk in chunks)
    (HERE / f"{name}.txt").write_text(script + "\n", encoding="utf-8")

    onset, offset, pauses = analyse(pcm, meta)
    if not close(pauses, planned):
        raise RuntimeError(f"{name}: detected pauses {pauses} differ from planned {planned}")
    chars = count_chars(substitute(script, readings))
    cpm = round(60 * chars / (offset - onset), 1)
    low, high = meta["band_cpm"]
    out: dict[str, Any] = {
        "chars": chars,
        "span_s": round(offset - onset, 4),
        "cpm": cpm,
        "verdict": "slow" if cpm < low else "fast" if cpm > high else "on_target",
        "pauses": pauses,
        "mid_phrase_pauses": mid,
        "onset_s": round(onset, 4),
        "offset_s": round(offset, 4),
        "duration_s": round(pcm.size / rate, 4),
        "description": spec["description"],
        "description_zh": spec["description_zh"],
        "espeak_version": meta["espeak_version"],
    }
    if "second_half_from" in spec:  # halves split at a chunk; the gap between them is in neither
        k = spec["second_half_from"]
        first = count_chars(substitute("".join(c[0] for c in chunks[:k]), readings))
        first_end = (starts[k] - round(chunks[k - 1][2] * rate)) / rate
        out["first_half_cpm"] = round(60 * first / (first_end - onset), 1)
        out["second_half_cpm"] = round(60 * (chars - first) / (offset - starts[k] / rate), 1)
    return out


def toml_value(value: Any) -> str:
    """Format a str, bool, int, float or (nested) list as an inline TOML value.

    Parameters
    ----------
    value : str, bool, int, float or list
        The value (NumPy scalars are converted).

    Returns
    -------
    str
        Its TOML text; JSON string escapes are valid TOML basic strings.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def check() -> int:
    """Re-analyse the committed WAVs and compare them with ``expected.toml``.

    Returns
    -------
    int
        0 if every sample's onset, offset and pauses agree within
        `TOLERANCE_S` and its ``.txt`` has the expected character count, else 1.
    """
    expected = tomllib.loads((HERE / "expected.toml").read_text(encoding="utf-8"))
    specs = tomllib.loads((HERE / "specs.toml").read_text(encoding="utf-8"))
    meta, failures = expected.pop("meta"), 0
    for name, want in expected.items():
        rate, pcm = wavfile.read(HERE / f"{name}.wav")
        onset, offset, pauses = analyse(pcm, meta)
        script = (HERE / f"{name}.txt").read_text(encoding="utf-8").strip()
        chars = count_chars(substitute(script, specs["samples"][name].get("readings", {})))
        ok = (
            rate == meta["sample_rate"]
            and close([[onset, offset]], [[want["onset_s"], want["offset_s"]]])
            and close(pauses, want["pauses"])
            and chars == want["chars"]
        )
        failures += not ok
        print(f"{name:26s} {'ok' if ok else 'MISMATCH'}")
    return int(failures > 0)


def main() -> int:
    """Build every sample listed in ``specs.toml`` and write ``expected.toml``.

    Returns
    -------
    int
        Process exit status.
    """
    if sys.argv[1:] == ["--check"]:
        return check()
    specs = tomllib.loads((HERE / "specs.toml").read_text(encoding="utf-8"))
    meta = specs["meta"]
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True)
    meta["espeak_version"] = re.search(r"\d+\.\d+\S*", version.stdout).group(0)
    expected: dict[str, Any] = {"meta": meta}
    for name, spec in specs["samples"].items():
        e = expected[name] = build(name, spec, meta)
        print(f"{name:26s} chars={e['chars']:3d} span={e['span_s']:7.3f}s "
              f"cpm={e['cpm']:6.1f} {e['verdict']:9s} pauses={len(e['pauses'])}")
    header = "# Written by samples/make_samples.py from specs.toml; do not edit by hand.\n"
    tables = (
        f"[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items())
        for name, table in expected.items()
    )
    (HERE / "expected.toml").write_text(header + "\n".join(tables), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
