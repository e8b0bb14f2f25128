"""Pages opened in Chromium as a signed-in person at the three sizes the pages are checked at."""

from __future__ import annotations

from tests.annotations.test_browser import ARTIFACTS, _session_for

SIZES = {
    "1920x1080": {"width": 1920, "height": 1080},
    "1280x720": {"width": 1280, "height": 720},
    "390x844": {"width": 390, "height": 844},
}


def open_as(browser, live_server, user, size: str):
    """A new page signed in as ``user`` at ``size`` (the phone one is a touch screen); its
    ``errors`` list collects script errors."""
    ARTIFACTS.mkdir(exist_ok=True)
    phone = size == "390x844"
    context = browser.new_context(viewport=SIZES[size], is_mobile=phone, has_touch=phone)
    if user is not None:
        context.add_cookies([{"name": "sessionid", "value": _session_for(user), "url": live_server.url}])
    page = context.new_page()
    page.size_name = size
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def no_sideways_scroll(page) -> None:
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"the page is {width} px wide"


def scan_from_page(page, *, aperture: str, stride: str, upload=None, path=None) -> None:
    """Start a complexity scan from the scans page's form (an uploaded mosaic or a path under the
    import roots) and wait until the page says it started."""
    if upload is not None:
        page.set_input_files("#scan-file", str(upload))
    if path is not None:
        page.fill("#scan-mosaic", str(path))
    page.fill("#scan-aperture", aperture)
    page.fill("#scan-stride", stride)
    page.click("#scan-form button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('scan-result').textContent.startsWith('Scan started')", timeout=60000
    )
