"""Editing drawn marks in Debian Chromium, with a mouse at desktop size and a finger on a phone: a
volunteer draws a point, a circle, a rectangle and a line on the ATCA cutout of S311, selects each,
moves it, resizes it by its handles, nudges the line with the arrow keys, pushes marks against the
image's edges, deletes marks
drawn by mistake and submits; what is stored is Zooniverse's marks in radio-frame pixels after
the edits, without the deleted ones."""

import io

import pytest
from django.core.management import call_command

from annotations.models import Classification, Cutout
from annotations.services import workflow_create
from tests.annotations.test_browser import ARTIFACTS, TUTORIAL_SEEN, browser  # noqa: F401  (the shared Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
SHAPES = ["point", "circle", "rectangle", "line"]
# Mouse positions are exact; a finger's land on whole screen pixels (about half an image pixel).
TOLERANCE = {"desktop": 0.2, "phone": 0.8}


@pytest.fixture
def shapes_workflow(shared_data):
    strings = {"T0.instruction": "Mark what you see"}
    tools = []
    for index, shape in enumerate(SHAPES):
        strings[f"T0.tools.{index}.label"] = shape.title()
        tools.append({"type": shape, "label": f"T0.tools.{index}.label", "color": "#ffe000", "details": []})
    tasks = {"T0": {"type": "drawing", "instruction": "T0.instruction", "required": True, "tools": tools}}
    workflow = workflow_create(display_name="Shapes", tasks=tasks, strings=strings, retirement_count=10)
    path = shared_data / "rgz_atlas_examples" / "S311.fits"
    call_command("ingest_images", str(path), survey="ATLAS", workflow=workflow.pk, inline=True, stdout=io.StringIO())
    return workflow, Cutout.objects.get(name="S311")


