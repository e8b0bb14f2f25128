"""API throttles of volunteer submits (the role permissions are in core.permissions)."""

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from annotations.client_address import client_address
from annotations.roles import volunteer_from_request
from core.cache import CACHE_DOWN

logger = logging.getLogger(__name__)


class SettingsRateThrottle(SimpleRateThrottle):
    """Reads its rate from the current settings (DRF binds them once at import)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_ident(self, request):
        # X-Forwarded-For counts only from RGZ_TRUSTED_PROXIES (DRF's own get_ident believes it).
        return client_address(request)

    def allow_request(self, request, view):
        # Open when the cache is unreachable: an outage of the counters must not refuse (or fail)
        # the volunteers' submits, which need only the database.
        try:
            return super().allow_request(request, view)
        except CACHE_DOWN as exc:
            logger.warning("throttle %s not applied: the cache is unreachable (%s)", self.scope, exc)
            return True


class VolunteerSubmitThrottle(SettingsRateThrottle):
    """Per volunteer (user or anonymous session). Requests without the volunteer cookie are one
    volunteer per address: a client that drops its cookie would otherwise be new every time."""

    scope = "volunteer_submit"

    def get_cache_key(self, request, view):
        volunteer = volunteer_from_request(request)
        ident = f"address:{self.get_ident(request)}" if volunteer.new else volunteer.key
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousAddressSubmitThrottle(SettingsRateThrottle):
    """Per address, for anonymous submitters only: new sessions cost nothing, addresses do."""

    scope = "anon_address_submit"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
