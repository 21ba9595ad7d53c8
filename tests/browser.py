"""Debian's chromium, headless, driven by Playwright for Python (which downloads no browser of its
own here): the report's browser test uses it, and so does `make example` for the README's
screenshot.

    .venv/bin/python tests/browser.py results/demo/run/report.html results/example/report.png coding

Chromium is started as root needs it, with nothing that phones home (no background networking, no
component updates, no sync) and a fresh profile; every request the page makes is recorded, and any
that is not a file:// URL is aborted.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions"]


def chromium_path() -> str:
    """Debian's chromium, or an error that says how to get it (`make test` installs it)."""
    path = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if path is None:
        raise RuntimeError("the browser test needs Debian's chromium at /usr/bin/chromium: run "
                           "`make test` (it installs it), or `apt-get install -y chromium`")
    return path


@contextmanager
def browser(width: int = 1280, height: int = 900) -> Iterator[tuple[Any, list[str]]]:
    """(a Playwright browser context, the URL of every request its pages made)."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with tempfile.TemporaryDirectory(prefix="judge-chromium-") as profile, \
            sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium_path(), headless=True, args=FLAGS,
            viewport={"width": width, "height": height}, offline=True)
        context.on("request", lambda request: requests.append(request.url))
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith("file://") else route.abort())
        try:
            yield context, requests
        finally:
            context.close()


def screenshot(page_file: Path, out: Path, category: str | None = None, width: int = 1280,
               height: int = 2300) -> None:
    """A PNG of the top of a page, as a person first sees it (with the prompts of one category
    shown, if given), in 256 colours to keep it small."""
    import io

    from PIL import Image

    with browser(width, height) as (context, _):
        page = context.new_page()
        page.goto(page_file.resolve().as_uri())
        if category:
            page.select_option("select[name=category]", category)
        shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    shot.quantize(colors=256).save(out, optimize=True)


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]), *sys.argv[3:4])
