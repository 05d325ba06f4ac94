"""The model server's state and answers, without HTTP: whether it is ready, its metadata, inference."""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pandas as pd

from ..models import Model, load_model
from .config import ServerConfig, Signature, fitted_signature
from .metrics import BAD_REQUEST, ERROR, SUCCESS, ServerMetrics
from .tensors import (BadRequest, InferRequest, Violation, input_metadata, matrix_features, output_metadata,
                      parse_request, requested_outputs, response_outputs, signature_features)

SERVER_NAME = "mlops-operator"
OUTCOMES = {200: SUCCESS, 400: BAD_REQUEST, 500: ERROR}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    status: int
    document: dict[str, Any]


def error(status: int, message: str) -> Reply:
    return Reply(status, {"error": message})


class Refused(Exception):
    """A request body refused before it is parsed (not JSON, too large, too slow); its message is the error."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def server_version() -> str:
    try:
        return metadata.version("mlops-operator")
    except metadata.PackageNotFoundError:  # run from a source tree
        return "unknown"


class ModelServer:
    def __init__(self, config: ServerConfig):
        self.config = config
        self.metrics = ServerMetrics(config.model_name, config.model_version)
        self.model: Model | None = None
        self.signature: Signature | None = None  # the inputs taken, once the model says which
        self.draining = False
        self.drain_started = asyncio.Event()

    @property
    def ready(self) -> bool:
        return self.model is not None and not self.draining

    async def load(self) -> None:
        """Loads the model in a thread, so the server answers probes meanwhile; CannotLoad says why not."""
        model = await asyncio.to_thread(load_model, self.config.model_uri, self.config.model_format)
        self.signature = fitted_signature(self.config.signature, model)
        self.model = model
        self.metrics.ready(self.ready)
        log.info("loaded %s as %s", self.config.model_uri, self.config.model_format)

    def begin_drain(self) -> None:
        """What SIGTERM and SIGINT do: readiness fails at once, so Kubernetes takes the pod out of its
        Service's endpoints, while requests that still arrive are answered."""
        self.draining = True
        self.metrics.ready(False)
        self.drain_started.set()

    def server_metadata(self) -> dict[str, Any]:
        return {"name": SERVER_NAME, "version": server_version(), "extensions": []}

    def model_metadata(self, name: str, version: str | None) -> Reply:
        if refusal := self._unavailable(name, version):
            return refusal
        assert self.model  # _unavailable says so
        config = self.config
        return Reply(200, {"name": config.model_name, "versions": [config.model_version],
                           "platform": config.model_format, "inputs": input_metadata(self.signature, self.model),
                           "outputs": output_metadata(self.model)})

    def model_ready(self, name: str, version: str | None) -> Reply:
        return self._not_served(name, version) or Reply(200 if self.ready else 503,
                                                        {"name": self.config.model_name, "ready": self.ready})

    async def infer(self, name: str, version: str | None, read_body: Callable[[], Awaitable[bytes]]) -> Reply:
        """The inference response; requests the model answered (200, 400, 500) are counted and timed, bodies
        refused before (Refused from read_body) counted as bad requests: their time is the client's."""
        if refusal := self._unavailable(name, version):
            return refusal
        assert self.model  # _unavailable says so
        try:
            body = await read_body()
        except Refused as refusal:
            self.metrics.refused()
            return error(refusal.status, str(refusal))
        started = time.perf_counter()
        reply = await self._answer(self.model, body)
        self.metrics.request(OUTCOMES[reply.status], time.perf_counter() - started)
        return reply

    async def _answer(self, model: Model, body: bytes) -> Reply:
        try:
            request = parse_request(body)
            outputs = requested_outputs(request, model)
            features, drift = self._features(request, model)
        except BadRequest as refusal:
            self._count(refusal.violations)
            return error(400, str(refusal))
        self._count(drift)
        try:
            # In a thread: a slow prediction must not hold up probes and other requests.
            predictions = await asyncio.to_thread(model.predict, features)
            tensors = response_outputs(predictions, outputs)
        except Exception as failure:  # the model's own failure (features it does not take...): its message says why
            log.exception("the model failed on request %s", request.id)
            return error(500, f"the model failed: {type(failure).__name__}: {failure}")
        return Reply(200, {"model_name": self.config.model_name, "model_version": self.config.model_version,
                           "id": request.id or str(uuid.uuid4()), "outputs": tensors})

    def _features(self, request: InferRequest, model: Model) -> tuple[pd.DataFrame, list[Violation]]:
        if self.signature:
            return signature_features(request, self.signature)
        return matrix_features(request, model), []

    def _count(self, violations: list[Violation]) -> None:
        for violation in violations:
            self.metrics.violation(violation.input, violation.kind)

    def _unavailable(self, name: str, version: str | None) -> Reply | None:
        return self._not_served(name, version) or (None if self.model else error(503, "the model is still loading"))

    def _not_served(self, name: str, version: str | None) -> Reply | None:
        if name != self.config.model_name:
            return error(404, f"no model {name!r} here; this server serves {self.config.model_name!r}")
        if version is not None and version != self.config.model_version:
            return error(404, f"model {name!r} has no version {version!r} here; this server serves version "
                              f"{self.config.model_version!r}")
        return None
