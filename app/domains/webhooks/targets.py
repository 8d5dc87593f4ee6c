"""Where a webhook may point: no server-side request forgery.

Unless WEBHOOKS_ALLOW_PRIVATE_TARGETS allows it (by default: in development and test, not in
production), a target is refused whose address is not a public internet address: loopback,
private (RFC 1918, unique-local), link-local (169.254.0.0/16, where cloud metadata services
answer, and fe80::/10), shared (100.64.0.0/10), multicast, reserved or unspecified. It is
checked twice: when the webhook is written (a literal address or `localhost`: a 422), and at
every delivery after DNS resolution, where every address the name resolves to must pass and
the request then goes to the address checked, not to a second lookup (so a name that
re-resolves to 127.0.0.1 between the check and the connection, DNS rebinding, cannot reach
it). The Host header and TLS SNI keep the name, so certificates are verified against it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from app.core.config import Environment, Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL may not be called; `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def parse(url: str, settings: Settings) -> SplitResult:
    """The URL, checked as far as can be without DNS (TargetRefused if not)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("webhook.invalid_url", f"The URL is not valid: {exc}.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefused("webhook.invalid_url", "The URL must be an absolute http(s) URL.")
    if parts.scheme != "https" and settings.environment is Environment.production:
        raise TargetRefused("webhook.https_required", "A webhook's URL must use https.")
    if parts.username or parts.password:
        raise TargetRefused(
            "webhook.invalid_url",
            "The URL may not carry a user name or password (they would be stored in clear).",
        )
    if parts.fragment:
        raise TargetRefused("webhook.invalid_url", "The URL may not carry a #fragment.")
    if port == 0:
        raise TargetRefused("webhook.invalid_url", "The URL's port must be 1-65535.")
    if not settings.webhooks_private_targets_allowed:
        host = parts.hostname.lower().rstrip(".")
        literal = _literal(host)
        if (
            (literal is not None and not is_public(literal))
            or host == "localhost"
            or (host.endswith((".localhost", ".local", ".internal")))
        ):
            raise TargetRefused(
                "webhook.target_not_public",
                "The URL names an address that is not on the public internet.",
            )
    return parts


@dataclass(frozen=True)
class Target:
    """A URL resolved: the address to connect to, and the name to present (Host, SNI)."""

    scheme: str
    host: str
    address: str
    port: int
    path: str  # with the query

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if self.port == default else f"{shown}:{self.port}"

    @property
    def connect_url(self) -> str:
        shown = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{shown}:{self.port}{self.path}"


async def resolve(url: str, settings: Settings) -> Target:
    """The address to deliver to, after DNS (TargetRefused when a name resolves to an address
    that is not public and private targets are not allowed, or does not resolve)."""
    parts = parse(url, settings)
    host = parts.hostname
    assert host is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise TargetRefused("webhook.dns_failed", f"{host} does not resolve: {exc}.") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise TargetRefused("webhook.dns_failed", f"{host} does not resolve.")
    if not settings.webhooks_private_targets_allowed:
        refused = [str(a) for a in addresses if not is_public(a)]
        if refused:
            raise TargetRefused(
                "webhook.target_not_public",
                f"{host} resolves to {', '.join(refused)}, not a public internet address.",
            )
    return Target(parts.scheme, host, str(addresses[0]), port, path)
