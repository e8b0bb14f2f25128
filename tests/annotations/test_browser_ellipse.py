"""Ellipse marks in Debian Chromium: a volunteer draws a rotated ellipse on the ATCA cutout of S311,
moves it, turns and stretches it by its handles, draws a second one and deletes it; what is stored
is Zooniverse's ellipse (x, y, rx, ry, angle in degrees) in radio-frame pixels, with RA/Dec."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from annotations.models import Classification, Cutout
from annotations.services import workflow_create
from tests.annotations.test_browser import ARTIFACTS, TUTORIAL_SEEN, browser  # noqa: F401  (the shared Chromium fixture)
from tests.factories import astronomer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def lobes(shared_data):
    strings = {"T0.instruction": "Draw an ellipse over each radio lobe", "T0.tools.0.label": "Lobe"}
    tasks = {
        "T0": {
            "type": "drawing",
            "instruction": "T0.instruction",
            "required": True,
            "tools": [{"type": "ellipse", "label": "T0.tools.0.label", "color": "#ffe000", "details": []}],
        }
    }
    workflow = workflow_create(display_name="Lobes", tasks=tasks, strings=strings, retirement_count=10)
    path = shared_data / "rgz_atlas_examples" / "S311.fits"
    call_command("ingest_images", str(path), survey="ATLAS", workflow=workflow.pk, inline=True, stdout=io.StringIO())
    return workflow, Cutout.objects.get(name="S311")


def client_point(page, x: float, y: float) -> tuple[float, float]:
    return page.evaluate("([x, y]) => rgzViewer.toClient(x, y)", [x, y])


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Press at image pixel ``start``, move to ``end`` in steps, release."""
    page.mouse.move(*client_point(page, *start))
    page.mouse.down()
    page.mouse.move(*client_point(page, *end), steps=6)
    page.mouse.up()


def marks(page) -> list[dict]:
    return page.evaluate("() => rgzDrawing.value('T0')")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_volunteer_draws_moves_rotates_and_deletes_ellipses(browser, live_server, lobes, viewport):  # noqa: F811
    workflow, cutout = lobes
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    context.add_init_script(TUTORIAL_SEEN)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
    page.keyboard.press("0")  # the whole cutout
    page.locator("#sky").scroll_into_view_if_needed()
    page.click(".drawing-task[data-task=T0] [data-shape=ellipse]")

    drag(page, (100, 150), (140, 150))  # drawn from the centre along rx: ry starts at rx / 2
    [drawn] = marks(page)
    assert drawn == pytest.approx({"tool": 0, "x": 100, "y": 150, "rx": 40, "ry": 20, "angle": 0}, abs=0.2)
    assert page.locator(".delete-mark").is_enabled()  # the new ellipse is selected

    drag(page, (95, 152), (105, 162))  # from inside: moved by (10, 10)
    assert marks(page)[0] == pytest.approx({"tool": 0, "x": 110, "y": 160, "rx": 40, "ry": 20, "angle": 0}, abs=0.2)
    drag(page, (150, 160), (110, 205))  # the rx handle, turned a quarter clockwise and stretched to 45
    assert marks(page)[0] == pytest.approx({"tool": 0, "x": 110, "y": 160, "rx": 45, "ry": 20, "angle": 90}, abs=0.2)
    drag(page, (90, 160), (80, 160))  # the ry handle (now to the left of the centre) out to 30
    assert marks(page)[0]["ry"] == pytest.approx(30, abs=0.2)
    page.keyboard.press("]")  # turn by 5 degrees more
    assert marks(page)[0]["angle"] == pytest.approx(95, abs=0.2)

    drag(page, (220, 60), (200, 40))  # a second ellipse, pointing up-left: 225 degrees
    assert len(marks(page)) == 2 and marks(page)[1]["angle"] == pytest.approx(225, abs=0.2)
    page.screenshot(path=str(ARTIFACTS / f"ellipse_{viewport}.png"), full_page=viewport == "desktop")
    page.click(".drawing-task[data-task=T0] .delete-mark")
    assert len(marks(page)) == 1 and page.locator(".delete-mark").is_disabled()
    drag(page, (112, 162), (112, 162))  # a press inside the first one selects it
    page.keyboard.press("Delete")
    assert marks(page) == []
    drag(page, (60, 250), (60, 230))  # the last one: rx 20 straight up (270 degrees)
    page.click("#submit")
    page.wait_for_function("() => document.getElementById('count').textContent === '1'", timeout=15000)
    assert not errors, errors
    page.wait_for_load_state("networkidle")
    context.close()

    [ellipse] = Classification.objects.get(subject=cutout).annotations[0]["value"]
    assert ellipse == pytest.approx({"tool": 0, "x": 60, "y": 250, "rx": 20, "ry": 10, "angle": 270}, abs=0.2)
    api = APIClient()
    api.force_login(astronomer())
    [row] = api.get("/api/classifications/", {"workflow": workflow.pk}).json()["results"]
    shown = row["annotations"][0]["value"][0]
    assert shown["ra_deg"] is not None and abs(shown["dec_deg"] - cutout.dec_deg) < 0.05
