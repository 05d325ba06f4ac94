"""The model server's HTTP routes: the Open Inference Protocol v2's REST API and /metrics."""

import asyncio
import functools

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError

from ... import contract
from .config import ServerConfig
from .server import ModelServer, Refused, Reply

SERVER = web.AppKey("server", ModelServer)
JSON = "application/json"


def build_app(server: ModelServer) -> web.Application:
    app = web.Application(middlewares=[_json_errors], client_max_size=server.config.max_request_bytes)
    app[SERVER] = server
    model = "/v2/models/{name}"
    version = model + "/versions/{version}"
    app.add_routes([
        web.get("/v2", server_metadata),
        web.get("/v2/health/live", live),
        web.get("/v2/health/ready", ready),
        web.get("/metrics", metrics),
        *(route for path in (model, version) for route in (
            web.get(path, model_metadata),
            web.get(path + "/ready", model_ready),
            web.post(path + "/infer", infer),
        )),
    ])
    return app


@web.middleware
async def _json_errors(request: web.Request, handler) -> web.StreamResponse:
    """aiohttp's own refusals (no such path, wrong method, body too large) as the protocol's {"error": ...}."""
    try:
        return await handler(request)
    except web.HTTPException as refusal:
        if refusal.status < 400:
            raise
        return web.json_response({"error": refusal.text or refusal.reason}, status=refusal.status,
                                 headers={name: value for name, value in refusal.headers.items()
                                          if name.lower() == "allow"})


def _response(reply: Reply) -> web.Response:
    return web.json_response(reply.document, status=reply.status)


async def server_metadata(request: web.Request) -> web.Response:
    return web.json_response(request.app[SERVER].server_metadata())


async def live(request: web.Request) -> web.Response:
    return web.json_response({"live": True})


async def ready(request: web.Request) -> web.Response:
    is_ready = request.app[SERVER].ready
    return web.json_response({"ready": is_ready}, status=200 if is_ready else 503)


async def model_metadata(request: web.Request) -> web.Response:
    return _response(request.app[SERVER].model_metadata(request.match_info["name"],
                                                        request.match_info.get("version")))


async def model_ready(request: web.Request) -> web.Response:
    return _response(request.app[SERVER].model_ready(request.match_info["name"], request.match_info.get("version")))


async def infer(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    return _response(await server.infer(request.match_info["name"], request.match_info.get("version"),
                                        functools.partial(_json_body, request, server.config)))


async def _json_body(request: web.Request, config: ServerConfig) -> bytes:
    """The body, refused unread unless it is JSON of at most max_request_bytes sent within read_seconds."""
    if hdrs.CONTENT_TYPE in request.headers and request.content_type != JSON:
        raise Refused(415, f"the body must be JSON, sent as Content-Type: {JSON}; this one is "
                           f"{request.content_type}")
    limit, read_seconds = config.max_request_bytes, config.read_seconds
    too_large = f"this server reads bodies of at most {limit} bytes ({contract.MAX_REQUEST_BYTES})"
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, f"the body has {request.content_length} bytes; {too_large}")
    try:
        async with asyncio.timeout(read_seconds):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:  # chunked, or compressed: found out while reading
        raise Refused(413, f"the body has more than {limit} bytes; {too_large}") from None
    except TimeoutError:
        raise Refused(408, f"the body did not arrive within {read_seconds:g} s") from None
    except web.RequestPayloadError as error:  # a Content-Encoding the body is not in, a chunk that is not one
        reason = error.__cause__.message if isinstance(error.__cause__, HttpProcessingError) else error
        raise Refused(400, f"the body cannot be read: {reason}") from None


async def metrics(request: web.Request) -> web.Response:
    body, content_type = request.app[SERVER].metrics.exposition(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})
