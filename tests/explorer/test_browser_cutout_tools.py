"""A cutout's page has the classify page's image tools (the same static module): zoom about the
pointer, reset, a scale bar in arcseconds from the FITS WCS, the sky position under the pointer
and a legend of contour levels, at 1920x1080, 1280x720 and on a 390x844 touch phone."""

import re

import pytest

from annotations.ingestion import cutout_create
from annotations.ml import prepare_cutout, read_cutout_image
from annotations.models import Cutout
from tests.annotations.test_browser import ARTIFACTS, browser  # noqa: F401  (shared Chromium)
from tests.annotations.test_browser_volunteer import _readout, _zoom
from tests.factories import astronomer, blob_array, fits_bytes, make_workflow_with_subjects
from tests.pages import SIZES, no_sideways_scroll, open_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
READY = "() => document.getElementById('cutout-viewer').dataset.ready === '1'"


def _fits_cutout() -> Cutout:
    workflow, _ = make_workflow_with_subjects(n=0, name="Tools", survey_name="EMU tools")
    raw = fits_bytes(blob_array(size=96, seed=3, lobes=2), ra=210.25, dec=-45.5, scale_arcsec=2.0)
    prepared = prepare_cutout(read_cutout_image(raw), source_bytes=raw)
    return cutout_create(survey=workflow.subject_sets.first().survey, name="J140100-453000", prepared=prepared)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_cutout_page_has_the_image_tools(browser, live_server, size):  # noqa: F811
    cutout = _fits_cutout()
    page = open_as(browser, live_server, astronomer("astro-tools"), size)
    page.goto(f"{live_server.url}/cutouts/{cutout.pk}/")
    page.wait_for_function(READY, timeout=20000)

    assert page.locator("#contour-levels li").count() == len(cutout.contours) > 0
    assert page.locator("#contour-legend").is_visible()
    assert page.locator("#scale-bar").is_visible()
    assert re.fullmatch(r"\d+[″′]", page.locator("#scale-label").inner_text())  # FITS WCS: exact, no "approx."
    centre_ra, centre_dec = _readout(page)
    assert abs(centre_ra - 210.25) < 3 / 3600 and abs(centre_dec + 45.5) < 3 / 3600
    assert page.locator("#sky-readout").inner_text().startswith("Centre: RA 14h01m")

    sky = page.locator("#sky").bounding_box()
    assert sky["width"] >= (300 if size == "390x844" else 480), sky  # the card's width on a phone
    spot = (sky["x"] + sky["width"] * 0.3, sky["y"] + sky["height"] * 0.35)
    opening = _zoom(page)
    if size == "390x844":
        page.touchscreen.tap(*spot)
        page.wait_for_timeout(80)
        page.touchscreen.tap(*spot)
        page.wait_for_timeout(100)
        assert _zoom(page) > 1.3 * opening  # double tap zooms in
    else:
        page.mouse.move(*spot, steps=4)
        page.wait_for_function(
            "dec => Number(document.getElementById('sky-readout').dataset.dec) > dec", arg=centre_dec, timeout=5000
        )
        assert page.locator("#sky-readout").inner_text().startswith("Pointer: RA")
        ra, dec = _readout(page)
        for _ in range(3):
            page.mouse.wheel(0, -100)
            page.wait_for_timeout(30)
        page.mouse.move(spot[0] + 1, spot[1])
        page.mouse.move(*spot)
        ra_zoomed, dec_zoomed = _readout(page)
        assert _zoom(page) > 1.3 * opening
        # zoom about the pointer: the sky position under it stays put
        assert abs(ra_zoomed - ra) * 3600 < 3 and abs(dec_zoomed - dec) * 3600 < 3
    page.screenshot(path=str(ARTIFACTS / f"cutout-tools-zoomed-{size}.png"))
    page.click("#reset")
    assert _zoom(page) == pytest.approx(opening, rel=0.02)  # back to the opening view
    page.screenshot(path=str(ARTIFACTS / f"cutout-tools-{size}.png"))
    no_sideways_scroll(page)
    assert not page.errors, page.errors
    page.context.close()
