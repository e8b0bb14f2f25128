"""Realism of a generator version as volunteers judge it, per class, against a blinded control.

Two measures, each with counts and a 95 % Wilson interval:

- **judged real**: of the answers to the optional question "does this look like a real
  observation?", the share "looks real". The question is asked on every generated subject and on
  about as many real ones mixed in (``annotations.synthetic``), so volunteers cannot tell from the
  question which is which; the real subjects' share is the control (a perfect generator reaches it).
- **class agreement**: the share of volunteers' answers to the workflow's first question on the
  version's generated subjects that name the class the generator was asked for, beside the same
  share on real subjects of the survey labelled with that class (expert or literature labels).

Real subjects are those of the workflows where the version's samples were answered, so both sides
were asked the same question by the same page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from annotations.models import Classification, Cutout, WorkflowVersion

from .models import GeneratedSample, GeneratorVersion

Z_95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a binomial share; None without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def share_with_interval(successes: int, trials: int) -> dict:
    interval = wilson_interval(successes, trials)
    return {
        "n": trials,
        "k": successes,
        "share": successes / trials if trials else None,
        "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
    }


@dataclass
class Tally:
    judged: int = 0  # answers to the realism question
    judged_real: int = 0
    answers: int = 0  # answers to the first question
    matching: int = 0  # ... that name the class

    def as_dict(self) -> dict:
        return {
            "judged_real": share_with_interval(self.judged_real, self.judged),
            "class_agreement": share_with_interval(self.matching, self.answers),
        }


def _first_question(tasks: dict) -> tuple[str, dict] | None:
    for key, task in tasks.items():
        if task.get("type") == "single":
            return key, task
    return None


def _answer_names(task: dict, strings: dict, index) -> set[str]:
    """The value and label text of a chosen answer, lower case (what a class name may match)."""
    answers = task.get("answers", [])
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(answers):
        return {str(index).casefold()} if isinstance(index, str) else set()
    answer = answers[index]
    names = {strings.get(answer.get("label"), answer.get("label") or "")}
    if answer.get("value") is not None:
        names.add(str(answer["value"]))
    return {n.casefold() for n in names if n}


def _questions(version_ids: set[int]) -> dict[int, tuple[str, dict, dict] | None]:
    out = {}
    for row in WorkflowVersion.objects.filter(pk__in=version_ids):
        found = _first_question(row.tasks)
        out[row.pk] = (found[0], found[1], row.strings) if found else None
    return out


def _count(rows, class_of: dict[int, str], tallies: dict[str, Tally], questions: dict) -> None:
    for subject_id, version_id, realism, answers in rows:
        tally = tallies[class_of[subject_id]]
        if realism:
            tally.judged += 1
            tally.judged_real += realism == "real"
        question = questions.get(version_id)
        if question is None:
            continue
        key, task, strings = question
        item = next((a for a in answers or [] if a.get("task") == key), None)
        if item is None:
            continue
        tally.answers += 1
        tally.matching += class_of[subject_id].casefold() in _answer_names(task, strings, item.get("value"))


def version_realism(*, version: GeneratorVersion) -> dict:
    """Per class asked for (and overall): judged real and class agreement on the version's generated
    subjects that volunteers answered, beside the same on real labelled subjects of the same
    workflows. Only approved samples are served; answers given before a sample was rejected still
    count, since leaving them out would keep only the samples that fared well."""
    classes = list(version.classes) or sorted(
        set(GeneratedSample.objects.filter(version=version).values_list("requested_class", flat=True))
    )
    asked = dict(GeneratedSample.objects.filter(version=version).values_list("cutout_id", "requested_class"))
    volunteer_answers = Classification.objects.filter(expert=False).values_list(
        "subject_id", "workflow_version_id", "realism", "annotations"
    )
    synthetic_rows = list(volunteer_answers.filter(subject_id__in=list(asked)))
    workflows = sorted(
        set(Classification.objects.filter(subject_id__in=list(asked)).values_list("workflow_id", flat=True))
    )
    labels = {
        pk: str(meta["label"])
        for pk, meta in Cutout.objects.filter(
            survey=version.survey, synthetic=False, metadata__has_key="label"
        ).values_list("pk", "metadata")
        if str(meta["label"]) in classes
    }
    real_rows = (
        volunteer_answers.filter(
            workflow_id__in=workflows, subject__survey=version.survey, subject__synthetic=False
        ).iterator(chunk_size=2000)
        if workflows
        else iter(())
    )
    real_rows = [row for row in real_rows if row[0] in labels]
    questions = _questions({row[1] for row in synthetic_rows} | {row[1] for row in real_rows})
    generated = {c: Tally() for c in classes}
    real = {c: Tally() for c in classes}
    _count([r for r in synthetic_rows if asked[r[0]] in generated], asked, generated, questions)
    _count(real_rows, labels, real, questions)
    overall_generated, overall_real = Tally(), Tally()
    for tallies, total in ((generated, overall_generated), (real, overall_real)):
        for tally in tallies.values():
            total.judged += tally.judged
            total.judged_real += tally.judged_real
            total.answers += tally.answers
            total.matching += tally.matching
    return {
        "version": version.pk,
        "number": version.number,
        "survey": version.survey.name,
        "workflows": workflows,
        "classes": [{"class": c, "generated": generated[c].as_dict(), "real": real[c].as_dict()} for c in classes],
        "overall": {"generated": overall_generated.as_dict(), "real": overall_real.as_dict()},
    }
