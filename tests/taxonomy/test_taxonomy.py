"""The taxonomy app: derivation from stored descriptions, curation with audit and undo,
publishing and auto-tagging, suggestions, search by tag with exports, bad input."""

import io
import json

import pytest
from astropy.io import fits
from astropy.io.votable import parse_single_table
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.roles import Volunteer
from annotations.services import classification_create
from core.errors import Conflict, InvalidInput
from jobs.models import Job
from taxonomy import curation, services
from taxonomy.models import CurationEvent, Description, Tag, TagLink, TagSynonym
from tests.factories import astronomer, make_workflow_with_subjects, serve

pytestmark = pytest.mark.django_db

DESCRIPTIONS = {  # cutout index -> what four volunteers wrote
    0: ["two lobes, bent tail", "bent tails, two lobes", "bent tail, jet", "lobes, bent tail"],
    1: ["compact, point source", "compact", "compact, faint", "bent tail"],
    2: ["two lobes, jet", "lobe, jet, hotspots", "two lobes", "jets"],
}


@pytest.fixture
def described():
    workflow, cutouts = make_workflow_with_subjects(n=3, retirement=10)
    for i, texts in DESCRIPTIONS.items():
        for v, text in enumerate(texts):
            classification_create(
                workflow_id=workflow.pk,
                subject_id=cutouts[i].pk,
                volunteer=Volunteer(user_id=None, session_key=f"vol-{v}"),
                annotations=[{"task": "T0", "value": 1}, {"task": "T1", "value": text}],
            )
    return workflow, cutouts


@pytest.fixture
def astro_client():
    client = APIClient()
    client.force_authenticate(astronomer())
    return client


def tag(name) -> Tag:
    return Tag.objects.get(name=name)


def derive_and_publish(names=("bent tail", "compact", "jet", "lobes")):
    services.candidates_derive(threshold=0.8)
    for name in names:
        curation.tag_set_status(tag_id=tag(name).pk, status=Tag.Status.APPROVED)
    version = services.taxonomy_publish(note="first")
    services.descriptions_autotag(version=version)
    return version


def test_derivation_stores_candidates_with_support_and_examples(described):
    run = services.candidates_derive(threshold=0.8)
    assert run.descriptions == 12 and run.terms == Tag.objects.filter(support__gt=0).count()
    bent = tag("bent tail")
    assert bent.status == Tag.Status.CANDIDATE and bent.support == 5 and bent.sources == 2
    assert "bent tail" in bent.example_phrases and bent.example_cutouts[0] == described[1][0].pk
    assert Description.objects.count() == 12
    # Deriving again changes nothing: same tags, same support.
    before = dict(Tag.objects.values_list("name", "support"))
    services.candidates_derive(threshold=0.8)
    assert dict(Tag.objects.values_list("name", "support")) == before


