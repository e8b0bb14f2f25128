"""API throttles of volunteer submits (the role permissions are in core.permissions)."""

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from annotations.client_address import client_address
from annotations.roles import volunteer_from_request
from core.cache import CACHE_DOWN, window_counts

logger = logging.getLogger(__name__)


class SubmitThrottle(BaseThrottle):
    """Per volunteer (user or anonymous session) and, for anonymous submitters, per address: new
    sessions cost nothing, addresses do. Requests without the volunteer cookie are one volunteer
    per address: a client that drops its cookie would otherwise be new every time.

    Both counters are one Redis round trip (``core.cache.window_counts``); a refused request counts
    too, so a client that keeps hammering stays refused until its window ends. The rates are read
    from the current settings (DRF binds them once at import)."""

    parse_rate = SimpleRateThrottle.parse_rate  # '60/min' -> (60, 60): DRF's own rate format

    def allow_request(self, request, view):
        rates = api_settings.DEFAULT_THROTTLE_RATES
        address = client_address(request)  # X-Forwarded-For only from RGZ_TRUSTED_PROXIES
        volunteer = volunteer_from_request(request)
        ident = f"address:{address}" if volunteer.new else volunteer.key
        limits = [(f"throttle_volunteer_submit_{ident}", *self.parse_rate(rates["volunteer_submit"]))]
        if not (request.user and request.user.is_authenticated):
            limits.append((f"throttle_anon_address_submit_{address}", *self.parse_rate(rates["anon_address_submit"])))
        try:
            counts = window_counts([(key, seconds) for key, _, seconds in limits])
        except CACHE_DOWN as exc:
            # Open when the cache is unreachable: an outage of the counters must not refuse (or
            # fail) the volunteers' submits, which need only the database.
            logger.warning("submit throttles not applied: the cache is unreachable (%s)", exc)
            return True
        over = [left for (_, allowed, _), (hits, left) in zip(limits, counts, strict=True) if hits > allowed]
        self._wait = max(over, default=None)
        return not over

    def wait(self):
        return self._wait
