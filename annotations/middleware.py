"""Anonymous volunteers carry a signed random id in a cookie, not a database session.

A session would cost a database read on every request; the signed cookie costs none and still
lets the queue recognise who classified what.
"""

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse

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


class RejectNulInQueryMiddleware:
    """A NUL character in a query parameter is refused up front (400), for every page and API call.

    PostgreSQL cannot store or compare text with NUL in it, so any filter that reaches the
    database with one would fail with a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                message = f"the query parameter {name!r} contains a NUL character"
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": message, "code": "invalid", "field": name}, status=400)
                return HttpResponseBadRequest(message, content_type="text/plain")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Sends SECURE_CSP (directive -> sources) on every response, in every environment.

    The pages load scripts and styles from /static/ only (no inline script, style or handler),
    so an injected script cannot run. Django 6 has this built in under the same setting name.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        policy = getattr(settings, "SECURE_CSP", {})
        self.value = "; ".join(" ".join([name, *sources]) for name, sources in policy.items())
        self.header = (
            "Content-Security-Policy-Report-Only"
            if getattr(settings, "SECURE_CSP_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.value and self.header not in response:
            response[self.header] = self.value
        return response
