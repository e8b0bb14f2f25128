"""Scans in Chromium at 1920x1080, 1280x720 and a 390x844 phone: a mosaic uploaded from the page
starts a scan, the list follows without a reload, and the scan's page maps the whole mosaic
with the catalogue circled, above legible thumbnails."""

import pytest

from anomalies.models import Scan
from tests.annotations.test_browser import ARTIFACTS, browser  # noqa: F401  (shared Chromium)
from tests.anomalies.test_scan_upload_and_map import _mosaic_bytes
from tests.factories import astronomer, make_scan
from tests.pages import SIZES, no_sideways_scroll, open_as, scan_from_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", list(SIZES))
def test_upload_a_mosaic_follow_the_list_and_read_the_map(browser, live_server, tmp_path, settings, size):  # noqa: F811
    settings.RGZ_SCAN_UPLOAD_DIR = tmp_path / "uploads"
    settings.RGZ_EXPORT_ROOT = tmp_path / "exports"
    settings.RGZ_IMPORT_ROOTS = []
    mosaic = tmp_path / "field-a.fits"
    mosaic.write_bytes(_mosaic_bytes())
    page = open_as(browser, live_server, astronomer("astro-scans"), size)
    page.goto(f"{live_server.url}/scans/")
    text = page.locator("#scan-form").inner_text()
    assert "size of the sources" in text and "overlap by half" in text  # aperture and stride explained
    assert page.locator("#scan-mosaic").is_disabled()  # no import folder: upload only

    # a scan started elsewhere shows up without a reload
    other = make_scan("/data/elsewhere.fits")
    page.wait_for_selector(f"#scan-list tr[data-scan='{other.pk}']", timeout=10000)

    scan_from_page(page, upload=mosaic, aperture="80", stride="40")
    scan = Scan.objects.exclude(pk=other.pk).get()
    assert scan.mosaic_name == "field-a.fits" and scan.mosaic_path.startswith(str(tmp_path / "uploads"))
    page.wait_for_selector(f"#scan-list tr[data-scan='{scan.pk}']", timeout=10000)
    page.screenshot(path=str(ARTIFACTS / f"scans-{size}.png"), full_page=True)
    no_sideways_scroll(page)

    page.click(f"#scan-list tr[data-scan='{scan.pk}'] a")
    page.wait_for_selector("#scan-map")
    marks = page.locator("#scan-map a.mark")
    assert marks.count() == scan.entries.count() >= 2
    box = page.locator("#scan-map").bounding_box()
    assert box["width"] >= min(300, page.viewport_size["width"] - 80)
    first = page.locator("#scan-map a.mark").first.locator("circle").bounding_box()
    assert box["x"] <= first["x"] and first["x"] + first["width"] <= box["x"] + box["width"] + 1
    thumb = page.locator(".gallery img").first
    thumb.scroll_into_view_if_needed()
    assert thumb.evaluate("img => img.naturalWidth") >= 192 and thumb.bounding_box()["width"] >= 140
    page.locator("#scan-map").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"scan-map-{size}.png"))
    page.screenshot(path=str(ARTIFACTS / f"scan-page-{size}.png"), full_page=True)
    no_sideways_scroll(page)
    assert not page.errors, page.errors
    page.context.close()