class Volunteer:
    """Presses on image pixels with a mouse (desktop) or a finger (phone, through touch events)."""

    def __init__(self, page, touch: bool):
        self.page = page
        self.touch = touch
        self.cdp = page.context.new_cdp_session(page) if touch else None

    def client(self, x: float, y: float) -> tuple[float, float]:
        return self.page.evaluate("([x, y]) => rgzViewer.toClient(x, y)", [x, y])

    def drag(self, start: tuple[float, float], end: tuple[float, float], steps: int = 6) -> None:
        self.page.locator("#sky").scroll_into_view_if_needed()
        (x0, y0), (x1, y1) = self.client(*start), self.client(*end)
        if not self.touch:
            self.page.mouse.move(x0, y0)
            self.page.mouse.down()
            self.page.mouse.move(x1, y1, steps=steps)
            self.page.mouse.up()
            return
        self.cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
        for k in range(1, steps + 1):
            point = {"x": x0 + (x1 - x0) * k / steps, "y": y0 + (y1 - y0) * k / steps}
            self.cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        # The finger rests before it lifts: a drag that ends moving is a fling, and Chromium
        # spends the next tap on stopping the fling instead of pressing what is under it.
        self.page.wait_for_timeout(150)
        self.cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x1, "y": y1}]})
        self.cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    def press(self, x: float, y: float) -> None:
        self.drag((x, y), (x, y), steps=1)

    def button(self, selector: str) -> None:
        if self.touch:
            self.page.tap(selector)
        else:
            self.page.click(selector)

    def tool(self, shape: str) -> None:
        self.button(f".drawing-task[data-task=T0] [data-shape={shape}]")

    def marks(self) -> list[dict]:
        return self.page.evaluate("() => rgzDrawing.value('T0')")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_volunteer_selects_moves_resizes_and_deletes_every_shape(browser, live_server, shapes_workflow, viewport):  # noqa: F811
    workflow, cutout = shapes_workflow
    phone = viewport == "phone"
    tol = TOLERANCE[viewport]
    width, height = cutout.width, cutout.height
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone)
    context.add_init_script(TUTORIAL_SEEN)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
    page.keyboard.press("0")  # the whole cutout
    assert page.evaluate("() => matchMedia('(pointer: coarse)').matches") is phone
    delete = page.locator(".drawing-task[data-task=T0] .delete-mark")
    if phone:  # the delete button is a finger-sized target
        assert delete.bounding_box()["height"] >= 44
    you = Volunteer(page, touch=phone)

    you.tool("point")
    you.press(50, 50)
    assert you.marks() == [{"tool": 0, "x": pytest.approx(50, abs=tol), "y": pytest.approx(50, abs=tol)}]
    assert delete.is_enabled()  # a new mark is selected
    start = you.marks()[0]
    you.drag((51, 51), (71, 61))  # a press near the point takes it: moved by (20, 10)
    assert you.marks()[0] == pytest.approx({"tool": 0, "x": start["x"] + 20, "y": start["y"] + 10}, abs=tol)

    you.tool("circle")
    you.drag((150, 100), (170, 100))
    assert you.marks()[1] == pytest.approx({"tool": 1, "x": 150, "y": 100, "r": 20}, abs=tol)
    you.drag((150, 105), (160, 115))  # from inside: moved by (10, 10)
    assert you.marks()[1] == pytest.approx({"tool": 1, "x": 160, "y": 110, "r": 20}, abs=tol)
    you.drag((180, 110), (190, 110))  # its radius handle, out by 10
    assert you.marks()[1] == pytest.approx({"tool": 1, "x": 160, "y": 110, "r": 30}, abs=tol)

    you.tool("rectangle")
    you.drag((40, 150), (100, 190))
    assert you.marks()[2] == pytest.approx({"tool": 2, "x": 40, "y": 150, "width": 60, "height": 40}, abs=tol)
    you.drag((70, 170), (80, 160))  # from inside: moved by (10, -10)
    assert you.marks()[2] == pytest.approx({"tool": 2, "x": 50, "y": 140, "width": 60, "height": 40}, abs=tol)
    you.drag((110, 180), (120, 200))  # the bottom-right corner
    assert you.marks()[2] == pytest.approx({"tool": 2, "x": 50, "y": 140, "width": 70, "height": 60}, abs=tol)
    you.drag((50, 140), (130, 210))  # the top-left corner past the opposite one: the box turns over
    assert you.marks()[2] == pytest.approx({"tool": 2, "x": 120, "y": 200, "width": 10, "height": 10}, abs=tol)
    you.drag((130, 210), (50, 140))  # and back from its (new) bottom-right corner
    assert you.marks()[2] == pytest.approx({"tool": 2, "x": 50, "y": 140, "width": 70, "height": 60}, abs=tol)

    you.tool("line")
    you.drag((200, 200), (250, 250))
    assert you.marks()[3] == pytest.approx({"tool": 3, "x1": 200, "y1": 200, "x2": 250, "y2": 250}, abs=tol)
    you.drag((226, 224), (216, 234))  # near the middle: moved by (-10, 10)
    assert you.marks()[3] == pytest.approx({"tool": 3, "x1": 190, "y1": 210, "x2": 240, "y2": 260}, abs=tol)
    you.drag((240, 260), (260, 240))  # its second end
    assert you.marks()[3] == pytest.approx({"tool": 3, "x1": 190, "y1": 210, "x2": 260, "y2": 240}, abs=tol)
    page.keyboard.press("ArrowLeft")  # keyboard nudges: one pixel, ten with Shift
    page.keyboard.press("Shift+ArrowUp")
    assert you.marks()[3] == pytest.approx({"tool": 3, "x1": 189, "y1": 200, "x2": 259, "y2": 230}, abs=tol)
    for _ in range((width - 259) // 10 + 2):  # nudged right past the edge: the far end stops on it
        page.keyboard.press("Shift+ArrowRight")
    assert you.marks()[3] == pytest.approx({"tool": 3, "x1": width - 70, "y1": 200, "x2": width, "y2": 230}, abs=tol)

    # Mistakes: a second circle, deleted with the button, and (desktop) a stray point with the key.
    you.tool("circle")
    you.drag((240, 60), (255, 60))
    assert len(you.marks()) == 5 and delete.is_enabled()
    page.locator("#sky").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"marks_edit_{viewport}.png"), full_page=not phone)
    you.button(".drawing-task[data-task=T0] .delete-mark")
    assert len(you.marks()) == 4 and delete.is_disabled()
    if not phone:
        you.tool("point")
        you.press(20, 250)
        assert len(you.marks()) == 5
        page.keyboard.press("Delete")
        assert len(you.marks()) == 4
        you.press(71, 61)  # the point again; Escape lets it go
        assert delete.is_enabled()
        page.keyboard.press("Escape")
        assert delete.is_disabled()

    # Dragged past the bottom of the image (the pointer off the canvas), the rectangle stops at the edge.
    you.tool("rectangle")
    you.drag((85, 170), (85, height + 30))
    assert you.marks()[2] == pytest.approx({"tool": 2, "x": 50, "y": height - 60, "width": 70, "height": 60}, abs=tol)
    page.locator("#sky").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"marks_edit_selected_{viewport}.png"), full_page=False)
    edited = you.marks()

    you.button("#submit")
    page.wait_for_function("() => document.getElementById('count').textContent === '1'", timeout=15000)
    assert not errors, errors
    page.wait_for_load_state("networkidle")
    context.close()

    stored = Classification.objects.get(subject=cutout).annotations[0]["value"]
    assert [mark["tool"] for mark in stored] == [0, 1, 2, 3]  # the deleted marks are gone
    for saved, shown in zip(stored, edited, strict=True):
        assert {k: saved[k] for k in shown} == pytest.approx(shown, abs=0.01)
    assert stored[1] == pytest.approx({"tool": 1, "x": 160, "y": 110, "r": 30}, abs=tol)
    assert stored[2] == pytest.approx({"tool": 2, "x": 50, "y": height - 60, "width": 70, "height": 60}, abs=tol)
    assert stored[3] == pytest.approx({"tool": 3, "x1": width - 70, "y1": 200, "x2": width, "y2": 230}, abs=tol)


