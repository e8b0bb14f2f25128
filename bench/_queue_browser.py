"""The browser part of bench/queue_load.py: Debian Chromium through Playwright classifies on the
real classify page and times Done -> next image on screen (the page's local queue at work)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def done_to_next_times(base: str, workflow: int, classifications: int) -> list[float]:
    """Milliseconds from clicking Done to the next subject drawn, for each classification."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    from tests.annotations.test_browser import CHROMIUM, LAUNCH_ARGS, TUTORIAL_SEEN
    from tests.annotations.test_browser_prefetch import DONE_TO_NEXT

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            context.add_init_script(TUTORIAL_SEEN)
            page = context.new_page()
            page.goto(f"{base}/classify/{workflow}/")
            for i in range(classifications):
                page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=30000)
                page.check(f"input[name=T0][value='{1 + i % 3}']")
                times.append(page.evaluate(DONE_TO_NEXT))
            page.wait_for_load_state("networkidle")
        finally:
            browser.close()
    return times
