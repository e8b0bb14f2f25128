"""The volunteer's classify page as volunteers use it: three desktop sizes and a touch phone.

Real FIRST cutouts of the demo survey (firstgalaxydata) are loaded, so the screenshots under
tests/artifacts/ show what volunteers see.
"""

import io
import re

import pytest
from PIL import Image

from annotations.models import Classification, Cutout, VolunteerProfile, Workflow
from tests.annotations.test_browser import ARTIFACTS, TUTORIAL_SEEN, browser  # noqa: F401  (shared Chromium)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {
    "1366x900": {"viewport": {"width": 1366, "height": 900}},
    "1920x1080": {"viewport": {"width": 1920, "height": 1080}},
    "1280x720": {"viewport": {"width": 1280, "height": 720}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "has_touch": True,
        "is_mobile": True,
        "device_scale_factor": 2,
    },
}
READY = "() => !document.getElementById('submit').disabled"


@pytest.fixture
def demo_workflow():
    """The demo survey's workflow with 30 real FIRST cutouts of all four literature classes."""
    from annotations.demo_survey import ingest_demo

    try:
        report = ingest_demo(limit=30)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    assert report.created == 30
    return Workflow.objects.get()


def _context(browser, size, *, returning=False):  # noqa: F811
    context = browser.new_context(**VIEWPORTS[size])
    if returning:
        context.add_init_script(TUTORIAL_SEEN)
    return context


def _in_view(page, selector) -> bool:
    box = page.locator(selector).bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= -1 and box["y"] + box["height"] <= height + 1


def _readout(page) -> tuple[float, float]:
    data = page.evaluate("() => ({...document.getElementById('sky-readout').dataset})")
    return float(data["ra"]), float(data["dec"])


def _pointer_readout(page, point, *, previous) -> tuple[float, float]:
    """The readout with the pointer at ``point``. The move is repeated until the readout shows a
    pointer position other than ``previous``: on a busy machine the first moves can reach the page
    before it is ready for them."""
    for attempt in range(30):
        page.mouse.move(point[0] + attempt % 2, point[1], steps=4)
        page.mouse.move(*point)
        if page.locator("#sky-readout").inner_text().startswith("Pointer"):
            reading = _readout(page)
            if previous is None or reading != previous:
                return reading
        page.wait_for_timeout(500)
    raise AssertionError("the sky readout never followed the pointer")


def _zoom(page) -> float:
    """Screen pixels per arcsecond, read from the scale bar (grows as the image is zoomed in)."""
    width = page.locator("#scale-line").bounding_box()["width"]
    return width / float(page.locator("#scale-bar").get_attribute("data-arcsec"))


