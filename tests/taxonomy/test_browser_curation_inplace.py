"""Tag curation in Debian Chromium at desktop and phone sizes: actions update the page in place
(no reload), bulk approve and retire, a merge is confirmed first, examples show real images."""

import pytest

from annotations.models import Cutout
from taxonomy.models import CurationEvent, Tag, TagLink
from tests.annotations.test_browser import ARTIFACTS, browser  # noqa: F401  (shared Chromium)
from tests.explorer.test_browser_explorer import sized_page  # noqa: F401
from tests.factories import make_workflow_with_subjects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_curation_in_place_with_bulk_and_a_confirmed_merge(sized_page, live_server):  # noqa: F811
    page, size = sized_page, sized_page.size_name
    _, cutouts = make_workflow_with_subjects(n=3, name="Curated")
    stand_in = cutouts[0]
    Cutout.objects.filter(pk=stand_in.pk).update(
        ingest_notes=["placeholder: the platform holds no image of this subject"]
    )
    names = ["bent tail", "jet", "lobes", "two lobes", "halo", "ring"]
    tags = {
        name: Tag.objects.create(name=name, support=10 - i, example_cutouts=[stand_in.pk])
        for i, name in enumerate(names)
    }
    TagLink.objects.create(tag=tags["bent tail"], cutout=cutouts[1], origin="auto")
    page.goto(f"{live_server.url}/taxonomy/")
    page.evaluate("() => { window.__samePage = true; }")  # gone if the page reloads

    def row(name):
        return page.locator(f"#tags tr[data-name='{name}']")

    # real images first: the linked cutout instead of the imported subject's stand-in
    srcs = row("bent tail").locator("td.thumbs img").evaluate_all("imgs => imgs.map(i => i.alt)")
    assert srcs == [f"cutout {cutouts[1].name}"]
    assert row("halo").locator("td.thumbs img").count() == 1  # only a stand-in exists: shown

    row("bent tail").locator("button[data-action=approve]").click()
    page.wait_for_function("() => !document.querySelector(\"#tags tr[data-name='bent tail']\")")
    assert "Approved “bent tail”" in page.locator("#curation-message").inner_text()

    # bulk: approve two, retire two
    for name in ("jet", "halo"):
        row(name).locator("input.pick-tag").check()
    page.click("#bulk-approve")
    page.wait_for_function("() => document.getElementById('curation-message').textContent === 'Approved 2 of 2 tags.'")
    for name in ("ring",):
        row(name).locator("input.pick-tag").check()
    page.click("#bulk-retire")
    page.wait_for_function("() => document.getElementById('curation-message').textContent === 'Retired 1 of 1 tags.'")

    # a merge asks first; keeping them apart changes nothing
    lobes = row("lobes")
    lobes.locator("summary", has_text="Merge").click()
    lobes.locator(".merge-into").fill("two lobes")
    lobes.locator("button[data-action=merge]").click()
    page.wait_for_selector("#merge-dialog[open]")
    page.screenshot(path=str(ARTIFACTS / f"taxonomy-merge-confirm-{size}.png"), full_page=False)
    page.click("#merge-dialog button[value=cancel]")
    assert Tag.objects.get(name="lobes").status == "candidate"
    lobes.locator("button[data-action=merge]").click()
    page.click("#merge-confirm")
    page.wait_for_function("() => document.getElementById('curation-message').textContent.includes('merged into')")
    page.wait_for_function("() => document.querySelector('#audit-table').textContent.includes('lobes')")
    page.screenshot(path=str(ARTIFACTS / f"taxonomy-curation-{size}.png"), full_page=True)

    assert page.evaluate("() => window.__samePage === true")  # every action without a reload
    status = dict(Tag.objects.values_list("name", "status"))
    assert status == {
        "bent tail": "approved", "jet": "approved", "halo": "approved", "ring": "retired",
        "lobes": "retired", "two lobes": "candidate",
    }  # fmt: skip
    assert Tag.objects.get(name="lobes").merged_into.name == "two lobes"
    assert CurationEvent.objects.count() == 5
    assert set(page.locator("#tags .tag-name").all_inner_texts()) == {"two lobes"}
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"the page is {width} px wide"
