"""One person's walk through the site in one browser context: every page visited is checked the
same way (no console or script errors, nothing wider than the screen) and photographed into
tests/artifacts/walk-<person>-<page>-<size>.png."""

from __future__ import annotations

from tests.annotations.test_browser import ARTIFACTS

WALK_SIZES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}

# Buttons, menus, text fields and links styled as controls (boxed: not inline, with a background or
# a border) shown on the page that are shorter than a finger (44 px). Links in running text stay
# inline and are not counted.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, select, a[href], '
    + 'input[type=text], input[type=password], input[type=number], input[type=search], input[type=file]'
  )].filter((el) => {
    if (el.tagName === 'A') {
      const style = getComputedStyle(el);
      const painted = style.backgroundColor !== 'rgba(0, 0, 0, 0)' || parseFloat(style.borderTopWidth) > 0;
      if (style.display === 'inline' || !painted) return false;
    }
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.height < 43.5;
  }).map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.name ? '[' + el.name + ']' : ''}`
    + ` ${Math.round(el.getBoundingClientRect().height)} px`)"""

# Tables that only fit by scrolling sideways inside their card: on a phone a wide table is
# marked .stack-table and shows a card per row instead.
SIDEWAYS_TABLES = """() => [...document.querySelectorAll('table')].filter((table) => {
    if (!table.getClientRects().length) return false;
    for (let box = table.parentElement; box; box = box.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(box).overflowX)) {
        return box.scrollWidth > box.clientWidth + 1;
      }
    }
    return false;
  }).map((table) => (table.id || table.className || 'table') + ': '
    + [...(table.tHead ? table.tHead.rows[0].cells : [])].map((c) => c.textContent.trim()).join(' | '))"""


class Walk:
    def __init__(self, browser, live_server, person: str, size: str, *, init_script: str = ""):
        ARTIFACTS.mkdir(exist_ok=True)
        self.context = browser.new_context(**WALK_SIZES[size])
        if init_script:
            self.context.add_init_script(init_script)
        self.page = self.context.new_page()
        self.base = live_server.url
        self.person, self.size = person, size
        self.errors: list[str] = []
        self.visited: list[str] = []
        self.allowed: list[str] = []  # console messages a page is expected to log (a refused request)
        self.in_flight = 0
        self.page.on("request", lambda _: self._count(+1))
        self.page.on("requestfinished", lambda _: self._count(-1))
        self.page.on("requestfailed", lambda _: self._count(-1))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"{self.page.url}: {exc}"))

    def _console(self, message) -> None:
        if message.type == "error" and not any(part in message.text for part in self.allowed):
            self.errors.append(f"{self.page.url}: {message.text}")

    def nav(self, label: str) -> None:
        """Follow a link of the site's main navigation, as a person would."""
        with self.page.expect_navigation():
            self.page.locator("header.site-header nav").get_by_role("link", name=label, exact=True).click()

    def sign_in(self, username: str, password: str = "pw-for-tests") -> None:
        """Through the header's Sign in link; back on the page it came from."""
        came_from = self.page.url
        self.nav("Sign in")
        self.check("sign-in")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        with self.page.expect_navigation():
            self.page.click("main button[type=submit]")
        assert self.page.url == came_from, (self.page.url, came_from)

    def _count(self, step: int) -> None:
        self.in_flight = max(0, self.in_flight + step)

    def settle(self, seconds: float = 5) -> None:
        """Wait until the page's own requests have answered (a load state is reached once per
        navigation, so it says nothing about requests an action starts later)."""
        quiet = 0
        for _ in range(int(seconds / 0.05)):
            quiet = quiet + 1 if self.in_flight == 0 else 0
            if quiet >= 6:  # 300 ms without a request in flight; pages that poll are quiet between polls
                return
            self.page.wait_for_timeout(50)

    def check(self, name: str) -> None:
        """The page as it stands: photographed, no wider than the screen, no errors so far."""
        self.settle()
        self.visited.append(name)
        width = self.page.evaluate("() => document.documentElement.scrollWidth")
        screen = self.page.viewport_size["width"]
        assert width <= screen, f"{name} at {self.size} is {width} px wide on a {screen} px screen"
        self._photograph(ARTIFACTS / f"walk-{self.person}-{name}-{self.size}.png")
        if self.size == "phone" and "/admin/" not in self.page.url:  # Django's admin has its own styles
            header = self.page.locator("header.site-header").bounding_box()["height"]
            assert header <= 120, f"{name}: the site header takes {header} px of a phone's screen"
            small = self.page.evaluate(SMALL_TARGETS)
            assert not small, f"{name}: controls under 44 px on a touch screen: {small}"
            sideways = self.page.evaluate(SIDEWAYS_TABLES)
            assert not sideways, f"{name}: tables that scroll sideways on a phone: {sideways}"
        assert not self.errors, self.errors

    def _photograph(self, path) -> None:
        if self.size != "phone":
            self.page.screenshot(path=str(path), full_page=True)
            return
        # Chromium's full-page capture drops the touch emulation (pointer: coarse), so the picture
        # would show the desktop's small targets and keyboard hints: the screen is made as tall as
        # the page instead, and put back after.
        viewport = self.page.viewport_size
        height = self.page.evaluate("() => document.documentElement.scrollHeight")
        self.page.set_viewport_size({"width": viewport["width"], "height": min(height, 8000)})
        self.page.screenshot(path=str(path))
        self.page.set_viewport_size(viewport)

    def close(self) -> None:
        self.settle()
        self.context.close()
        assert not self.errors, self.errors
