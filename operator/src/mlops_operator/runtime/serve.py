"""The built-in model server: `python -m mlops_operator.runtime.serve`.

Serves the artifact MLOPS_MODEL_URI (MLOPS_MODEL_FORMAT sklearn: a joblib file; onnx) as MLOPS_MODEL_NAME,
version MLOPS_MODEL_VERSION, over the Open Inference Protocol v2's REST API (so KServe, MLServer or Triton
can take its place) on MLOPS_SERVER_ADDRESS (default 127.0.0.1; the operator sets the pod's IP) port
MLOPS_SERVER_PORT (default 8080):

    GET  /v2                                   {"name": "mlops-operator", "version": ..., "extensions": []}
    GET  /v2/health/live                       200 while the process runs
    GET  /v2/health/ready                      200 once the model is loaded, until SIGTERM; else 503
    GET  /v2/models/{name}[/versions/{v}]      metadata: inputs, and outputs predict [-1], predict_proba [-1, C]
    GET  /v2/models/{name}[/versions/{v}]/ready
    POST /v2/models/{name}[/versions/{v}]/infer
    GET  /metrics                              Prometheus: serving.metrics names the series

MLOPS_SERVING_SIGNATURE (optional) is the training data's columns, in the model's order:

    {"inputs": [{"name": "age", "datatype": "FP64", "nullable": true, "min": 0.0, "max": 99.0},
                {"name": "city", "datatype": "BYTES", "allowedValues": ["Oslo", "Rome"]}], "target": "label"}

With it, a request sends one tensor per column ([N] or [N, 1], the same N), of the column's datatype; values
outside min/max or allowedValues are answered and counted as drift. Without it, the model takes one [N, F]
tensor of numbers. Bad requests get 400 {"error": "..."} naming the input, a model that fails on them 500.

What clients send is bounded (each refusal is {"error": "..."} and counts as a bad request):
- a body is JSON, sent with Content-Type application/json or none (else 415), of at most
  MLOPS_MAX_REQUEST_BYTES (default 4194304, 4 MiB; after decompression; else 413, refused by its
  Content-Length before it is read); NaN, Infinity and numbers beyond their datatype are 400s;
- a client has MLOPS_READ_SECONDS (default 10) to send a request's headers, from connecting or from its
  previous answer (an idle connection is closed then, without an answer), and as long again for the body
  (else 408); the rest of a body not read whole is read and dropped for as long, then the connection closes;
- HTTP that aiohttp cannot parse (a line over 8190 bytes, more than 128 headers...) gets its own 400 with the
  reason in plain text, and one warning line in the log.

The model loads in the background; if it cannot, the error goes to the termination message and stderr and
the server exits 1 (so Kubernetes restarts it and a rollout sees the restarts). On SIGTERM or SIGINT
readiness fails at once, requests are answered for MLOPS_DRAIN_SECONDS (default 5) while endpoints are
removed, then the server stops listening, finishes the requests under way and exits 0.
"""

import asyncio
import logging
import os
import signal
import sys

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from .report import report
from .serving.app import build_app
from .serving.config import ConfigError, config_from_environment
from .serving.server import ModelServer

IN_FLIGHT_SECONDS = 8.0  # for requests under way at shutdown: the operator's pods get the drain + 10 s to stop
FAILED = 1

log = logging.getLogger("mlops_operator.runtime.serve")


class _ClientMistakesInOneLine(logging.LoggerAdapter):
    """aiohttp logs HTTP it cannot parse (a line too long, a bad method, a body that is not in its
    Content-Encoding...) as an error with its traceback; it is the client's mistake, answered 400 with the
    reason, so one warning line says it."""

    def exception(self, msg, *args, exc_info=True, **kwargs):
        if isinstance(exc_info, HttpProcessingError | web.RequestPayloadError):
            self.warning(msg + ": %s", *args, " ".join(str(exc_info).split()), **kwargs)
        else:
            super().exception(msg, *args, exc_info=exc_info, **kwargs)


async def serve(server: ModelServer) -> int:
    """Runs the server until it has drained after a signal (0) or could not listen or load the model (1)."""
    config = server.config
    # aiohttp's keep-alive timeout runs from a connection's start and from each answer until the next request's
    # headers are in: it is the time a client has to send them, and how long an idle connection is kept. After
    # an answer to a body that was not read whole (refused, or too slow), the rest is read and dropped for as
    # long, so that the client gets to read the answer, and then the connection is closed.
    runner = web.AppRunner(build_app(server), access_log=None, shutdown_timeout=IN_FLIGHT_SECONDS,
                           keepalive_timeout=config.read_seconds, lingering_time=config.read_seconds,
                           logger=_ClientMistakesInOneLine(logging.getLogger("aiohttp.server")))
    await runner.setup()
    try:
        await web.TCPSite(runner, config.address, config.port).start()
    except OSError as error:
        await runner.cleanup()
        return _failed(f"cannot listen on {config.address}:{config.port}: {error}")
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, server.begin_drain)
    log.info("serving %s version %s on http://%s:%d", config.model_name, config.model_version, config.address,
             config.port)
    try:
        return await _lifetime(server)
    finally:
        await runner.cleanup()  # stops listening, then waits for the requests under way


async def _lifetime(server: ModelServer) -> int:
    loading = asyncio.create_task(server.load())
    draining = asyncio.create_task(server.drain_started.wait())
    try:
        await asyncio.wait({loading, draining}, return_when=asyncio.FIRST_COMPLETED)
        if loading.done() and loading.exception():
            return _failed(f"cannot serve: {loading.exception()}")
        await draining
        log.info("draining: answering for %s s before stopping", server.config.drain_seconds)
        await asyncio.sleep(server.config.drain_seconds)
        return 0
    finally:
        loading.cancel()
        draining.cancel()


def _failed(message: str) -> int:
    log.error("%s", message)
    try:
        report(error=message[:1000])
    except OSError:  # outside a pod there may be no termination log to write; the log has said it
        pass
    return FAILED


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = config_from_environment(os.environ)
    except ConfigError as error:
        return _failed(f"cannot serve: {error}")
    return asyncio.run(serve(ModelServer(config)))


if __name__ == "__main__":
    sys.exit(main())
