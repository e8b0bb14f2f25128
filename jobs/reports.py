"""What a job reports back: counts, errors and notes, for the job row and the CLI."""

from dataclasses import dataclass, field


@dataclass
class JobReport:
    created: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cutout_ids: list[int] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # a job's own figures (subjects pushed, terms derived...)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "skipped": self.skipped,
            "failed": self.failed,
            "errors": self.errors[:200],
            "notes": self.notes[:200],
            "cutout_ids": self.cutout_ids[:1000],
            **self.extra,
        }