GEOMETRY = """() => {
  const m = window.rgzMarks;
  const box = { tool: 0, x: 10, y: 20, width: 30, height: 40 };
  const line = { tool: 0, x1: 10, y1: 10, x2: 50, y2: 30 };
  return {
    boxPastCorner: m.moved("rectangle", box, 500, -500, [100, 80]),
    lineUp: m.moved("line", line, -5, -50, [100, 80]),
    circleOut: m.moved("circle", { tool: 0, x: 50, y: 50, r: 200 }, 90, 0, [100, 80]),
    boxFlipped: m.resized("rectangle", box, "ne", 0, 70),
    lineEnd: m.resized("line", line, "p1", 60, 5),
    circleRadius: m.resized("circle", { tool: 0, x: 0, y: 0, r: 5 }, "r", 3, 4),
    nearLine: m.hits("line", line, 30, 23, 4),
    farFromLine: m.hits("line", line, 30, 30, 4),
    pastLineEnd: m.hits("line", line, 56, 30, 4),
    nearPoint: m.hits("point", { x: 5, y: 5 }, 8, 9, 5),
    farFromPoint: m.hits("point", { x: 5, y: 5 }, 9, 9, 5),
    nearBox: m.hits("rectangle", box, 43, 30, 4),
    nearEllipse: m.hits("ellipse", { x: 0, y: 0, rx: 10, ry: 2, angle: 90 }, 0, 13, 4),
    boxHandle: m.handleAt("rectangle", box, 38, 61, 3),
    noHandle: m.handleAt("rectangle", box, 25, 40, 3),
    pointHandles: m.handles("point", { x: 1, y: 1 }),
  };
}"""


def test_mark_geometry_in_image_pixels(browser, live_server, shapes_workflow):  # noqa: F811
    """The pure functions behind editing: moves stay on the image, resizes keep the opposite corner,
    hit tests reach a tolerance past thin marks and outlines."""
    workflow, _ = shapes_workflow
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    context.add_init_script(TUTORIAL_SEEN)
    page = context.new_page()
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
    got = page.evaluate(GEOMETRY)
    page.wait_for_load_state("networkidle")
    context.close()

    assert got["boxPastCorner"] == {"tool": 0, "x": 70, "y": 0, "width": 30, "height": 40}
    assert got["lineUp"] == {"tool": 0, "x1": 5, "y1": 0, "x2": 45, "y2": 20}
    assert got["circleOut"] == {"tool": 0, "x": 100, "y": 50, "r": 200}  # the centre stays on the image
    assert got["boxFlipped"] == {"tool": 0, "x": 0, "y": 60, "width": 10, "height": 10}  # around the sw corner
    assert got["lineEnd"] == {"tool": 0, "x1": 60, "y1": 5, "x2": 50, "y2": 30}
    assert got["circleRadius"] == {"tool": 0, "x": 0, "y": 0, "r": 5}
    assert got["nearLine"] and not got["farFromLine"] and not got["pastLineEnd"]
    assert got["nearPoint"] and not got["farFromPoint"] and got["nearBox"] and got["nearEllipse"]
    assert got["boxHandle"] == "se" and got["noHandle"] is None and got["pointHandles"] == {}
