"""Regenerate the README's picture of the HTML report: ``python docs/screenshot.py``.

Analyses a bundled sample with the installed ``speechcoach`` command, opens the HTML report in
headless Chromium (Debian's ``chromium``, with ``fonts-noto-cjk`` for the Chinese text) and
writes the top of the page to ``docs/img/report.png``. Options: ``--lang zh`` for the Chinese
report, ``--sample NAME`` for another sample, ``--height`` for more of the page.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", default="mid_phrase_pension", help="a recording in samples/ (without .wav)")
    ap.add_argument("--lang", default="en", choices=["en", "zh"])
    ap.add_argument("--width", type=int, default=1100)
    ap.add_argument("--height", type=int, default=1500)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "report.png")
    args = ap.parse_args()

    chromium = next((c for c in ("chromium", "chromium-browser", "google-chrome") if shutil.which(c)), None)
    speechcoach = shutil.which("speechcoach", path=str(Path(sys.executable).parent)) or shutil.which("speechcoach")
    if chromium is None or speechcoach is None:
        print("needs Chromium (apt-get install chromium fonts-noto-cjk) and speechcoach (pip install -e .)", file=sys.stderr)
        return 2
    wav = Path("samples") / f"{args.sample}.wav"  # relative: the report shows the name as a user would type it
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "report.html"
        subprocess.run(
            [speechcoach, "analyze", str(wav), "--script", str(wav.with_suffix(".txt")), "--lang", args.lang,
             "--count", "acoustic", "-o", str(html)],
            check=True, cwd=ROOT,
        )
        png = Path(tmp) / "report.png"
        subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--window-size={args.width},{args.height}", f"--screenshot={png}", html.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, args.out)
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
