"""Sign-in views with failed attempts limited (annotations.login_throttle)."""

from functools import wraps

from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings

from .login_throttle import login_refused_message, login_success_record, login_wait_seconds


def login_limited(view):
    """Wrap an HTML login view: a refused sign-in gets the form back with the reason, as a 429."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            wait = login_wait_seconds(request, request.POST.get("username", ""))
            if wait:
                context = {
                    "form": AuthenticationForm(request),
                    "login_refused": login_refused_message(wait),
                    "next": request.POST.get("next", ""),
                }
                response = render(request, "registration/login.html", context, status=429)
                response["Retry-After"] = str(wait)
                return response
        return view(request, *args, **kwargs)

    return wrapped


class LimitedObtainAuthToken(ObtainAuthToken):
    """``POST /api/auth/token/``: DRF's token view, refused with 429 past the failure budgets,
    reading bodies with the API's own bounded parsers (depth, size, NUL)."""

    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def post(self, request, *args, **kwargs):
        username = request.data.get("username", "") if hasattr(request.data, "get") else ""
        wait = login_wait_seconds(request, str(username))
        if wait:
            raise Throttled(wait=wait, detail=login_refused_message(wait))
        response = super().post(request, *args, **kwargs)  # a wrong password raises a 400 here
        login_success_record(request, str(username))
        return response
