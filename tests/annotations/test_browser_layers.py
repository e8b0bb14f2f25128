"""The layer viewer on the classify page, in Debian Chromium: a tutorial subject's infrared heat-map
under its radio image, with the blend slider, the flip (button and L) and the shared image tools."""

import io
import shutil

import pytest
from django.core.management import call_command

from annotations.services import workflow_create
from annotations.task_definitions import demo_workflow_definition
from tests.annotations.test_browser import ARTIFACTS, TUTORIAL_SEEN, browser  # noqa: F401  (the shared Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def tutorial_workflow(shared_data, tmp_path):
    compact = shared_data / "rgz_atlas_examples" / "examples" / "compact"
    shutil.copy(compact / "S1138_radio.png", tmp_path / "S1138_radio.png")
    shutil.copy(compact / "S1138_heatmap_contours.png", tmp_path / "S1138_heatmap_contours.png")
    tasks, strings = demo_workflow_definition()
    workflow = workflow_create(display_name="Tutorial layers", tasks=tasks, strings=strings, retirement_count=5)
    quiet = {"inline": True, "stdout": io.StringIO()}
    call_command(
        "ingest_images", str(tmp_path / "S1138_radio.png"), survey="RGZ tutorial", workflow=workflow.pk, **quiet
    )
    call_command(
        "ingest_layers", str(tmp_path / "S1138_heatmap_contours.png"), survey="RGZ tutorial", band="infrared", **quiet
    )
    return workflow


def canvas(page) -> str:
    return page.evaluate("() => document.getElementById('sky').toDataURL()")


def open_classify(browser, live_server, workflow, viewport):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    context.add_init_script(TUTORIAL_SEEN)  # a returning volunteer
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
    return context, page, errors


def test_infrared_under_radio_contours_with_blend_flip_and_shared_tools(browser, live_server, tutorial_workflow):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    context, page, errors = open_classify(browser, live_server, tutorial_workflow, "desktop")
    assert page.locator("#layer-tools").is_visible()
    assert page.evaluate("() => [rgzLayers.band, rgzLayers.blend]") == ["infrared", 1]
    assert "infrared 100%" in page.locator("#layer-blend-value").inner_text()
    page.screenshot(path=str(ARTIFACTS / "layers_desktop_infrared.png"), full_page=True)
    infrared = canvas(page)

    page.keyboard.press("l")  # flip to the radio image
    assert page.evaluate("() => rgzLayers.blend") == 0
    assert page.locator("#layer-flip").inner_text() == "Show infrared"
    radio = canvas(page)
    assert radio != infrared

    page.locator("#layer-blend").fill("0.4")
    halfway = canvas(page)
    assert halfway not in (radio, infrared)
    assert "infrared 40% · radio 60%" in page.locator("#layer-blend-value").inner_text()
    page.screenshot(path=str(ARTIFACTS / "layers_desktop_blend.png"), full_page=True)

    page.click("#layer-flip")  # below one half the flip goes to the other band
    assert page.evaluate("() => rgzLayers.blend") == 1 and canvas(page) == infrared
    # The image tools act on the layer shown: invert and zoom change the infrared picture too.
    page.keyboard.press("i")
    inverted = canvas(page)
    assert inverted != infrared
    page.click("#zoom-in")
    assert canvas(page) != inverted
    page.keyboard.press("l")
    page.keyboard.press("l")
    assert canvas(page) != infrared  # flipping back keeps the zoom and the inversion
    assert not errors, errors
    page.wait_for_load_state("networkidle")
    context.close()

    context, page, errors = open_classify(browser, live_server, tutorial_workflow, "phone")
    assert page.locator("#layer-tools").is_visible()
    page.locator("#layer-tools").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "layers_phone.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the page scrolls sideways on a phone ({width}px)"
    assert not errors, errors
    page.wait_for_load_state("networkidle")
    context.close()
