"""Anonymous clients against the queue and the submit endpoint: forged addresses, cookie-less
volunteers, subjects never served, and leases held to starve the queue."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.models import Classification, QueueLease, SubjectWorkflowStatus
from annotations.queue import leases_expire
from tests.factories import make_workflow_with_subjects

pytestmark = pytest.mark.django_db

ANSWER = [{"task": "T0", "value": 3}]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def rates(settings, volunteer="1000/min", address="5000/min"):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"volunteer_submit": volunteer, "anon_address_submit": address},
    }


def post(client, workflow, subject_id, **extra):
    body = {"workflow": workflow.pk, "subject": subject_id, "annotations": ANSWER}
    return client.post(reverse("api-classifications"), body, format="json", **extra)


def next_subject(client, workflow, **extra):
    return client.get(reverse("api-queue-next"), {"workflow": workflow.pk}, **extra)


def browser(workflow, address="192.0.2.7"):
    """A volunteer the way a browser arrives: the classify page gives it the cookie, which it keeps."""
    client = APIClient(REMOTE_ADDR=address)
    assert client.get(reverse("classify-workflow", args=[workflow.pk])).status_code == 200
    assert "rgz_volunteer" in client.cookies
    return client


def test_forged_forwarded_for_does_not_escape_the_throttles(settings):
    rates(settings, volunteer="5/min", address="5000/min")
    workflow, cutouts = make_workflow_with_subjects(n=4, retirement=15)
    codes = [
        post(APIClient(), workflow, cutouts[n % 4].pk, HTTP_X_FORWARDED_FOR=f"10.9.{n}.{n}").status_code
        for n in range(30)
    ]
    # Cookie-less clients are one volunteer per address, and the address is REMOTE_ADDR.
    assert codes[:5] == [409] * 5 and codes[5:] == [429] * 25, codes
    assert Classification.objects.count() == 0
    assert not SubjectWorkflowStatus.objects.filter(retired_at__isnull=False).exists()


def test_forwarded_for_counts_only_through_a_trusted_proxy(settings):
    rates(settings, volunteer="1000/min", address="3/min")
    settings.RGZ_TRUSTED_PROXIES = ["10.0.0.0/8"]
    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=15)
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    # The proxy appends the address it saw; what the client wrote to the left is not believed.
    codes = [
        post(APIClient(), workflow, cutouts[0].pk, HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 198.51.100.1", **proxy).status_code
        for n in range(4)
    ]
    assert codes == [409, 409, 409, 429]
    other = post(APIClient(), workflow, cutouts[0].pk, HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy)
    assert other.status_code == 409  # another client behind the proxy has its own budget
    # A client that is not a trusted proxy cannot name an address.
    direct = [
        post(APIClient(), workflow, cutouts[0].pk, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}", REMOTE_ADDR="203.0.113.5")
        for n in range(10, 14)
    ]
    assert [r.status_code for r in direct] == [409, 409, 409, 429]


def test_cookieless_posts_cannot_retire_a_chosen_subject():
    workflow, cutouts = make_workflow_with_subjects(n=3, retirement=15)
    target = cutouts[1]
    responses = [post(APIClient(), workflow, target.pk) for _ in range(15)]
    assert {r.status_code for r in responses} == {409}
    assert all(r.json()["code"] == "not_served" and "not served to you" in r.json()["detail"] for r in responses)
    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject=target)
    assert (status.classification_count, status.retired_at) == (0, None)
    assert Classification.objects.count() == 0


def test_a_volunteer_may_answer_only_what_was_served_to_them():
    workflow, cutouts = make_workflow_with_subjects(n=3, retirement=15)
    alice = browser(workflow)
    served = next_subject(alice, workflow).json()["subject"]["id"]
    other = next(c.pk for c in cutouts if c.pk != served)
    refused = post(alice, workflow, other)
    assert refused.status_code == 409 and refused.json()["code"] == "not_served"
    assert post(alice, workflow, served).status_code == 201
    assert list(Classification.objects.values_list("subject_id", flat=True)) == [served]


def test_a_late_answer_to_a_subject_served_is_still_accepted(settings):
    workflow, _ = make_workflow_with_subjects(n=2, retirement=15)
    slow = browser(workflow)
    served = next_subject(slow, workflow).json()["subject"]["id"]
    # Sixteen minutes later the lease ran out and its slot went back to the queue...
    QueueLease.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert leases_expire() == 1
    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject_id=served)
    assert status.leased_count == 0
    # ...but the subject is open and was served to this volunteer: the answer counts.
    assert post(slow, workflow, served).status_code == 201
    status.refresh_from_db()
    assert (status.classification_count, status.leased_count) == (1, 0)
    assert not QueueLease.objects.exists()
    # Past the grace period the record is gone and a late answer is refused.
    second = next_subject(slow, workflow).json()["subject"]["id"]
    grace = settings.RGZ_QUEUE_SERVED_GRACE_SECONDS
    QueueLease.objects.update(expires_at=timezone.now() - timedelta(seconds=grace + 1))
    leases_expire()
    assert post(slow, workflow, second).status_code == 409
    assert SubjectWorkflowStatus.objects.get(workflow=workflow, subject_id=second).leased_count == 0


def test_a_cookieless_first_lease_is_short_until_the_volunteer_comes_back(settings):
    workflow, _ = make_workflow_with_subjects(n=2, retirement=15)
    client = APIClient()
    first = next_subject(client, workflow).json()["subject"]["id"]
    lease = QueueLease.objects.get()
    short = (lease.expires_at - timezone.now()).total_seconds()
    assert 0 < short <= settings.RGZ_QUEUE_FIRST_LEASE_SECONDS
    # Back with the cookie: the same subject, now on a full lease.
    assert next_subject(client, workflow).json()["subject"]["id"] == first
    lease.refresh_from_db()
    assert (lease.expires_at - timezone.now()).total_seconds() > settings.RGZ_QUEUE_FIRST_LEASE_SECONDS
    # A browser has the cookie from the page before it asks: a full lease at once.
    browser(workflow).get(reverse("api-queue-next"), {"workflow": workflow.pk})
    assert QueueLease.objects.filter(expires_at__gt=timezone.now() + timedelta(minutes=10)).count() == 2


def test_cookieless_clients_cannot_starve_a_small_workflow(settings):
    settings.RGZ_QUEUE_MAX_LEASES_PER_ADDRESS = 10
    workflow, _ = make_workflow_with_subjects(n=4, retirement=5)  # 20 slots
    replies = [next_subject(APIClient(), workflow, HTTP_X_FORWARDED_FOR=f"10.1.1.{n}") for n in range(25)]
    served = [r for r in replies if r.status_code == 200 and r.json()["subject"]]
    refused = [r for r in replies if r.status_code == 429]
    assert (len(served), len(refused)) == (10, 15)
    assert all(int(r["Retry-After"]) > 0 and "your address" in r.json()["detail"] for r in refused)
    # A real volunteer elsewhere is served.
    real = next_subject(browser(workflow), workflow)
    assert real.status_code == 200 and real.json()["subject"] is not None
    # One at the attacker's address is told to come back, not that the queue is empty.
    neighbour = next_subject(browser(workflow, address="127.0.0.1"), workflow)
    assert neighbour.status_code == 429 and neighbour.json()["retry_after"] > 0
    assert "No subjects left" not in neighbour.json()["detail"]


def test_a_queue_held_by_leases_says_retry_not_empty():
    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=1)
    holder = browser(workflow, address="192.0.2.1")
    assert next_subject(holder, workflow).json()["subject"]["id"] == cutouts[0].pk
    waiting = browser(workflow, address="192.0.2.2")
    reply = next_subject(waiting, workflow)
    body = reply.json()
    assert reply.status_code == 200 and body["subject"] is None
    assert 0 < body["retry_after"] <= 60 and reply["Retry-After"] == str(body["retry_after"])
    assert "being classified by other volunteers" in body["detail"]
    # The holder walks away: after the lease runs out the waiting volunteer is served.
    QueueLease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    leases_expire()
    assert next_subject(waiting, workflow).json()["subject"]["id"] == cutouts[0].pk
    assert post(waiting, workflow, cutouts[0].pk).status_code == 201
    # Retired: now the queue really is empty, and says so.
    done = next_subject(holder, workflow).json()
    assert done["subject"] is None and "retry_after" not in done and "No subjects left" in done["detail"]
