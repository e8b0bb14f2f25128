"""Two astronomers promoting different versions of one survey at the same moment: one after the
other, never two active versions and never a server error. Meant for PostgreSQL (row locks on the
survey); on SQLite the same steps are serialised by the write lock."""

import threading

import pytest
from django.db import connection

from annotations.models import Survey
from generative import services
from generative.models import GeneratorVersion

ROUNDS = 5


def ready_version(survey, number):
    return GeneratorVersion.objects.create(
        survey=survey, number=number, status="ready", metrics={"fd": 1.0}, weights=f"generative/weights/v{number}.pt"
    )


@pytest.mark.django_db(transaction=True)
def test_promotions_at_the_same_moment_leave_one_active_version_and_no_error():
    survey = Survey.objects.create(name="race-generators")
    versions = [ready_version(survey, n) for n in range(1, 5)]
    errors: list[BaseException] = []

    def promote(version, start):
        try:
            start.wait()
            services.version_promote(version=version)
        except BaseException as error:  # noqa: BLE001 - any failure is what the test looks for
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    for round_ in range(ROUNDS):
        start = threading.Event()
        pair = versions[(2 * round_) % 4 : (2 * round_) % 4 + 2]
        threads = [threading.Thread(target=promote, args=(v, start)) for v in pair]
        for thread in threads:
            thread.start()
        start.set()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        active = list(GeneratorVersion.objects.filter(survey=survey, status="active").values_list("pk", flat=True))
        assert len(active) == 1 and active[0] in {v.pk for v in pair}
