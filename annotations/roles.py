"""Who is classifying: a signed-in volunteer or an anonymous browser with a signed cookie id."""

import uuid
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser


@dataclass(frozen=True)
class Volunteer:
    """Who is classifying: a signed-in user, or an anonymous browser (its signed cookie id)."""

    user_id: int | None
    session_key: str
    # An anonymous volunteer whose id was made for this request (it came without the cookie).
    new: bool = field(default=False, compare=False)

    @property
    def key(self) -> str:
        return f"user:{self.user_id}" if self.user_id else f"session:{self.session_key}"


VOLUNTEER_COOKIE = "rgz_volunteer"
VOLUNTEER_SALT = "rgzplatform.volunteer"


def volunteer_from_request(request) -> Volunteer:
    """Signed-in users by id; anonymous volunteers by the signed id in their cookie (made on first use)."""
    user = getattr(request, "user", AnonymousUser())
    if user.is_authenticated:
        return Volunteer(user_id=user.pk, session_key="")
    http_request = getattr(request, "_request", request)  # under DRF's Request, Django's own
    new_id = getattr(http_request, "_rgz_new_volunteer", None)
    if new_id:
        return Volunteer(user_id=None, session_key=new_id, new=True)
    anonymous_id = http_request.get_signed_cookie(VOLUNTEER_COOKIE, default=None, salt=VOLUNTEER_SALT)
    if anonymous_id:
        return Volunteer(user_id=None, session_key=anonymous_id)
    new_id = uuid.uuid4().hex
    http_request._rgz_new_volunteer = new_id  # VolunteerCookieMiddleware sends it back
    return Volunteer(user_id=None, session_key=new_id, new=True)
