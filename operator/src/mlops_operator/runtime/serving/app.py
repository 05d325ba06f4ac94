"""The model server's HTTP routes: the Open Inference Protocol v2's REST API and /metrics."""

from aiohttp import web

from .server import ModelServer, Reply

MAX_REQUEST_BYTES = 16 * 1024 * 1024  # a batch of tabular rows; aiohttp's default (1 MiB) is a few thousand
SERVER = web.AppKey("server", ModelServer)


def build_app(server: ModelServer) -> web.Application:
    app = web.Application(middlewares=[_json_errors], client_max_size=MAX_REQUEST_BYTES)
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
    body = await request.read()
    return _response(await request.app[SERVER].infer(request.match_info["name"], request.match_info.get("version"),
                                                     body))


async def metrics(request: web.Request) -> web.Response:
    body, content_type = request.app[SERVER].metrics.exposition(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})
