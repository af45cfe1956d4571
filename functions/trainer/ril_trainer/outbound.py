"""The trainer's gate for outbound HTTP whose destination an API caller chose (the LLM judge's ``judge_endpoint``).

The twin of the platform's ``api/_lib/net/outbound.ts``, with the same operator settings (the worker passes them to
the trainer process, see ``worker/child_env.py``):

- ``RIL_SECRET_ENV_ALLOWLIST``: the environment variables that may be sent to an endpoint as its key
  (comma-separated; empty by default: no keys at all). A config naming another (``DATABASE_URL``...) is refused.
- ``RIL_OUTBOUND_ALLOW_HOSTS``: exact ``host`` or ``host:port`` entries exempt from the address check (a judge on
  the operator's own network). Every other host is resolved and EVERY address checked: loopback, private,
  link-local (the cloud metadata address), unspecified, CGNAT, multicast, reserved and IPv4-in-IPv6 are refused.
- The connection goes to the address that was checked (no second lookup that could rebind), redirects are never
  followed (a 3xx is an error), the body is capped (``RIL_OUTBOUND_MAX_BYTES``, default 4 MiB) and the exchange is
  timed (``RIL_OUTBOUND_TIMEOUT_MS``, default 120 000). Errors are in our words: never the remote body.
"""
from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import time
from dataclasses import dataclass
from typing import Dict, FrozenSet, Mapping, Optional, Tuple
from urllib.parse import SplitResult, urlsplit

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
DEFAULT_TIMEOUT_MS = 120_000

_RANGES = [
    ("unspecified", ["0.0.0.0/8", "::/128"]),
    ("loopback", ["127.0.0.0/8", "::1/128"]),
    ("private", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]),
    ("link-local (this includes the cloud metadata address)", ["169.254.0.0/16", "fe80::/10"]),
    ("shared (CGNAT)", ["100.64.0.0/10"]),
    ("multicast", ["224.0.0.0/4", "ff00::/8"]),
    ("reserved", ["192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
                  "fec0::/10", "100::/64", "2001:db8::/32"]),
    # IPv6 forms that carry an IPv4 address: they could smuggle any range above past the IPv6 checks
    ("IPv4-in-IPv6", ["::ffff:0:0/96", "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32"]),
]
_NETWORKS = [(label, [ipaddress.ip_network(c) for c in cidrs]) for label, cidrs in _RANGES]
_ALLOW_HINT = "an operator can allow a host with RIL_OUTBOUND_ALLOW_HOSTS"


class OutboundError(RuntimeError):
    """A refused or failed outbound call; the message is safe to show (no remote content)."""

    def __init__(self, failure: str, message: str):
        super().__init__(message)
        self.failure = failure  # url | blocked | dns | redirect | too-large | timeout | network


def _csv(value: Optional[str]) -> Tuple[str, ...]:
    return tuple(x.strip() for x in (value or "").split(",") if x.strip())


def secret_env_allowlist(env: Optional[Mapping[str, str]] = None) -> FrozenSet[str]:
    """The variable names the operator allows as endpoint keys (RIL_SECRET_ENV_ALLOWLIST)."""
    return frozenset(_csv((os.environ if env is None else env).get("RIL_SECRET_ENV_ALLOWLIST")))


@dataclass(frozen=True)
class OutboundPolicy:
    allow_hosts: Tuple[str, ...] = ()
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_s: float = DEFAULT_TIMEOUT_MS / 1000

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "OutboundPolicy":
        src = os.environ if env is None else env
        return cls(allow_hosts=tuple(h.lower() for h in _csv(src.get("RIL_OUTBOUND_ALLOW_HOSTS"))),
                   max_bytes=int(src.get("RIL_OUTBOUND_MAX_BYTES") or DEFAULT_MAX_BYTES),
                   timeout_s=int(src.get("RIL_OUTBOUND_TIMEOUT_MS") or DEFAULT_TIMEOUT_MS) / 1000)


def blocked_range(address: str) -> Optional[str]:
    """The refused range an IP address falls in, or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    for label, networks in _NETWORKS:
        if any(ip.version == n.version and ip in n for n in networks):
            return label
    return None


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def host_allowed(parts: SplitResult, policy: OutboundPolicy) -> bool:
    host = (parts.hostname or "").lower()
    forms = {host, f"[{host}]"} if ":" in host else {host}
    return any(f in policy.allow_hosts or f"{f}:{_port(parts)}" in policy.allow_hosts for f in forms)


def check_url(url: str, policy: OutboundPolicy) -> SplitResult:
    """Scheme, credentials and an IP-literal host: the checks that need no DNS."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise OutboundError("url", "not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundError("url", "only http and https URLs may be called")
    if parts.username or parts.password:
        raise OutboundError("url", "the URL must not carry credentials")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None and not host_allowed(parts, policy):
        label = blocked_range(str(literal))
        if label:
            raise OutboundError("blocked", f"{parts.netloc} is a {label} address, which outbound calls may not reach ({_ALLOW_HINT})")
    return parts


def resolve(parts: SplitResult, policy: OutboundPolicy) -> Tuple[str, int]:
    """Resolves the host and checks every address; returns the (address, port) to connect to."""
    try:
        infos = socket.getaddrinfo(parts.hostname, _port(parts), type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise OutboundError("dns", f"cannot resolve {parts.hostname} ({e.__class__.__name__})") from None
    if not infos:
        raise OutboundError("dns", f"cannot resolve {parts.hostname}")
    if not host_allowed(parts, policy):
        for info in infos:
            label = blocked_range(info[4][0])
            if label:  # the address itself is not named: it would disclose internal DNS
                raise OutboundError("blocked", f"{parts.netloc} resolves to a {label} address, which outbound calls may not reach ({_ALLOW_HINT})")
    return infos[0][4][0], _port(parts)


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked address; Host header and everything else stay the URL's."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # certificate checked for the name


def post(url: str, body: bytes, headers: Dict[str, str], policy: OutboundPolicy,
         timeout_s: Optional[float] = None) -> Tuple[int, bytes]:
    """One POST under every rule above: (status, body) for any non-3xx status, else OutboundError."""
    parts = check_url(url, policy)
    address, port = resolve(parts, policy)
    budget = min(timeout_s or policy.timeout_s, policy.timeout_s)
    deadline = time.monotonic() + budget
    cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    conn = cls(parts.hostname, port, address, budget)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        if 300 <= resp.status < 400:
            raise OutboundError("redirect", f"HTTP {resp.status}: the endpoint answered with a redirect, which is not followed")
        too_large = OutboundError("too-large", f"the response is larger than {policy.max_bytes} bytes (RIL_OUTBOUND_MAX_BYTES)")
        declared = resp.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > policy.max_bytes:
            raise too_large
        chunks, size = [], 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise OutboundError("timeout", f"timed out after {budget:g} s")
            # each read waits at most the socket timeout (the budget), so a slow drip ends within twice the budget
            chunk = resp.read1(64 * 1024) if hasattr(resp, "read1") else resp.read(64 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > policy.max_bytes:
                raise too_large
            chunks.append(chunk)
        return resp.status, b"".join(chunks)
    except OutboundError:
        raise
    except (socket.timeout, TimeoutError):
        raise OutboundError("timeout", f"timed out after {budget:g} s") from None
    except (OSError, http.client.HTTPException) as e:
        raise OutboundError("network", f"network error: {e.__class__.__name__}") from None
    finally:
        conn.close()


__all__ = ["OutboundError", "OutboundPolicy", "blocked_range", "check_url", "post", "resolve", "secret_env_allowlist"]
