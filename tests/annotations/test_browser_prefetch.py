"""The classify page's local queue: a batch is leased and preloaded, so the next image is on
screen right after Done, while the answer is still on its way."""

import statistics

import pytest

from annotations.models import Classification, QueueLease
from tests.annotations.test_browser import ARTIFACTS, TUTORIAL_SEEN, browser  # noqa: F401
from tests.factories import make_workflow_with_subjects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Click Done, then count until a frame shows another subject drawn (the page marks it on its root).
DONE_TO_NEXT = """() => new Promise((resolve, reject) => {
  const root = document.getElementById('classify');
  const before = root.dataset.subjectId;
  const t0 = performance.now();
  document.getElementById('submit').click();
  const give_up = t0 + 10000;
  (function check() {
    if (root.dataset.subjectId && root.dataset.subjectId !== before) resolve(performance.now() - t0);
    else if (performance.now() > give_up) reject(new Error('no next subject within 10 s'));
    else requestAnimationFrame(check);
  })();
})"""


def done_to_next_ms(page, answer: int) -> float:
    page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
    page.check(f"input[name=T0][value='{answer}']")
    return page.evaluate(DONE_TO_NEXT)


@pytest.mark.parametrize(
    "viewport,name", [({"width": 1366, "height": 900}, "desktop"), ({"width": 390, "height": 844}, "phone")]
)
def test_the_next_image_is_shown_right_after_done(browser, live_server, viewport, name):  # noqa: F811
    rounds = 8
    workflow, cutouts = make_workflow_with_subjects(n=rounds + 3, retirement=3, name=f"Prefetch {name}")
    context = browser.new_context(viewport=viewport, is_mobile=name == "phone", has_touch=name == "phone")
    context.add_init_script(TUTORIAL_SEEN)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    batches = []
    page.on("request", lambda r: batches.append(r.url) if "/api/queue/next/" in r.url else None)
    try:
        page.goto(f"{live_server.url}/classify/{workflow.pk}/")
        timings = [done_to_next_ms(page, 1 + i % 3) for i in range(rounds)]
        page.wait_for_function(f"() => document.getElementById('count').textContent === '{rounds}'", timeout=30000)
        page.screenshot(path=str(ARTIFACTS / f"volunteer-prefetch-{name}.png"), full_page=False)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    stored = list(Classification.objects.filter(workflow=workflow).values_list("subject_id", flat=True))
    assert len(stored) == rounds and len(set(stored)) == rounds  # every answer stored, each subject once
    assert all("n=" in url for url in batches) and len(batches) < rounds  # batches, not one request a subject
    assert QueueLease.objects.filter(released=False).count() <= 5  # what the page holds: one batch at most
    print(f"{name} Done -> next image ms: p50 {statistics.median(timings):.1f}, max {max(timings):.1f}")
    assert statistics.median(timings) < 100, timings
    assert not errors, errors
