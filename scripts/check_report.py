#!/usr/bin/env python3
"""Check a Snakemake HTML report in real headless Chromium and screenshot it.

    python scripts/check_report.py results/report.html --out results/report_check \
        --expect fig3.png --expect chen2024.html

1. Reads the report's embedded result index (``var results = {...}``): every expected file must be
   in it, with a caption (figures) and embedded data.
2. Loads the report in Chromium (``--dump-dom`` after the page's JavaScript ran): the React app must
   have replaced the loading screen and show every category.
3. Screenshots the start page and, for each expected file, the report with that result opened (a copy
   of the report with a small script that calls the app's own ``showCategory``/``setView``), and
   checks that each screenshot is not blank.

Exits non-zero with the list of problems. Needs the ``chromium`` Debian package (or $CHROMIUM).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--disable-dev-shm-usage"]
WINDOW = "1600,1000"


def find_chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _json_var(html: str, name: str):
    """The JSON assigned to ``var <name>`` in the report's own <script id="<name>"> block."""
    match = re.search(rf'<script id="{name}">\s*var {name} = ', html)
    if not match:
        raise ValueError(f"report has no <script id={name!r}> block")
    value, _ = json.JSONDecoder().raw_decode(html, match.end())
    return value


def report_index(path: Path) -> tuple[dict, dict]:
    """(results, categories) embedded in the report."""
    html = path.read_text(encoding="utf-8")
    return _json_var(html, "results"), _json_var(html, "categories")


def _chromium(binary: str, user_dir: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={user_dir}", f"--window-size={WINDOW}",
           "--virtual-time-budget=8000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _not_blank(png: Path) -> tuple[bool, float]:
    """A screenshot shows something: enough distinct grey levels (std of pixel values)."""
    import matplotlib.image as mpimg

    pixels = mpimg.imread(str(png))
    std = float(pixels[..., :3].std())
    return std > 0.05, std


def _open_result_script(path_key: str, category: str) -> str:
    """A script that opens one result with the report app's own functions, then marks the body."""
    return f"""<script>
window.addEventListener('load', function () {{ setTimeout(function () {{
  var key = {json.dumps(path_key)};
  var mime = results[key].mime_type;
  var content = mime.startsWith('image/') ? 'img' : (mime === 'text/html' ? 'html' : 'pdf');
  // one state update: the app's setView merges with the state of the previous render
  app.setView({{navbarMode: 'resultinfo', category: {json.dumps(category)}, content: content,
               contentPath: results[key].data_uri, resultPath: key}});
  setTimeout(function () {{ document.body.setAttribute('data-report-check', 'opened'); }}, 200);
}}, 200); }});
</script>"""


def _inject(html: str, script: str) -> str:
    """Insert ``script`` before the document's own closing body tag (the last one: the embedded
    JavaScript libraries contain the string too)."""
    at = html.rfind("</body>")
    if at < 0:
        raise ValueError("report has no </body>")
    return html[:at] + script + html[at:]


def _visible_text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def check_report(report: Path, out_dir: Path, expect: list[str], chromium: str | None = None) -> dict:
    """Run all checks; returns {'problems': [...], 'screenshots': [...], 'categories': [...]}."""
    chromium = chromium or find_chromium()
    problems: list[str] = []
    shots: list[str] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    results, categories = report_index(report)
    by_name = {Path(key).name: key for key in results}
    category_of = {key: cat for cat, subs in categories.items() for files in subs.values() for key in files}
    for name in expect:
        key = by_name.get(name)
        if key is None:
            problems.append(f"{name}: not in the report (has {', '.join(sorted(by_name))})")
            continue
        entry = results[key]
        if not entry.get("data_uri"):
            problems.append(f"{name}: no embedded data")
        if not re.sub(r"<[^>]+>", "", entry.get("caption") or "").strip():
            problems.append(f"{name}: empty caption")
    if chromium is None:
        problems.append("chromium not found (apt-get install chromium, or set $CHROMIUM)")
        return {"problems": problems, "screenshots": shots, "categories": list(categories)}

    with tempfile.TemporaryDirectory(prefix="report-check-") as tmp:
        dom = _chromium(chromium, f"{tmp}/profile", "--dump-dom", report.resolve().as_uri())
        if dom.returncode != 0:
            problems.append(f"chromium --dump-dom failed ({dom.returncode}): {dom.stderr[-500:]}")
        else:
            text = dom.stdout
            (out_dir / "report.dom.html").write_text(text, encoding="utf-8")
            if 'id="app"></div>' in text.replace(" ", "") or "<nav" not in text and "Snakemake" not in text:
                problems.append("the report app did not render (empty #app after JavaScript ran)")
            for cat in categories:
                if cat not in text:
                    problems.append(f"category {cat!r} not shown on the start page")
        targets = [("start", report.resolve(), None)]
        html = report.read_text(encoding="utf-8")
        for name in expect:
            key = by_name.get(name)
            if key is None:
                continue
            page = Path(tmp) / f"open-{name}.html"
            page.write_text(_inject(html, _open_result_script(key, category_of.get(key, ""))), encoding="utf-8")
            targets.append((name, page, key))
        for label, page, key in targets:
            if key is not None:  # the result must be open: marker, its content element and its caption
                dom = _chromium(chromium, f"{tmp}/profile", "--dump-dom", page.as_uri())
                text = dom.stdout
                mime = results[key]["mime_type"]
                shown = {"image/png": '<img src="data:image/png', "image/svg+xml": '<img src="data:image/svg',
                         "text/html": '<iframe src="data:text/html', "application/pdf": '<iframe src="data:application/pdf'}
                if 'data-report-check="opened"' not in text:
                    problems.append(f"{label}: the report app did not open the result")
                elif mime in shown and shown[mime] not in text:
                    problems.append(f"{label}: opened, but no {shown[mime]!r} element shows it")
                caption = _visible_text(results[key].get("caption") or "")[:40]
                if caption and caption not in _visible_text(text):
                    problems.append(f"{label}: caption not shown ({caption!r})")
            shot = out_dir / f"{Path(label).stem}.screenshot.png"
            proc = _chromium(chromium, f"{tmp}/profile", f"--screenshot={shot}", page.as_uri())
            if proc.returncode != 0 or not shot.is_file():
                problems.append(f"{label}: screenshot failed ({proc.returncode}): {proc.stderr[-300:]}")
                continue
            ok, std = _not_blank(shot)
            if not ok:
                problems.append(f"{label}: screenshot looks blank (pixel std {std:.3f})")
            shots.append(str(shot))
    return {"problems": problems, "screenshots": shots, "categories": list(categories)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--out", type=Path, default=Path("results/report_check"), help="folder for screenshots")
    parser.add_argument("--expect", action="append", default=[],
                        help="file name that must be in the report (repeatable), e.g. fig3.png")
    args = parser.parse_args(argv)
    summary = check_report(args.report, args.out, args.expect)
    for shot in summary["screenshots"]:
        print(f"screenshot: {shot}")
    for problem in summary["problems"]:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print(f"{len(summary['problems'])} problems; categories: {', '.join(summary['categories'])}")
    return 1 if summary["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
