"""Anonymous volunteers carry a signed random id in a cookie, not a database session.

A session would cost a database read on every request; the signed cookie costs none and still
lets the queue recognise who classified what.
"""

from django.conf import settings

from .roles import VOLUNTEER_COOKIE, VOLUNTEER_SALT


class VolunteerCookieMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        new_id = getattr(request, "_rgz_new_volunteer", None)
        if new_id:
            response.set_signed_cookie(
                VOLUNTEER_COOKIE,
                new_id,
                salt=VOLUNTEER_SALT,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
