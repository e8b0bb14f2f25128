"""The tag taxonomy in Debian Chromium: an astronomer approves, merges, undoes and publishes;
a volunteer then gets approved tags suggested while describing a source."""

import pytest

from annotations.models import Classification
from annotations.roles import Volunteer
from annotations.services import classification_create
from taxonomy import services
from taxonomy.models import Tag, TagLink
from tests.annotations.test_browser import ARTIFACTS, TUTORIAL_SEEN, browser, page  # noqa: F401  (shared Chromium fixtures)
from tests.factories import astronomer, make_workflow_with_subjects
from tests.taxonomy.test_taxonomy import DESCRIPTIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row(tab, name):
    return tab.locator(f"#tags tr[data-name='{name}']")


def test_astronomer_curates_and_publishes_then_volunteer_gets_suggestions(page, live_server):  # noqa: F811
    workflow, cutouts = make_workflow_with_subjects(n=4, retirement=10, name="Browser tags")
    for i, texts in DESCRIPTIONS.items():
        for v, text in enumerate(texts):
            classification_create(
                workflow_id=workflow.pk,
                subject_id=cutouts[i].pk,
                volunteer=Volunteer(user_id=None, session_key=f"vol-{v}"),
                annotations=[{"task": "T0", "value": 1}, {"task": "T1", "value": text}],
            )
    services.candidates_derive(threshold=0.8)
    astronomer("curator")
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server.url}/accounts/login/?next=/taxonomy/")
    page.fill("#id_username", "curator")
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/taxonomy/")
    names = page.locator("#tags .tag-name").all_inner_texts()
    assert names[0] == "bent tail" and {"jet", "lobes", "two lobes", "compact"} <= set(names)  # most supported first
    assert "“bent tail”" in row(page, "bent tail").inner_text()  # example phrases
    assert row(page, "bent tail").locator("td.thumbs img").count() == 2  # example cutouts

    for name in ("bent tail", "jet", "compact"):
        row(page, name).locator("button[data-action=approve]").click()
        page.wait_for_function(
            f"() => document.getElementById('curation-message').textContent.includes('Approved “{name}”')"
        )
    # Merge "lobes" into "two lobes" (a candidate) through the merge box.
    lobes = row(page, "lobes")
    lobes.locator("summary", has_text="Merge").click()
    lobes.locator(".merge-into").fill("two lobes")
    lobes.locator("button[data-action=merge]").click()
    page.wait_for_selector("#merge-dialog[open]")  # a merge is confirmed first
    assert "“lobes” will be merged into “two lobes”" in page.locator("#merge-dialog-text").inner_text()
    page.click("#merge-confirm")
    page.wait_for_function("() => document.getElementById('curation-message').textContent.includes('merged into')")
    assert Tag.objects.get(name="lobes").status == Tag.Status.RETIRED
    row(page, "two lobes").locator("button[data-action=approve]").click()
    page.wait_for_function("() => document.getElementById('curation-message').textContent.includes('two lobes')")
    # Undo the approval of "compact" from the change log: back to a candidate.
    page.locator("#audit tr", has_text="approve 'compact'").locator("button.undo").click()
    page.wait_for_function("() => document.getElementById('curation-message').textContent.startsWith('Undone')")
    assert Tag.objects.get(name="compact").status == Tag.Status.CANDIDATE
    assert "undone by curator" in page.locator("#audit").inner_text()

    page.fill("#publish-note", "first cut")
    page.click("#publish")
    page.wait_for_function("() => document.getElementById('curation-message').textContent.includes('Published')")
    assert page.locator("#current-version").inner_text() == "v1"
    page.select_option("select[name=status]", "approved")
    page.click("form[aria-label='Filter tags'] button[type=submit]")
    page.wait_for_url("**status=approved**")
    assert set(page.locator("#tags .tag-name").all_inner_texts()) == {"bent tail", "jet", "two lobes"}
    page.screenshot(path=str(ARTIFACTS / "taxonomy_curation.png"), full_page=True)
    # Publishing auto-tagged the stored descriptions.
    assert TagLink.objects.filter(tag__name="bent tail", origin="auto").count() == 5

    # A volunteer (anonymous, a fresh browser context) describes a source.
    volunteer = page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    volunteer.add_init_script(TUTORIAL_SEEN)
    vpage = volunteer.new_page()
    vpage.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    vpage.goto(f"{live_server.url}/classify/{workflow.pk}/")
    vpage.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
    vpage.locator("#text-T1").press_sequentially("faint, be", delay=20)
    suggestion = vpage.locator(".tag-suggestions button", has_text="bent tail")
    suggestion.wait_for(timeout=10000)
    vpage.screenshot(path=str(ARTIFACTS / "taxonomy_suggestions.png"), full_page=True)
    suggestion.click()
    assert vpage.input_value("#text-T1") == "faint, bent tail, "
    assert vpage.locator(".tag-suggestions button").count() == 0
    vpage.locator("#text-T1").press_sequentially("comp", delay=20)
    vpage.wait_for_timeout(600)
    assert vpage.locator(".tag-suggestions button").count() == 0  # "compact" is not approved
    vpage.locator("input[name=T0]").first.check()
    vpage.click("#submit")
    vpage.wait_for_function("() => document.getElementById('count').textContent === '1'", timeout=15000)
    volunteer.close()
    stored = Classification.objects.filter(volunteer_key__startswith="session:").exclude(
        volunteer_key__startswith="session:vol-"
    )
    assert stored.count() == 1
    assert {link.tag.name for link in TagLink.objects.filter(classification=stored.get())} == {"bent tail"}
    assert console_errors == []
