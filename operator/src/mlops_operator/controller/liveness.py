"""The operator's liveness endpoint (`--liveness`): GET answers 200 while the operator reaches the
API server, and 503 once the API server has stayed unreachable for the grace period
(logic/liveness.py decides). It replaces kopf's endpoint, which answers 200 for as long as the
event loop runs and can only report trouble as a 500 with a traceback in the log (a failed
`@kopf.on.probe` handler becomes an exception in aiohttp's request handler).

Served from the operator's event loop, so an answer also means the loop is not stuck. A request
checks the API server only when the last check is older than a second, and concurrent requests
share one check: the kubelet's probes cost one cheap GET of /readyz each. The check itself (which
request, which client) is given: this module does no Kubernetes I/O of its own."""

import asyncio
import time
import urllib.parse
from collections.abc import Awaitable, Callable

import aiohttp.web

from ..logic.liveness import ApiContact, verdict

ApiCheck = Callable[[], Awaitable[str | None]]  # None: the API server answered; else what failed


class LivenessEndpoint:
    def __init__(self, check: ApiCheck, clock: Callable[[], float] = time.monotonic):
        self._check, self._clock = check, clock
        self._lock = asyncio.Lock()
        self._runner: aiohttp.web.AppRunner | None = None
        self.contact = ApiContact()

    async def serve(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)  # http://host:port/path (the command line checked it)
        app = aiohttp.web.Application()
        app.add_routes([aiohttp.web.get(parts.path or "/", self._answer)])
        # No access log: a line per probe is noise.
        self._runner = aiohttp.web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await aiohttp.web.TCPSite(self._runner, parts.hostname, parts.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _answer(self, _: aiohttp.web.Request) -> aiohttp.web.Response:
        async with self._lock:
            if self.contact.stale(self._clock()):
                self.contact = self.contact.after_check(self._clock(), await self._check())
        judged = verdict(self.contact, self._clock())
        return aiohttp.web.json_response({"alive": judged.alive, "message": judged.message},
                                         status=200 if judged.alive else 503)
