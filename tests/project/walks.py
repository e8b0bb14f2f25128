"""One person's walk through the site in one browser context: every page visited is checked the
same way (no console or script errors, nothing wider than the screen) and photographed into
tests/artifacts/walk-<person>-<page>-<size>.png."""

from __future__ import annotations

from tests.annotations.test_browser import ARTIFACTS

WALK_SIZES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


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

    def settle(self) -> None:
        try:  # pages that poll never go quiet for long; half a second without requests is enough
            self.page.wait_for_load_state("networkidle", timeout=5000)
        except Exception:  # noqa: BLE001  (a poll kept it busy: the page has drawn what it loaded)
            pass

    def check(self, name: str) -> None:
        """The page as it stands: photographed, no wider than the screen, no errors so far."""
        self.settle()
        self.visited.append(name)
        self.page.screenshot(path=str(ARTIFACTS / f"walk-{self.person}-{name}-{self.size}.png"), full_page=True)
        width = self.page.evaluate("() => document.documentElement.scrollWidth")
        viewport = self.page.viewport_size["width"]
        assert width <= viewport, f"{name} at {self.size} is {width} px wide on a {viewport} px screen"
        assert not self.errors, self.errors

    def close(self) -> None:
        self.settle()
        self.context.close()
        assert not self.errors, self.errors
