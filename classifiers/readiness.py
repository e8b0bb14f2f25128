"""What an admin should know before training or promoting: how long an epoch takes on the workers
there are (measured on the last training), and whether a version is degenerate."""

from __future__ import annotations

from dataclasses import dataclass

from .models import ModelVersion

# A version whose macro-F1 is this far below its accuracy mostly predicts the common classes.
F1_GAP = 0.15
PRESETS = (("Quick check", 5), ("Short", 50), ("Standard", 200), ("Full (published setting)", None))


@dataclass(frozen=True)
class TrainingPace:
    seconds_per_epoch: float
    measured_on: str  # which version the figure comes from


def version_warnings(version: ModelVersion) -> list[str]:
    """Reasons not to promote a version: a class it never finds, a macro-F1 far below accuracy."""
    metrics = version.metrics or {}
    reasons = []
    classes, recall = metrics.get("classes") or [], metrics.get("recall") or []
    for name, value in zip(classes, recall, strict=False):
        if value == 0:
            reasons.append(f"{name} recall is 0: it never predicts {name} correctly")
    accuracy, macro_f1 = metrics.get("accuracy"), metrics.get("macro_f1")
    if accuracy is not None and macro_f1 is not None and accuracy - macro_f1 > F1_GAP:
        reasons.append(f"macro-F1 {macro_f1:.2f} is far below accuracy {accuracy:.2f}: it favours the common classes")
    return reasons


def training_pace() -> TrainingPace | None:
    """Seconds per epoch of the newest finished training (reading images included), or None."""
    finished = (
        ModelVersion.objects.exclude(status__in=[ModelVersion.Status.TRAINING, ModelVersion.Status.FAILED])
        .filter(job__started_at__isnull=False, job__finished_at__isnull=False)
        .select_related("job", "task")
        .order_by("-trained_at", "-pk")
    )
    for version in finished[:10]:
        epochs = len(version.history or [])
        if epochs:
            seconds = (version.job.finished_at - version.job.started_at).total_seconds()
            return TrainingPace(
                seconds_per_epoch=seconds / epochs, measured_on=f"{version.task.name} v{version.number}"
            )
    return None


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"about {seconds / 3600:.1f} h"
    return f"about {seconds / 86400:.1f} days"


def training_presets(*, default_epochs: int, pace: TrainingPace | None) -> list[dict]:
    rows = []
    for label, epochs in PRESETS:
        epochs = epochs or default_epochs
        estimate = duration_text(epochs * pace.seconds_per_epoch) if pace else "time unknown until a first training"
        rows.append({"label": label, "epochs": epochs, "estimate": estimate})
    return rows
