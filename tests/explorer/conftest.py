import pytest

from annotations.models import Cutout
from annotations.roles import Volunteer
from annotations.services import classification_create
from classifiers.models import ClassifierTask
from taxonomy.models import Tag, TagLink
from tests.factories import make_workflow_with_subjects


def _scores(prediction: str, fri: float, entropy: float) -> dict:
    return {
        "fr-morphology": {
            "probabilities": {"FRI": fri, "FRII": round(1 - fri, 5)},
            "prediction": prediction,
            "entropy": entropy,
            "margin": abs(2 * fri - 1),
            "bald": 0.01,
            "version": 1,
        }
    }


@pytest.fixture
def browsable():
    """Four cutouts with different labels, complexities, scores, tags, votes; one synthetic."""
    workflow, cutouts = make_workflow_with_subjects(n=4, retirement=10, name="Browse morphology")
    rows = [
        ("FRI", 10.0, _scores("FRI", 0.9, 0.33), False),
        ("FRII", 40.0, _scores("FRII", 0.45, 0.69), False),
        ("FRII", 70.0, _scores("FRII", 0.2, 0.5), False),
        ("Bent", 95.0, {}, True),
    ]
    for cutout, (label, percentile, scores, synthetic) in zip(cutouts, rows, strict=True):
        Cutout.objects.filter(pk=cutout.pk).update(
            metadata={"label": label}, complexity_percentile=percentile, model_scores=scores, synthetic=synthetic
        )
    ClassifierTask.objects.create(
        name="fr-morphology", survey=cutouts[0].survey, workflow=workflow, classes=["FRI", "FRII"]
    )
    bent = Tag.objects.create(name="bent", status=Tag.Status.APPROVED)
    jet = Tag.objects.create(name="jet", status=Tag.Status.APPROVED)
    TagLink.objects.create(tag=bent, cutout=cutouts[3], origin="astronomer", evidence="a bent tail")
    TagLink.objects.create(tag=jet, cutout=cutouts[3], origin="auto")
    TagLink.objects.create(tag=jet, cutout=cutouts[1], origin="auto")
    # Volunteers: cutout 1 is FRII by 2 votes to 1, cutout 0 FRI by one vote
    for who, subject, answer, text in [
        ("a", cutouts[1], 2, "two lobes, far apart"),
        ("b", cutouts[1], 2, ""),
        ("c", cutouts[1], 1, ""),
        ("a", cutouts[0], 1, "bright core"),
    ]:
        classification_create(
            workflow_id=workflow.pk,
            subject_id=subject.pk,
            volunteer=Volunteer(user_id=None, session_key=who),
            annotations=[{"task": "T0", "value": answer}, {"task": "T1", "value": text}],
            require_served=False,
        )
    return workflow, [Cutout.objects.get(pk=c.pk) for c in cutouts]
