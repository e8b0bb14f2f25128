"""The main pages work in Chromium under the Content-Security-Policy: no violation is reported."""

import pytest

from jobs.models import Job
from tests.annotations.test_browser import browser, page  # noqa: F401  (shared Chromium fixtures)
from tests.factories import astronomer, make_workflow_with_subjects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script (Playwright injects it outside the page's policy).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def test_main_pages_report_no_csp_violation(page, live_server):  # noqa: F811
    workflow, cutouts = make_workflow_with_subjects(n=2, retirement=5, name="CSP morphology")
    job = Job.objects.create(kind="ingest_images", status="running", done=1, total=4)
    astronomer("csp-astronomer")
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.context.add_init_script(RECORD_VIOLATIONS)
    violations = {}

    def visit(path, ready=None):
        response = page.goto(f"{live_server.url}{path}")
        assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
        if ready:
            page.wait_for_function(ready, timeout=15000)
        page.wait_for_load_state("networkidle")
        violations[path] = page.evaluate("() => window.__cspViolations")

    # the volunteer's page: its script must run to load a cutout and enable the submit button
    visit(f"/classify/{workflow.pk}/", "() => !document.getElementById('submit').disabled")
    visit("/classify/recent/")
    visit("/accounts/signup/")
    visit("/accounts/login/?next=/desk/")
    page.fill("#id_username", "csp-astronomer")
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/desk/")
    for path in (
        "/desk/",
        f"/jobs/{job.pk}/",
        f"/workflows/{workflow.pk}/retirement/",
        "/scans/",
        "/taxonomy/",
        "/taxonomy/search/",
        "/classifiers/",
        "/zooniverse/",
        "/admin/",
    ):
        visit(path)
    visit("/browse/", "() => document.querySelectorAll('#grid li').length === 2")
    visit(f"/cutouts/{cutouts[0].pk}/", "() => document.getElementById('similar-status').textContent !== ''")
    visit("/api/docs/", "() => document.querySelectorAll('.opblock').length > 10")  # Swagger UI drew the API

    assert {path: found for path, found in violations.items() if found} == {}
    assert console == []