def _pinch(page, centre, start: float, end: float, steps: int = 8) -> None:
    """Two fingers moving apart about ``centre`` (touch events through the DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    x, y = centre

    def points(gap):
        return [{"x": x - gap / 2, "y": y, "id": 1}, {"x": x + gap / 2, "y": y, "id": 2}]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points(start)})
    for k in range(1, steps + 1):
        gap = start + (end - start) * k / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": points(gap)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_volunteer_walks_the_classify_page(browser, live_server, demo_workflow, size):  # noqa: F811
    phone = size == "phone"
    context = _context(browser, size)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/classify/{demo_workflow.pk}/")

    # First visit: the tutorial opens by itself, three steps, then it is remembered.
    tutorial = page.locator("#tutorial")
    tutorial.wait_for(state="visible")
    page.screenshot(path=str(ARTIFACTS / f"volunteer-tutorial-{size}.png"))
    assert "radio telescope" in tutorial.inner_text()
    page.click("#tutorial-next")
    assert "Zoom" in page.locator(".tutorial-step:not([hidden])").inner_text()
    page.click("#tutorial-next")
    page.click("#tutorial-done")
    assert not tutorial.is_visible()
    page.wait_for_function("() => localStorage.getItem('rgz.tutorialSeen') === '1'")
    page.reload()
    page.wait_for_function(READY, timeout=20000)
    assert not tutorial.is_visible()  # once only

    # The header fits the screen; keyboard hints only where there is a keyboard.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= VIEWPORTS[size]["viewport"]["width"]
    assert page.locator("#submit kbd").is_visible() is (not phone)

    # Image tools: the image uses the screen, the tools are in view without scrolling.
    sky = page.locator("#sky").bounding_box()
    if phone:
        assert sky["width"] >= 340 and sky["height"] >= 340
    else:
        assert sky["width"] >= {"1366x900": 560, "1920x1080": 800, "1280x720": 480}[size]
        for selector in ("#sky", "#stretch", "#reset", "#contour-legend", "#sky-readout"):
            assert _in_view(page, selector), selector
    subject_id = int(page.locator("#subject-caption").inner_text().split()[1])
    cutout = Cutout.objects.get(pk=subject_id)
    assert page.locator("#contour-levels li").count() == len(cutout.contours) > 0
    assert page.locator("#scale-bar").is_visible()
    assert re.fullmatch(r"\d+[″′] \(approx\.\)", page.locator("#scale-label").inner_text())  # PNG: no WCS
    page.click("#open-tutorial")
    assert tutorial.is_visible()
    page.keyboard.press("Escape")
    page.evaluate("() => window.scrollTo(0, 0)")
    centre_ra, centre_dec = _readout(page)
    assert abs(centre_ra - cutout.ra_deg) < 2 / 3600 and abs(centre_dec - cutout.dec_deg) < 2 / 3600

    # measured again after the scroll: the first measure may predate a restored scroll position
    sky = page.locator("#sky").bounding_box()
    centre = (sky["x"] + sky["width"] / 2, sky["y"] + sky["height"] / 2)
    spot = (sky["x"] + sky["width"] * 0.3, sky["y"] + sky["height"] * 0.35)
    before_zoom = _zoom(page)
    if phone:
        # pinch about the centre zooms in; a double tap zooms in about the tap
        _pinch(page, centre, 60, 220)
        assert _zoom(page) > 1.3 * before_zoom
        page.click("#reset")
        assert _zoom(page) == pytest.approx(before_zoom, rel=0.02)  # back to the opening view
        page.touchscreen.tap(*spot)
        page.wait_for_timeout(80)
        page.touchscreen.tap(*spot)
        page.wait_for_timeout(100)
        assert _zoom(page) > 1.3 * before_zoom
        page.click("#reset")
    else:
        # the sky position under the pointer, and zoom about the pointer keeps that position there
        tutorial.wait_for(state="hidden")
        # the readout follows the pointer, north up and east left. The opening view is framed on the
        # source, which need not sit at the cutout's centre, so the pointer is compared with the
        # readout at the view's centre, not with the cutout's centre.
        at_view_centre = _pointer_readout(page, centre, previous=None)
        ra, dec = _pointer_readout(page, spot, previous=at_view_centre)
        assert dec > at_view_centre[1], "the pointer above the view's centre reads south of it"
        assert ra > at_view_centre[0], "the pointer left of the view's centre reads west of it"
        for _ in range(3):
            page.mouse.wheel(0, -100)
            page.wait_for_timeout(30)
        page.mouse.move(spot[0] + 1, spot[1])
        page.mouse.move(*spot)
        ra_zoomed, dec_zoomed = _readout(page)
        assert _zoom(page) > 1.3 * before_zoom
        assert abs(ra_zoomed - ra) * 3600 < 3 and abs(dec_zoomed - dec) * 3600 < 3
        page.click("#reset")
        assert _zoom(page) == pytest.approx(before_zoom, rel=0.02)
    page.screenshot(path=str(ARTIFACTS / f"volunteer-classify-{size}.png"))

    # Field guide: text and framed, zoomed examples for every answer, "Something else" too.
    page.click("#open-guide")
    entries = page.locator(".guide-entry")
    assert entries.count() == 5
    for k in range(5):
        entry = entries.nth(k)
        assert len(entry.locator("p").first.inner_text()) > 40
        assert entry.locator(".crop img").count() >= 1
    assert "Something else" in entries.nth(4).inner_text()
    first_example = entries.nth(0).locator(".crop img").first
    first_example.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('.crop img')].slice(0, 2).every(i => i.complete)")
    frame = entries.nth(0).locator(".crop").first.bounding_box()
    image = first_example.bounding_box()
    assert image["width"] > 2 * frame["width"]  # zoomed on the centre, not the whole frame
    page.screenshot(path=str(ARTIFACTS / f"volunteer-guide-{size}.png"))
    page.keyboard.press("Escape")

    # Answers: finger-sized targets; "Please answer" goes once an answer is picked.
    answers = page.locator(".task[data-task=T0] label.answer")
    assert min(answers.nth(k).bounding_box()["height"] for k in range(5)) >= 44
    page.click("#submit")
    error = page.locator("#form-error")
    assert "Please answer" in error.inner_text()
    answers.nth(2).click()
    assert not error.is_visible()
    if phone:
        # image and answers on one screen: scrolled to the last answer, the image stays in view
        answers.nth(4).scroll_into_view_if_needed()
        page.evaluate("() => window.scrollBy(0, 200)")
        assert _in_view(page, "#sky") and _in_view(page, "#submit")
        assert page.locator("#sky").bounding_box()["height"] >= 300
        page.screenshot(path=str(ARTIFACTS / f"volunteer-answering-{size}.png"))
        assert page.evaluate("() => window.scrollY") > 100
    page.click("#submit")
    page.wait_for_function("() => document.getElementById('count').textContent === '1'", timeout=15000)
    page.wait_for_function(READY, timeout=15000)
    assert int(page.locator("#subject-caption").inner_text().split()[1]) != subject_id
    # the next subject from the top
    assert page.evaluate("() => window.scrollY") <= page.evaluate(
        "() => document.getElementById('classify').getBoundingClientRect().top + window.scrollY"
    )
    assert _in_view(page, "#sky")
    stored = Classification.objects.get(expert=False)
    assert stored.subject_id == subject_id and stored.annotations == [{"task": "T0", "value": 2}]

    if not phone:
        # Keyboard: the image's focus ring shows in full; a keyboard submit lands on the next first answer.
        page.locator("#sky").focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.id") == "sky"
        box = page.locator("#sky").bounding_box()
        shot = Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB")
        for x, y in [(1, shot.height // 2), (shot.width - 2, shot.height // 2), (shot.width // 2, 1)]:
            r, g, b = shot.getpixel((x, y))
            assert b > 200 and g > 140 and r < 140, (x, y, (r, g, b))  # the accent outline, not clipped
        page.keyboard.press("1")
        page.keyboard.press("Control+Enter")
        page.wait_for_function("() => document.getElementById('count').textContent === '2'", timeout=15000)
        page.wait_for_function(READY, timeout=15000)
        focused = page.evaluate("() => [document.activeElement.name, document.activeElement.value]")
        assert focused == ["T0", "0"]
        page.keyboard.press("ArrowDown")  # radio group: moves to the second answer
        page.keyboard.press("Control+Enter")
        page.wait_for_function("() => document.getElementById('count').textContent === '3'", timeout=15000)
        values = [c.annotations[0]["value"] for c in Classification.objects.filter(expert=False).order_by("id")]
        assert values == [2, 0, 1]
    page.wait_for_load_state("networkidle")
    context.close()
    assert not errors, errors


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_one_tag_vocabulary_from_the_published_taxonomy(browser, live_server, size):  # noqa: F811
    from taxonomy.models import Tag, TagSynonym
    from taxonomy.services import taxonomy_publish
    from tests.factories import make_workflow_with_subjects

    workflow, _ = make_workflow_with_subjects(n=2, retirement=5, name=f"Tags {size}")
    names = ["bent tail", "double lobed", "compact core", "diffuse halo", "wide angle tail"] + [
        f"feature {k:02d}" for k in range(10)
    ]
    for name in names:
        Tag.objects.create(name=name, status=Tag.Status.APPROVED, description=f"what {name} means")
    TagSynonym.objects.create(tag=Tag.objects.get(name="bent tail"), phrase="curved jets")
    taxonomy_publish(note="for the tag task")

    context = _context(browser, size, returning=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    page.wait_for_function(READY, timeout=15000)
    boxes = page.locator(".task[data-task=T2] input[type=checkbox]")
    offered = boxes.evaluate_all("(boxes) => boxes.map((b) => b.value)")
    assert sorted(offered) == sorted(names)  # the taxonomy's tags, not the workflow's fixed list
    assert page.locator(".task[data-task=T2] input[value=lobe]").count() == 0
    # a long list gets a filter that matches words anywhere in a tag's name
    page.fill("#tag-filter-T2", "tai")
    visible = [t.strip() for t in page.locator(".task[data-task=T2] label.tag:visible").all_inner_texts()]
    assert sorted(visible) == ["bent tail", "wide angle tail"]
    page.fill("#tag-filter-T2", "")

    page.locator("#text-T1").press_sequentially("a double with ben", delay=15)
    suggestion = page.locator(".tag-suggestions button", has_text="bent tail")
    suggestion.wait_for(timeout=10000)
    page.screenshot(path=str(ARTIFACTS / f"volunteer-tags-{size}.png"))
    suggestion.click()
    assert page.input_value("#text-T1") == "a double with bent tail, "
    assert page.locator(".task[data-task=T2] input[value='bent tail']").is_checked()
    page.locator(".task[data-task=T0] label.answer").nth(3).click()
    page.click("#submit")
    # in tests the description is tagged in the request (eager tasks): the first loads the language model
    page.wait_for_function("() => document.getElementById('count').textContent === '1'", timeout=60000)
    stored = Classification.objects.get()
    assert {"task": "T2", "value": ["bent tail"]} in stored.annotations
    assert {"task": "T1", "value": "a double with bent tail,"} in stored.annotations
    page.wait_for_load_state("networkidle")
    context.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_signing_up_keeps_the_anonymous_history_and_lists_it(browser, live_server, size):  # noqa: F811
    from django.contrib.auth.models import User

    from tests.factories import make_workflow_with_subjects

    workflow, _ = make_workflow_with_subjects(n=3, retirement=5, name=f"History {size}")
    context = _context(browser, size)
    page = context.new_page()
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    page.click("#tutorial-next")
    page.click("#tutorial-next")
    page.click("#tutorial-done")
    for round_ in range(2):
        page.wait_for_function(READY, timeout=15000)
        page.locator(".task[data-task=T0] label.answer").nth(round_ + 1).click()
        page.click("#submit")
        page.wait_for_function(f"() => document.getElementById('count').textContent === '{round_ + 1}'")
    anonymous = set(Classification.objects.values_list("volunteer_key", flat=True))
    assert len(anonymous) == 1 and next(iter(anonymous)).startswith("session:")

    page.goto(f"{live_server.url}/classify/recent/")
    assert page.locator("#recent li").count() == 2
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("#id_username", f"new-volunteer-{size}")
    page.fill("#id_password1", "radio lobes 1400 MHz")
    page.fill("#id_password2", "a different one")
    page.click("button[type=submit]")
    assert "didn" in page.locator(".error").inner_text() or "match" in page.locator(".error").inner_text()
    assert not User.objects.filter(username=f"new-volunteer-{size}").exists()
    page.fill("#id_password1", "radio lobes 1400 MHz")
    page.fill("#id_password2", "radio lobes 1400 MHz")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/classify/recent/")
    user = User.objects.get(username=f"new-volunteer-{size}")
    rows = list(Classification.objects.order_by("id"))
    assert [(c.user_id, c.volunteer_key) for c in rows] == [(user.pk, f"user:{user.pk}")] * 2
    items = page.locator("#recent li")
    assert items.count() == 2
    assert "FR II" in items.nth(0).inner_text() and "FR I" in items.nth(1).inner_text()  # newest first
    page.wait_for_function("() => [...document.querySelectorAll('#recent img')].every(i => i.complete)")
    page.screenshot(path=str(ARTIFACTS / f"volunteer-recent-{size}.png"), full_page=True)

    # Signed in, the tutorial seen is kept with the account: a fresh browser does not show it again.
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    page.wait_for_function(READY, timeout=15000)
    assert not page.locator("#tutorial").is_visible()  # seen in this browser
    page.wait_for_load_state("networkidle")
    assert VolunteerProfile.objects.filter(user=user, tutorial_seen_at__isnull=False).exists()
    session = [c for c in context.cookies() if c["name"] == "sessionid"]
    context.close()
    fresh = _context(browser, size)
    fresh.add_cookies(session)
    page = fresh.new_page()
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    page.wait_for_function(READY, timeout=15000)
    assert not page.locator("#tutorial").is_visible()
    assert page.locator("#count").inner_text() == "2"
    page.wait_for_load_state("networkidle")
    fresh.close()