def test_derive_job_through_api_shows_progress(described, astro_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = astro_client.post(reverse("api-taxonomy-derive"), {"threshold": 0.8}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Job.Status.SUCCEEDED and job.done == job.total == 100
    assert job.result["terms"] > 0 and job.result["descriptions"] == 12
    page_client = APIClient()
    page_client.force_login(astronomer())  # job pages are for astronomers, as the jobs API
    page = page_client.get(reverse("job", args=[job.pk]))
    assert page.status_code == 200 and b"derive_taxonomy" in page.content
    bad = astro_client.post(reverse("api-taxonomy-derive"), {"threshold": 3}, format="json")
    assert bad.status_code == 400 and "threshold" in bad.json()


def test_command_from_stored_descriptions_and_from_csv(described, tmp_path, shared_data):
    out = tmp_path / "terms.json"
    call_command("derive_taxonomy", "--inline", "--out", str(out), stdout=io.StringIO())
    terms = json.loads(out.read_text())
    assert terms[0]["term"] and {"term", "count", "example_phrases"} <= set(terms[0])
    assert any(t["term"] == "bent tail" and t["count"] == 5 for t in terms)
    stored = Tag.objects.count()
    csv_out = tmp_path / "csv-terms.json"
    call_command(
        "derive_taxonomy",
        annotations=str(shared_data / "text2tag" / "english_annotations.csv"),
        out=str(csv_out),
        stdout=io.StringIO(),
    )
    from_csv = json.loads(csv_out.read_text())
    assert len(from_csv) > 200 and from_csv[0]["count"] >= from_csv[-1]["count"]
    assert Tag.objects.count() == stored  # a CSV derivation stores nothing


def test_command_bad_input_names_file_and_row(tmp_path, db):
    bad = tmp_path / "bad.csv"
    bad.write_text("classification_id,user_id,annotations,subject_ids\n1,u,two lobes,\n")
    with pytest.raises(CommandError, match="bad.csv row 2"):
        call_command("derive_taxonomy", annotations=str(bad), stdout=io.StringIO())
    with pytest.raises(CommandError, match="is not a file"):
        call_command("derive_taxonomy", annotations=str(tmp_path / "missing.csv"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="threshold"):
        call_command("derive_taxonomy", annotations=str(bad), threshold=1.5, stdout=io.StringIO())


def test_curation_actions_are_audited_and_undone(described):
    services.candidates_derive(threshold=0.8)
    user = astronomer()
    lobe, jet = tag("lobes"), tag("jet")
    curation.tag_set_status(tag_id=lobe.pk, status=Tag.Status.APPROVED, revision=lobe.revision, user=user)
    curation.tag_rename(tag_id=lobe.pk, name="Radio  LOBE", user=user)
    assert tag("radio lobe").pk == lobe.pk and TagSynonym.objects.filter(tag=lobe, phrase="lobes").exists()
    support = tag("radio lobe").support + jet.support
    curation.tag_merge(tag_id=jet.pk, into_id=lobe.pk, user=user)
    assert tag("radio lobe").support == support and tag("jet").status == Tag.Status.RETIRED
    events = list(CurationEvent.objects.order_by("id"))
    assert [e.action for e in events] == ["approve", "rename", "merge"]
    assert all(e.user == user and e.created_at for e in events)
    # Undo in reverse order brings back every state.
    curation.event_undo(event_id=events[2].pk, user=user)
    assert tag("jet").status == Tag.Status.CANDIDATE and tag("radio lobe").support == support - jet.support
    curation.event_undo(event_id=events[1].pk, user=user)
    assert tag("lobes").pk == lobe.pk and not TagSynonym.objects.filter(phrase="lobes").exists()
    curation.event_undo(event_id=events[0].pk, user=user)
    assert tag("lobes").status == Tag.Status.CANDIDATE
    assert CurationEvent.objects.filter(action="undo").count() == 3


def test_undo_refused_when_a_later_change_touched_the_tag(described):
    services.candidates_derive(threshold=0.8)
    lobe = tag("lobes")
    curation.tag_set_status(tag_id=lobe.pk, status=Tag.Status.APPROVED)
    curation.tag_rename(tag_id=lobe.pk, name="radio lobes")
    first = CurationEvent.objects.get(action="approve")
    with pytest.raises(Conflict, match="changed after this"):
        curation.event_undo(event_id=first.pk)


def test_split_and_synonym(described):
    services.candidates_derive(threshold=0.5)
    bent = tag("bent tail")
    keys = [k for k in bent.derived_keys if k != "bent tail"] or ["bent tail"]
    new = curation.tag_split(tag_id=bent.pk, name="curved tail", keys=keys[:1])
    assert new.status == Tag.Status.CANDIDATE and new.derived_keys == sorted(keys[:1])
    assert keys[0] not in tag("bent tail").derived_keys
    curation.tag_merge(tag_id=tag("compact").pk, into_id=tag("bent tail").pk, as_synonym=True)
    assert TagSynonym.objects.get(phrase="compact").tag == tag("bent tail")
    undo = CurationEvent.objects.get(action="split")
    with pytest.raises(Conflict):  # the merge touched "bent tail" since
        curation.event_undo(event_id=undo.pk)


def test_two_astronomers_editing_one_tag_no_lost_update(described, astro_client):
    services.candidates_derive(threshold=0.8)
    lobe = tag("lobes")
    other = APIClient()
    other.force_authenticate(astronomer("astro2"))
    url = reverse("api-tag-rename", args=[lobe.pk])
    first = astro_client.post(url, {"name": "lobes a", "revision": lobe.revision}, format="json")
    second = other.post(url, {"name": "lobes b", "revision": lobe.revision}, format="json")
    assert first.status_code == 200 and second.status_code == 409
    assert "changed by someone else" in second.json()["detail"]
    assert tag("lobes a").revision == lobe.revision + 1


@pytest.mark.parametrize(
    "action, body, status, fragment",
    [
        ("api-tag-rename", {"name": ""}, 400, "cannot be empty"),
        ("api-tag-rename", {"name": "x" * 100}, 400, "at most 80"),
        ("api-tag-rename", {"name": "compact"}, 409, "already exists"),
        ("api-tag-merge", {"into": "SELF"}, 400, "into itself"),
        ("api-tag-merge", {"into": 999999}, 404, "does not exist"),
        ("api-tag-split", {"name": "new", "keys": ["not a key"]}, 400, "not wordings"),
        ("api-tag-synonyms", {"phrase": "compact"}, 409, "already a tag"),
    ],
)
def test_bad_curation_input_gets_a_clear_4xx(described, astro_client, action, body, status, fragment):
    services.candidates_derive(threshold=0.8)
    lobe = tag("lobes")
    body = {k: (lobe.pk if v == "SELF" else v) for k, v in body.items()}
    response = astro_client.post(reverse(action, args=[lobe.pk]), body, format="json")
    assert response.status_code == status, response.content
    assert fragment in response.json()["detail"]
    assert tag("lobes").revision == lobe.revision  # nothing changed


def test_duplicate_tag_names_are_refused_case_insensitively(described, astro_client):
    assert astro_client.post(reverse("api-tags"), {"name": "Jet"}, format="json").status_code == 201
    again = astro_client.post(reverse("api-tags"), {"name": " JET "}, format="json")
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    markup = astro_client.post(reverse("api-tags"), {"name": "<script>x</script>"}, format="json")
    assert markup.status_code == 201 and "<" not in markup.json()["name"]


def test_volunteers_cannot_curate(described):
    services.candidates_derive(threshold=0.8)
    anonymous = APIClient()
    assert anonymous.get(reverse("api-tags")).status_code in (401, 403)
    assert anonymous.post(reverse("api-tag-approve", args=[tag("lobes").pk])).status_code in (401, 403)
    assert anonymous.get(reverse("taxonomy-curation")).status_code == 302


def test_publish_autotags_descriptions_with_evidence(described):
    workflow, cutouts = described
    with pytest.raises(InvalidInput, match="approve at least one"):
        services.taxonomy_publish()
    version = derive_and_publish()
    assert version.number == 1 and {t["name"] for t in version.tags} == {"bent tail", "compact", "jet", "lobes"}
    bent = TagLink.objects.filter(tag=tag("bent tail"), origin="auto")
    assert bent.count() == 5 and {link.cutout_id for link in bent} == {cutouts[0].pk, cutouts[1].pk}
    assert all(link.evidence and link.volunteer_key.startswith("session:") and link.version == version for link in bent)
    # Retagging with the same version adds nothing.
    assert services.descriptions_autotag(version=version) == (0, 0)


def test_new_description_is_tagged_when_it_arrives(described, django_capture_on_commit_callbacks):
    workflow, cutouts = described
    derive_and_publish()
    client = APIClient()
    serve(client, workflow, cutouts[2].pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api-classifications"),
            {"workflow": workflow.pk, "subject": cutouts[2].pk,
             "annotations": [{"task": "T0", "value": 1}, {"task": "T1", "value": "Bent-tails!"},
                             {"task": "T2", "value": ["jet"]}]},
            format="json",
        )  # fmt: skip
    assert response.status_code == 201, response.content
    links = TagLink.objects.filter(classification_id=response.json()["id"])
    assert {(link.tag.name, link.origin) for link in links} == {("bent tail", "auto"), ("jet", "pick")}


def test_suggestions_offer_approved_tags_only(described):
    derive_and_publish(names=("bent tail", "jet"))
    curation.tag_add_synonym(tag_id=tag("bent tail").pk, phrase="curved tail")
    client = APIClient()
    names = lambda q: [s["name"] for s in client.get(reverse("api-tag-suggest"), {"q": q}).json()]  # noqa: E731
    assert names("be") == ["bent tail"] and names("cur") == ["bent tail"] and names("je") == ["jet"]
    assert names("comp") == []  # a candidate, not approved
    # any word of the phrase, as a prefix of any word of a tag name or synonym; the last word first
    assert names("a double with ben") == ["bent tail"]
    assert names("faint curv") == ["bent tail"] and names("long tai") == ["bent tail"]
    assert names("bent jet")[:2] == ["jet", "bent tail"]
    assert names("with the") == []  # only small words: nothing to match
    assert names("") == [] and names("🚀") == [] and names("<script>") == []


def test_search_by_tag_with_threshold_and_exports(described, astro_client):
    workflow, cutouts = described
    derive_and_publish()
    url = reverse("api-tag-search")
    rows = astro_client.get(url, {"require": "bent tail"}).json()
    assert [r["cutout_id"] for r in rows] == [cutouts[0].pk, cutouts[1].pk]
    assert rows[0]["fractions"]["bent tail"] == 1.0 and rows[1]["fractions"]["bent tail"] == 0.25
    assert [r["cutout_id"] for r in astro_client.get(url, {"require": "bent tail", "min_fraction": 0.5}).json()] == [
        cutouts[0].pk
    ]
    assert [r["cutout_id"] for r in astro_client.get(url, {"require": "bent tail", "exclude": "compact"}).json()] == [
        cutouts[0].pk
    ]
    assert astro_client.get(url, {"require": "lobes,jet"}).json()[0]["cutout_id"] == cutouts[2].pk
    csv_text = astro_client.get(url, {"require": "bent tail", "export": "csv"}).content.decode()
    assert (
        csv_text.splitlines()[0].startswith("cutout_id,name,survey,ra,dec,voters") and len(csv_text.splitlines()) == 3
    )
    vot = parse_single_table(io.BytesIO(astro_client.get(url, {"require": "bent tail", "export": "vot"}).content))
    table = vot.to_table()
    assert len(table) == 2 and str(table["ra"].unit) == "deg" and abs(table["ra"][0] - cutouts[0].ra_deg) < 1e-9
    with fits.open(io.BytesIO(astro_client.get(url, {"require": "bent tail", "export": "fits"}).content)) as hdul:
        assert len(hdul[1].data) == 2 and "DEC" in [c.upper() for c in hdul[1].columns.names]


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({}, "at least one required tag"),
        ({"require": "no such tag"}, "unknown require tag"),
        ({"require": "jet", "min_fraction": "lots"}, "min_fraction"),
        ({"require": "jet", "min_fraction": "2"}, "min_fraction"),
        ({"require": "jet", "exclude": "jet"}, "both required and excluded"),
        ({"require": "jet", "export": "xlsx"}, "export must be"),
    ],
)
def test_search_bad_input(described, astro_client, params, fragment):
    derive_and_publish()
    response = astro_client.get(reverse("api-tag-search"), params)
    assert response.status_code == 400 and fragment in response.json()["detail"]


def test_pages_render_for_astronomers(described, client):
    derive_and_publish()
    client.force_login(astronomer())
    page = client.get(reverse("taxonomy-curation"), {"status": "all"})
    assert page.status_code == 200 and b"bent tail" in page.content and b"Publish approved tags" in page.content
    found = client.get(reverse("taxonomy-search"), {"require": "bent tail"})
    assert found.status_code == 200 and b"export=vot" in found.content
    bad = client.get(reverse("taxonomy-search"), {"require": "nope"})
    assert bad.status_code == 400 and b"unknown require tag" in bad.content


def test_schema_lists_the_taxonomy_endpoints(client):
    paths = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    for path in ["/api/tags/", "/api/tags/{id}/merge/", "/api/tags/search/", "/api/tags/suggest/",
                 "/api/tags/events/{id}/undo/", "/api/taxonomy/derive/", "/api/taxonomy/versions/"]:  # fmt: skip
        assert path in paths, path


def test_enough_new_descriptions_start_a_derivation(described, settings, django_capture_on_commit_callbacks):
    workflow, cutouts = described
    settings.RGZ_TAXONOMY_REDERIVE_AFTER = 2
    services.candidates_derive(threshold=0.8)
    assert not services.rederive_due()
    for v in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            classification_create(
                workflow_id=workflow.pk,
                subject_id=cutouts[2].pk,
                volunteer=Volunteer(user_id=None, session_key=f"new-{v}"),
                annotations=[{"task": "T0", "value": 1}, {"task": "T1", "value": "ring, diffuse ring"}],
            )
    job = Job.objects.get(kind="derive_taxonomy")
    assert job.status == Job.Status.SUCCEEDED and job.result["descriptions"] == 14
    assert tag("ring").support == 2


def test_periodic_refresh_indexes_and_tags_imported_descriptions(described, tmp_path):
    from zooniverse.importer import import_classifications

    derive_and_publish()
    export = tmp_path / "english.csv"
    export.write_text(
        "classification_id,user_id,workflow_id,annotations,subject_ids\n"
        '9001,77,20494,"Bent tail, faint",555\n9002,78,20494,compact,555\n'
    )
    assert import_classifications(classifications=export).imported == 2
    from taxonomy.tasks import refresh_task

    result = refresh_task.delay().get()
    assert result["indexed"] == 2 and result["links"] == 2
    names = set(TagLink.objects.filter(classification__metadata__zooniverse__classification_id=9001).values_list(
        "tag__name", flat=True))  # fmt: skip
    assert names == {"bent tail"}


def test_a_description_that_commits_after_a_later_one_is_still_indexed(described, settings):
    """Ids are drawn at insert, not at commit: a newer classification can be indexed first."""
    workflow, cutouts = described
    services.descriptions_index()
    made = [
        classification_create(
            workflow_id=workflow.pk,
            subject_id=cutouts[2].pk,
            volunteer=Volunteer(user_id=None, session_key=f"late-{v}"),
            annotations=[{"task": "T0", "value": 1}, {"task": "T1", "value": text}],
        )[0]
        for v, text in enumerate(["ring, diffuse ring", "double lobes"])
    ]
    from taxonomy import dispatch

    dispatch.description_added(classification_id=made[1].pk)  # the later one's task ran first
    assert set(Description.objects.filter(classification__in=made).values_list("text", flat=True)) == {"double lobes"}
    assert dispatch.refresh()["indexed"] == 1  # the periodic pass finds the earlier one
    assert Description.objects.filter(classification__in=made).count() == 2
    assert dispatch.refresh()["indexed"] == 0  # and indexes nothing twice
    settings.RGZ_DESCRIPTION_LOOKBACK_IDS = 0
    Description.objects.filter(classification=made[0]).delete()
    assert dispatch.refresh()["indexed"] == 0  # beyond the look-back window it is not read again


def test_odd_descriptions_are_indexed_safely(described, client):
    workflow, cutouts = described
    odd = ["🚀🌌✨", "<script>alert('x')</script><b>bent</b> tail", "这是一个射电星系", "lobe " * 399, "   "]
    for v, text in enumerate(odd):
        classification_create(
            workflow_id=workflow.pk,
            subject_id=cutouts[2].pk,
            volunteer=Volunteer(user_id=None, session_key=f"odd-{v}"),
            annotations=[{"task": "T0", "value": 1}, {"task": "T1", "value": text}],
        )
    services.candidates_derive(threshold=0.8)
    assert Description.objects.count() == 12 + 4  # the blank one is no description
    assert not Tag.objects.filter(name__contains="<").exists() and not Tag.objects.filter(name__contains="script")
    script = Description.objects.get(text__startswith="<script>")
    assert [p["key"] for p in script.phrases] == ["bent tail"]
    client.force_login(astronomer())
    page = client.get(reverse("taxonomy-curation"), {"status": "all"})
    assert page.status_code == 200 and b"<script>alert" not in page.content
    too_long = APIClient().post(
        reverse("api-classifications"),
        {"workflow": workflow.pk, "subject": cutouts[1].pk,
         "annotations": [{"task": "T0", "value": 1}, {"task": "T1", "value": "x" * 5000}]},
        format="json",
    )  # fmt: skip
    assert too_long.status_code == 400 and "longer than" in too_long.json()["detail"]
