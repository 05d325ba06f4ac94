"""Which Prometheus a canary analysis may query. The operator makes the request from its own network
position, with its own reach; a URL written in a Deployment would let anyone who may write one
in any namespace make the operator GET any internal address and read a piece of the answer in
status (SSRF). So the operator queries only base URLs its administrator listed (--prometheus-address,
the chart's canaryAnalysis.prometheusAddresses), and the request goes to the listed URL as written
there, never to the user's text (docs/decisions.md, 70)."""

from dataclasses import dataclass
from urllib.parse import urlsplit

FIELD = "spec.strategy.canary.analysis.prometheus.address"
SETTING = "the operator's --prometheus-address, the chart's canaryAnalysis.prometheusAddresses"
DEFAULT_PORTS = {"http": 80, "https": 443}


def address_problem(url: str) -> str | None:
    """Why url is not a Prometheus base URL the operator can be told to trust (for its flags)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError as error:
        return f"{url!r}: {error}"
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return f"{url!r} is not an http:// or https:// URL with a host"
    if parts.username or parts.password or parts.query or parts.fragment:
        return f"{url!r}: a base URL has no user, query or fragment"
    return None


def _key(url: str) -> tuple[str, str, int, str] | None:
    """What makes two base URLs the same server: scheme, host and port (case and default port
    aside) and path (a trailing '/' aside). None for anything else, which matches nothing."""
    if address_problem(url):
        return None
    parts = urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS[parts.scheme],
            parts.path.rstrip("/"))


@dataclass(frozen=True)
class Choice:
    url: str | None  # what to query: an allowed entry as the administrator wrote it
    refusal: str | None = None  # why not, naming the field and the allowed values


def prometheus_address(asked: str | None, allowed: tuple[str, ...]) -> Choice:
    """The allowed entry the analysis asks for (the first one when it names none), or a refusal."""
    if not allowed:
        what = f"{FIELD} {asked!r}" if asked else "analysis.prometheus"
        return Choice(None, f"{what}: this operator may query no Prometheus ({SETTING} is empty); ask its "
                            f"administrator to list the Prometheus to use, or remove analysis.prometheus")
    if asked is None:
        return Choice(allowed[0])
    wanted = _key(asked)
    match = next((entry for entry in allowed if wanted is not None and _key(entry) == wanted), None)
    if match is None:
        return Choice(None, f"{FIELD} {asked!r} is not a Prometheus this operator may query; allowed: "
                            f"{', '.join(allowed)} ({SETTING}); leave address out for {allowed[0]}")
    return Choice(match)
