"""Which addresses the service may call back: webhook receivers on the public internet only.

A subscriber names the URL the service POSTs to; without this check it could name the
service's own loopback, the cloud metadata address or a host on the operator's private
network, and learn from the recorded attempts what answers there. Every address the host
name resolves to must be global unicast. The name is resolved again when the request is
made, so a name that changes its answer between the two (DNS rebinding) is the residual
risk; an operator that needs more pins egress with a proxy.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from sostenuto.errors import InvalidInput


class PrivateAddress(InvalidInput):
    """A receiver's address is loopback, private, link-local or otherwise not public."""


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise PrivateAddress(f"the webhook host {host!r} does not resolve: {error}") from error
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def check_named_public(url: str) -> None:
    """What can be told without asking DNS: refuse a host written as a non-public address
    or named ``localhost`` (checked when a subscription is made, to fail early)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise PrivateAddress(
            f"the webhook host {host!r} is this machine: deliveries go to public receivers only"
            " (an operator allows private networks with SOSTENUTO_WEBHOOK_PRIVATE_NETWORKS=1)"
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    _refuse_unless_public(host, address)


def _refuse_unless_public(
    host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> None:
    if not _public(address):
        raise PrivateAddress(
            f"the webhook host {host!r} resolves to {address}, which is not a public"
            " address: deliveries go to public receivers only (an operator allows"
            " private networks with SOSTENUTO_WEBHOOK_PRIVATE_NETWORKS=1)"
        )


def check_public(url: str) -> None:
    """Raise :class:`PrivateAddress` unless every address of ``url``'s host is public."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for address in _addresses(host, port):
        _refuse_unless_public(host, address)
