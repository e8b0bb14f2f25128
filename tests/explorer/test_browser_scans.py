"""Starting a complexity scan from the scans page in Debian Chromium, at desktop and phone sizes:
a mosaic under the import folders starts; one outside them is refused with the reason."""

import numpy as np
import pytest

from anomalies.models import Scan
from tests.annotations.test_browser import ARTIFACTS, browser  # noqa: F401  (shared Chromium)
from tests.explorer.test_browser_explorer import sized_page  # noqa: F401
from tests.factories import blob_array, fits_bytes
from tests.pages import scan_from_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_scan_is_started_from_the_page(sized_page, live_server, tmp_path, settings):  # noqa: F811
    page, size = sized_page, sized_page.size_name
    roots = tmp_path / "imports"
    roots.mkdir()
    settings.RGZ_IMPORT_ROOTS = [str(roots)]
    field = np.random.default_rng(0).normal(0, 1e-4, (160, 160)).astype(np.float32)
    field[40:104, 40:104] += blob_array(64) * 5
    (roots / "mosaic.fits").write_bytes(fits_bytes(field, scale_arcsec=2.0))
    (tmp_path / "outside.fits").write_bytes(fits_bytes(field, scale_arcsec=2.0))
    page.goto(f"{live_server.url}/scans/")
    assert str(roots) in page.locator("#scan-form").inner_text()  # where mosaics may be
    assert "size of the sources" in page.locator("#scan-form").inner_text()  # what the aperture means

    page.fill("#scan-mosaic", str(tmp_path / "outside.fits"))
    page.click("#scan-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('scan-result').textContent.startsWith('Not started')")
    assert Scan.objects.count() == 0

    scan_from_page(page, path=roots / "mosaic.fits", aperture="60", stride="30")
    scan = Scan.objects.get()
    assert (scan.aperture_arcsec, scan.stride_arcsec) == (60, 30)
    assert page.locator("#scan-result a").get_attribute("href") == f"/scans/{scan.pk}/"
    page.screenshot(path=str(ARTIFACTS / f"scans-start-{size}.png"), full_page=True)
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"the page is {width} px wide"
