"""Failed sign-ins, counted in the cache for the login page, the admin's and the API token.

Two budgets per cool-off window (RGZ_LOGIN_COOLOFF_SECONDS): failures for one account from one
address (RGZ_LOGIN_FAILURES_PER_ACCOUNT), and failures from one address for any account
(RGZ_LOGIN_FAILURES_PER_ADDRESS, larger). Past either, sign-ins are refused until the window
ends. Counting by account and address together means an attacker elsewhere cannot lock a real
user out, and the window bounds how long anyone is refused. Windows are fixed (the bucket is
in the key), so the counters need nothing but ``add`` and ``incr``, atomic in Redis.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver

from core.cache import CACHE_DOWN

from .client_address import client_address

logger = logging.getLogger(__name__)
_clock = time.time  # tests move it forward rather than wait out a cool-off


def _window() -> tuple[int, int]:
    """The current window's number and the seconds left in it."""
    length = settings.RGZ_LOGIN_COOLOFF_SECONDS
    now = _clock()
    window = int(now // length)
    return window, max(1, math.ceil((window + 1) * length - now))


def _keys(request, username: str, window: int) -> tuple[str, str]:
    address = client_address(request)
    account = hashlib.sha256(f"{address}\0{(username or '').strip().lower()}".encode()).hexdigest()
    return f"rgz-login:account:{window}:{account}", f"rgz-login:address:{window}:{address}"


def login_wait_seconds(request, username: str) -> int:
    """0 when this sign-in may be tried, else the seconds until it may (0 while the cache is down:
    an outage of the counters must not lock everyone out)."""
    window, remaining = _window()
    account_key, address_key = _keys(request, username, window)
    try:
        counts = cache.get_many([account_key, address_key])
    except CACHE_DOWN as exc:
        logger.warning("sign-in limits not applied: the cache is unreachable (%s)", exc)
        return 0
    if counts.get(account_key, 0) >= settings.RGZ_LOGIN_FAILURES_PER_ACCOUNT:
        return remaining
    if counts.get(address_key, 0) >= settings.RGZ_LOGIN_FAILURES_PER_ADDRESS:
        return remaining
    return 0


def login_refused_message(wait: int) -> str:
    minutes = math.ceil(wait / 60)
    return f"Too many failed sign-ins. Please try again in {minutes} minute{'s' if minutes != 1 else ''}."


def login_failure_record(request, username: str) -> None:
    window, _ = _window()
    try:
        for key in _keys(request, username, window):
            cache.add(key, 0, timeout=2 * settings.RGZ_LOGIN_COOLOFF_SECONDS)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=2 * settings.RGZ_LOGIN_COOLOFF_SECONDS)
    except CACHE_DOWN as exc:
        logger.warning("failed sign-in not counted: the cache is unreachable (%s)", exc)


def login_success_record(request, username: str) -> None:
    """A real user who mistyped a few times starts afresh once they are in."""
    window, _ = _window()
    try:
        cache.delete(_keys(request, username, window)[0])
    except CACHE_DOWN as exc:
        logger.warning("sign-in counter not cleared: the cache is unreachable (%s)", exc)


@receiver(user_login_failed, dispatch_uid="rgz-login-failed")
def _count_failure(sender, credentials, request=None, **kwargs):
    if request is not None:  # authenticate() called outside a request (shell, tests) counts nothing
        login_failure_record(request, credentials.get("username", ""))


@receiver(user_logged_in, dispatch_uid="rgz-logged-in")
def _reset_on_success(sender, request, user, **kwargs):
    if request is not None:
        login_success_record(request, user.get_username())


def _signup_key(request) -> tuple[str, int]:
    length = settings.RGZ_SIGNUP_WINDOW_SECONDS
    now = _clock()
    window = int(now // length)
    return f"rgz-signup:{window}:{client_address(request)}", max(1, math.ceil((window + 1) * length - now))


def signup_wait_seconds(request) -> int:
    """0 when one more account may be made from this address in this window, else the seconds
    until it may (0 while the cache is down, as for sign-ins)."""
    key, remaining = _signup_key(request)
    try:
        made = cache.get(key, 0)
    except CACHE_DOWN as exc:
        logger.warning("sign-up limit not applied: the cache is unreachable (%s)", exc)
        return 0
    return remaining if made >= settings.RGZ_SIGNUPS_PER_ADDRESS else 0


def signup_record(request) -> None:
    key, _ = _signup_key(request)
    try:
        cache.add(key, 0, timeout=2 * settings.RGZ_SIGNUP_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=2 * settings.RGZ_SIGNUP_WINDOW_SECONDS)
    except CACHE_DOWN as exc:
        logger.warning("sign-up not counted: the cache is unreachable (%s)", exc)
