"""One client for OpenAI-compatible ``/chat/completions`` endpoints whose address an API caller chose: the LLM
judge (judges.py) and the EXTERNAL subject of an evaluation suite (suite_eval.py) both call through it.

Standard library only. Every request goes through ``outbound.post`` (allowlisted key variable, DNS-checked and
pinned address, no redirects, size and time caps, no remote body in errors). Transport errors and HTTP 408/409/429/5xx
are retried with exponential backoff (``backoff_s * 2**attempt``); a refused address, a redirect or an oversized
reply is not retried (it fails the same way again); a reply that is not a chat completion is an error. Messages name
the endpoint's host and the HTTP status only: never the key, never the remote body.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, Optional

from .outbound import OutboundError, OutboundPolicy, check_url, post


def completions_url(endpoint: str) -> str:
    """``{endpoint}/chat/completions`` (an endpoint given with the path already is kept)."""
    base = (endpoint or "").rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


def endpoint_host(url: str, policy: OutboundPolicy, what: str) -> str:
    """The URL's host after the checks that need no DNS (scheme, credentials, literal address); ValueError else."""
    try:
        return check_url(url, policy).netloc
    except OutboundError as e:
        raise ValueError(f"{what}: {e}") from None


def chat_completion(url: str, body: Dict[str, Any], api_key: Optional[str], policy: OutboundPolicy, *,
                    timeout_s: float = 60.0, retries: int = 3, backoff_s: float = 0.5, label: str = "endpoint",
                    on_retry: Optional[Callable[[], None]] = None) -> Dict[str, Any]:
    """POSTs ``body`` (JSON) to ``url`` with retries; returns the parsed reply, which has a first choice with a
    message (else RuntimeError). ``label`` names the endpoint in errors (e.g. "judge endpoint host:port")."""
    data = json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    for attempt in range(retries + 1):
        try:
            status, raw = post(url, data, headers, policy, timeout_s)
        except OutboundError as e:
            # a refused address, a redirect or an oversized reply fails the same way again
            if e.failure in ("url", "blocked", "redirect", "too-large") or attempt == retries:
                raise RuntimeError(f"{label}: {e}") from None
        else:
            if 200 <= status < 300:
                try:
                    reply = json.loads(raw.decode("utf-8"))
                    reply["choices"][0]["message"]  # noqa: B018 - the shape every caller reads
                except (ValueError, KeyError, IndexError, TypeError):
                    raise RuntimeError(f"{label}: the reply is not a chat completion") from None
                return reply
            # the status only: the body is the remote's words (it may echo the key or internal details)
            if status not in (408, 409, 429) and status < 500 or attempt == retries:
                raise RuntimeError(f"{label}: HTTP {status}")
        if on_retry is not None:
            on_retry()
        time.sleep(backoff_s * (2 ** attempt))
    raise AssertionError("unreachable")


def reply_text(reply: Dict[str, Any]) -> str:
    """The first choice's message content as text (a list of content parts is joined)."""
    content = reply["choices"][0]["message"].get("content")
    if isinstance(content, list):  # some servers answer with content parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content or ""


def completion_tokens(reply: Dict[str, Any]) -> Optional[int]:
    """``usage.completion_tokens`` when the endpoint reports it (a non-negative integer), else None."""
    usage = reply.get("usage")
    value = usage.get("completion_tokens") if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


__all__ = ["chat_completion", "completion_tokens", "completions_url", "endpoint_host", "reply_text"]
