"""Password guessing against the login page, the admin's and the API token endpoint."""

import re

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from annotations import login_throttle
from tests.factories import astronomer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _budgets(settings):
    settings.RGZ_LOGIN_FAILURES_PER_ACCOUNT = 5
    settings.RGZ_LOGIN_FAILURES_PER_ADDRESS = 50
    settings.RGZ_LOGIN_COOLOFF_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


def later(monkeypatch, seconds):
    """Move the sign-in limiter's clock forward instead of sleeping through a cool-off."""
    now = login_throttle._clock()
    monkeypatch.setattr(login_throttle, "_clock", lambda: now + seconds)


def token(username, password, address="127.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(reverse("api-token"), {"username": username, "password": password})


def page_login(username, password, address="127.0.0.1", url=None):
    return APIClient(REMOTE_ADDR=address).post(
        url or reverse("login"), {"username": username, "password": password}, format="multipart"
    )


def test_token_guessing_is_refused_and_the_owner_gets_back_in_after_the_cooloff(monkeypatch):
    astronomer("victim")
    codes = [token("victim", f"guess-{n}").status_code for n in range(30)]
    assert codes == [400] * 5 + [429] * 25
    refused = token("victim", "pw-for-tests")  # even the right password waits out the cool-off
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.json()["detail"]
    assert 0 < int(refused["Retry-After"]) <= 600
    # The attacker cannot lock the owner out from elsewhere...
    assert token("victim", "pw-for-tests", address="192.0.2.44").status_code == 200
    # ...and at the guessing address the lock ends with the cool-off.
    later(monkeypatch, 600)
    assert token("victim", "pw-for-tests").status_code == 200


def test_one_address_guessing_many_accounts_runs_out_of_its_budget(settings):
    settings.RGZ_LOGIN_FAILURES_PER_ADDRESS = 8
    for name in ("a1", "a2", "a3"):
        astronomer(name)
    codes = [token(name, "wrong").status_code for name in ("a1", "a2", "a3") for _ in range(3)]
    assert codes == [400] * 8 + [429]
    assert token("a3", "pw-for-tests").status_code == 429
    assert token("a3", "pw-for-tests", address="192.0.2.45").status_code == 200


def test_a_successful_sign_in_clears_the_account_count():
    astronomer("typo")
    for _ in range(4):
        assert token("typo", "wrong").status_code == 400
    assert token("typo", "pw-for-tests").status_code == 200
    assert [token("typo", "wrong").status_code for _ in range(4)] == [400] * 4


def test_login_page_guessing_shows_the_refusal_and_the_owner_gets_back_in(monkeypatch):
    astronomer("webuser")
    codes = [page_login("webuser", f"guess-{n}").status_code for n in range(100)]
    assert codes == [200] * 5 + [429] * 95  # 200: the form again, with "did not match"
    refused = page_login("webuser", "pw-for-tests")
    assert refused.status_code == 429 and refused["Retry-After"]
    assert re.search(rb"Too many failed sign-ins. Please try again in \d+ minutes?\.", refused.content)
    assert b'name="username"' in refused.content  # the form is still there
    assert page_login("webuser", "pw-for-tests", address="192.0.2.46").status_code == 302
    later(monkeypatch, 600)
    assert page_login("webuser", "pw-for-tests").status_code == 302


def test_admin_login_page_is_limited_too():
    user = astronomer("boss")
    user.is_staff = True
    user.save()
    codes = [page_login("boss", "wrong", url="/admin/login/").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


def test_sign_in_works_while_the_cache_is_down():
    """The counters live in the cache; an outage must not turn sign-ins into 500s or lock anyone out."""
    astronomer("astro")
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=unreachable):
        assert token("astro", "wrong").status_code == 400
        assert token("astro", "pw-for-tests").status_code == 200
        assert page_login("astro", "wrong").status_code == 200  # the form again, with its error


def test_sign_ups_from_one_address_are_bounded_per_window(client, settings):
    settings.RGZ_SIGNUPS_PER_ADDRESS = 2
    settings.RGZ_SIGNUP_WINDOW_SECONDS = 3600

    def sign_up(name):
        client.logout()
        return client.post(
            "/accounts/signup/", {"username": name, "password1": "Kp9!radio-x", "password2": "Kp9!radio-x"}
        )

    assert [sign_up(f"vol{i}").status_code for i in range(2)] == [302, 302]
    refused = sign_up("vol2")
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "Too many new accounts" in refused.content.decode()
    assert not User.objects.filter(username="vol2").exists()
    assert User.objects.filter(username__startswith="vol").count() == 2
