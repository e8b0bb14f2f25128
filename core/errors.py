"""The one domain error type; the API's exception handler turns it into a clear 4xx."""


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid"


class Forbidden(DomainError):
    """The account may not do this to this row (another person's job, say)."""

    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class TooLarge(DomainError):
    status_code = 413
    code = "too_large"


class NotServed(Conflict):
    """A volunteer answered a subject the queue never served to them."""

    code = "not_served"


class JobCancelled(Conflict):
    """Raised inside a running job whose cancellation was asked for: it stops at its next progress report."""

    code = "cancelled"


class TooManyRequests(DomainError):
    """Refused for now; ``retry_after`` seconds says when to ask again (the Retry-After header)."""

    status_code = 429
    code = "throttled"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after
