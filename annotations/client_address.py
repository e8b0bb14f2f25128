"""The address a request came from, trusting forwarding headers only from configured proxies.

``X-Forwarded-For`` is whatever the client wrote, plus one address per proxy on the way. Only the
entries added by our own proxies (``RGZ_TRUSTED_PROXIES``) can be believed, so the header is read
from the right and the first address that is not one of our proxies is the client. Without
trusted proxies (the default) the header is ignored and ``REMOTE_ADDR`` is the client.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"RGZ_TRUSTED_PROXIES: {entry!r} is not an address or network")
    return tuple(networks)


def _parse(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_address(request) -> str:
    """The client's address (a DRF request or Django's own)."""
    http_request = getattr(request, "_request", request)
    remote = http_request.META.get("REMOTE_ADDR", "") or ""
    trusted = _networks(tuple(settings.RGZ_TRUSTED_PROXIES))

    def is_trusted(address) -> bool:
        return address is not None and any(address in network for network in trusted)

    if not trusted or not is_trusted(_parse(remote)):
        return remote
    client = remote
    hops = http_request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break  # what is left of here was written by the client
        client = str(address)
        if not is_trusted(address):
            break
    return client
