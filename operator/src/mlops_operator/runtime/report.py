"""report(): hand a result to the operator through the container's termination message."""

import json
import math
import os
from typing import Any

from ..contract import DEFAULT_RESULT_PATH, RESULT_LIMIT_BYTES


class ResultTooLarge(ValueError):
    pass


def _finite_or_none(value: float) -> float | None:
    # JSON has no NaN; the operator reads a missing value as "not reported".
    return value if math.isfinite(value) else None


def result_document(metrics: dict[str, float] | None = None, artifact_uri: str | None = None,
                    digest: str | None = None, **extra: Any) -> str:
    document: dict[str, Any] = {}
    if metrics is not None:
        document["metrics"] = {name: _finite_or_none(float(value)) for name, value in metrics.items()}
    if artifact_uri:
        document["artifactUri"] = artifact_uri
    if digest:
        document["digest"] = digest
    document.update(extra)
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    if len(text.encode()) > RESULT_LIMIT_BYTES:
        raise ResultTooLarge(f"the result is {len(text.encode())} bytes; a termination message holds "
                             f"{RESULT_LIMIT_BYTES}: report fewer metrics")
    return text


def report(metrics: dict[str, float] | None = None, *, artifact_uri: str | None = None, digest: str | None = None,
           path: str | None = None, **extra: Any) -> str:
    """Writes the result JSON ({"metrics": ..., "artifactUri": ..., "digest": ...}) where Kubernetes
    picks it up as the container's termination message. Call it once, at the end. Returns the JSON."""
    text = result_document(metrics, artifact_uri, digest, **extra)
    target = path or os.environ.get("MLOPS_RESULT_PATH") or DEFAULT_RESULT_PATH
    with open(target, "w") as f:
        f.write(text)
    return text
