"""The radio-source task in Debian Chromium: a volunteer groups two radio components of the tutorial
subject S311 (its real ATCA FITS cutout, with a WCS), marks the host, and the stored answer is checked
in radio-frame pixels and in RA/Dec."""

import io
import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from django.core.management import call_command
from matplotlib.path import Path as PolygonPath
from rest_framework.test import APIClient

from annotations.models import Classification, Cutout
from annotations.services import workflow_create
from annotations.task_definitions import radio_source_workflow_definition
from tests.annotations.test_browser import ARTIFACTS, TUTORIAL_SEEN, browser  # noqa: F401  (the shared Chromium fixture)
from tests.factories import astronomer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
HOST = (150.5, 140.5)  # radio-frame pixels, x right and y down from the top-left corner


def _area(path: np.ndarray) -> float:
    x, y = path[:, 0], path[:, 1]
    return abs(0.5 * (np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def click_target(paths: list, index: int) -> tuple[float, float]:
    """A mark position (pixel-corner origin) whose innermost enclosing lowest-level contour is ``index``."""
    polygons = [(PolygonPath(np.asarray(p, float)), _area(np.asarray(p, float))) for p in paths]
    own = np.asarray(paths[index], float)
    centre = own.mean(axis=0)
    xs = np.arange(own[:, 0].min(), own[:, 0].max(), 0.5)
    ys = np.arange(own[:, 1].min(), own[:, 1].max(), 0.5)
    candidates = sorted(((x, y) for x in xs for y in ys), key=lambda p: np.hypot(p[0] - centre[0], p[1] - centre[1]))
    for x, y in candidates:
        holders = [(area, i) for i, (polygon, area) in enumerate(polygons) if polygon.contains_point((x, y))]
        if holders and min(holders)[1] == index:
            return x + 0.5, y + 0.5
    raise AssertionError(f"no point inside contour {index}")


@pytest.fixture
def s311_workflow(shared_data):
    tasks, strings = radio_source_workflow_definition()
    workflow = workflow_create(display_name="Radio sources", tasks=tasks, strings=strings, retirement_count=10)
    fits_path = shared_data / "rgz_atlas_examples" / "S311.fits"
    call_command(
        "ingest_images", str(fits_path), survey="ATLAS", workflow=workflow.pk, inline=True, stdout=io.StringIO()
    )
    cutout = Cutout.objects.get(name="S311")
    paths = cutout.contours[0]["paths"]
    w, h = cutout.width, cutout.height
    central = [
        i
        for i, p in enumerate(paths)
        if w / 6 < np.mean(p, axis=0)[0] < 5 * w / 6 and h / 6 < np.mean(p, axis=0)[1] < 5 * h / 6
    ]
    pair = sorted(sorted(central, key=lambda i: -_area(np.asarray(paths[i], float)))[:2])
    assert len(pair) == 2, "S311 should show two radio components near its centre"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = WCS(fits.getheader(fits_path)).celestial
    return workflow, cutout, pair, wcs


def click_image(page, x: float, y: float) -> None:
    page.locator("#sky").scroll_into_view_if_needed()
    cx, cy = page.evaluate("([x, y]) => rgzViewer.toClient(x, y)", [x, y])
    page.mouse.click(cx, cy)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_volunteer_groups_two_components_and_marks_the_host(browser, live_server, s311_workflow, viewport):  # noqa: F811
    workflow, cutout, pair, wcs = s311_workflow
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    context.add_init_script(TUTORIAL_SEEN)  # a returning volunteer
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
    page.keyboard.press("0")  # the whole cutout, not the frame zoomed on the source
    assert not page.locator("#layer-tools").is_visible()  # S311 has no other band

    page.click(".drawing-task[data-task=T0] [data-mode=components]")
    for index in pair:
        click_image(page, *click_target(cutout.contours[0]["paths"], index))
    assert "2 contour group(s) selected" in page.locator(".drawing-task[data-task=T0] .draw-status").inner_text()
    page.click(".drawing-task[data-task=T0] [data-mode=host]")
    click_image(page, *HOST)
    page.click(".drawing-task[data-task=T0] .finish-source")
    assert "Source 1: 2 contour group(s), host at" in page.locator(".source-list").inner_text()
    # One more mark with the drawing task's point tool ("Galaxy").
    page.click(".drawing-task[data-task=T1] [data-shape=point]")
    click_image(page, 60.5, 250.5)
    page.locator("#sky").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"drawing_{viewport}.png"), full_page=viewport == "desktop")
    page.click("#submit")
    page.wait_for_function("() => document.getElementById('count').textContent === '1'", timeout=15000)
    assert not errors, errors
    page.wait_for_load_state("networkidle")
    context.close()

    stored = Classification.objects.get(subject=cutout)
    [source] = stored.annotations[0]["value"]
    assert source["components"] == pair
    assert source["host"]["x"] == pytest.approx(HOST[0], abs=0.05)
    assert source["host"]["y"] == pytest.approx(HOST[1], abs=0.05)
    [point] = stored.annotations[1]["value"]
    assert point["tool"] == 0 and (point["x"], point["y"]) == pytest.approx((60.5, 250.5), abs=0.05)

    api = APIClient()
    api.force_login(astronomer())
    [row] = api.get("/api/classifications/", {"workflow": workflow.pk}).json()["results"]
    host = row["annotations"][0]["value"][0]["host"]
    expected = wcs.pixel_to_world(source["host"]["x"] - 0.5, cutout.height - 0.5 - source["host"]["y"]).icrs
    assert host["ra_deg"] == pytest.approx(expected.ra.deg, abs=1e-9)
    assert host["dec_deg"] == pytest.approx(expected.dec.deg, abs=1e-9)


def test_astronomer_sees_consensus_sources_over_the_image(browser, live_server, s311_workflow):  # noqa: F811
    from tests.annotations.test_mark_consensus import classify

    workflow, cutout, pair, _ = s311_workflow
    classify(workflow, cutout, range(6))  # five of six volunteers agree on one source and its host
    astronomer("desk-user")
    for viewport in ("desktop", "phone"):
        context = browser.new_context(viewport=VIEWPORTS[viewport])
        context.add_init_script(TUTORIAL_SEEN)  # a returning volunteer
        page = context.new_page()
        page.goto(f"{live_server.url}/workflows/{workflow.pk}/sources/")
        if page.locator("#id_username").count():
            page.fill("#id_username", "desk-user")
            page.fill("#id_password", "pw-for-tests")
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/workflows/{workflow.pk}/sources/")
        card = page.locator(".source-card")
        assert card.count() == 1 and "S311" in card.inner_text()
        assert page.locator(".source-card polygon").count() == 2  # the two grouped components
        assert page.locator(".source-card line").count() == 2  # the host's cross
        assert "host RA" in card.inner_text() and "0.83 of 6" in card.inner_text()
        page.screenshot(path=str(ARTIFACTS / f"sources_{viewport}.png"), full_page=True)
        page.wait_for_load_state("networkidle")
        context.close()
