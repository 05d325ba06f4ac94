"""Which API errors the node agent retries and which end it.

Retried: the connection failing or being reset, timeouts, 408, 410 Gone (a watch's version is
too old), 429 and 5xx. Anything else (401, 403, 404 of a resource type, 422, ...) will not heal
by itself: retrying would leave the node silently deaf."""

from __future__ import annotations

import asyncio

import httpx2 as httpx  # lightkube's HTTP client
from lightkube.core.exceptions import ApiError

RETRYABLE_CODES = frozenset({408, 410, 429})


def status_code(error: BaseException) -> int | None:
    if isinstance(error, ApiError) and error.status is not None and error.status.code:
        return error.status.code
    if isinstance(error, httpx.HTTPStatusError) and error.response is not None:
        return error.response.status_code
    return None


def retryable(error: BaseException) -> bool:
    code = status_code(error)
    if code is not None:
        return code in RETRYABLE_CODES or code >= 500
    return isinstance(error, (httpx.TransportError, OSError, asyncio.TimeoutError))


def describe(error: BaseException) -> str:
    """A one-line account of an API error, with the API server's message when there is one."""
    code = status_code(error)
    if isinstance(error, ApiError) and error.status is not None and error.status.message:
        return f"{code} {error.status.reason or ''}: {error.status.message}".replace("  ", " ")
    return f"{type(error).__name__}: {error}" if code is None else f"{code}: {error}"


def backoff(attempt: int, start: float = 0.5, limit: float = 10.0) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): doubling, capped."""
    return min(limit, start * 2 ** max(0, attempt - 1))
