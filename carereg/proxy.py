"""The reverse proxy in front of CareReg (docs/deployment.md#the-proxy).

What a proxy says about a request (the client's address in X-Forwarded-For, the scheme in
X-Forwarded-Proto) is believed only when BEHIND_PROXY is on and the request comes from one of
TRUSTED_PROXIES. From anyone else those headers are dropped before any other middleware reads
them, so a client cannot pass for HTTPS or for another address. A core helper: no app imported.
"""

import ipaddress
from functools import cache

from django.conf import settings

# The headers our proxy sets, as Django names them in request.META.
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO")


@cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _ip(address: str | None):
    try:
        return ipaddress.ip_address(address) if address else None
    except ValueError:
        return None


def from_trusted_proxy(request) -> bool:
    peer = _ip(request.META.get("REMOTE_ADDR"))
    return (
        settings.BEHIND_PROXY
        and peer is not None
        and any(peer in network for network in _trusted_networks(tuple(settings.TRUSTED_PROXIES)))
    )


class TrustedProxyMiddleware:
    """First in the chain: forwarded headers that did not come from our proxy are dropped, so
    SECURE_PROXY_SSL_HEADER and client_address() only ever read what the proxy wrote."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not from_trusted_proxy(request):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)


def client_address(request) -> str | None:
    """The client's address, for lockouts and the access log.

    REMOTE_ADDR; from our proxy, the right-most X-Forwarded-For entry, the one the proxy
    wrote (entries before it, if the proxy appends, were sent by the client and could be
    forged). None when it is not an IP address."""
    address = request.META.get("REMOTE_ADDR")
    if from_trusted_proxy(request):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            address = forwarded[-1]
    ip = _ip(address)
    return str(ip) if ip is not None else None
