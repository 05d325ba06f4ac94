"""Pod templates for the pods the operator runs: admitted under Pod Security "restricted" by
default, with what users set in spec.pod and on their container merged in."""

import json
from typing import Any

from ..api.common import Container, PodSettings
from ..contract import escape_expansion

RESTRICTED_POD_SECURITY: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESTRICTED_CONTAINER_SECURITY: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
}


def _wire(model: Any) -> Any:
    """An API model as the JSON Kubernetes expects (camelCase, unset fields left out)."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def compact_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def container(spec: Container, name: str, env: dict[str, str], args: list[str] | None,
              env_from: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The container: the operator's variables (escaped, so the kubelet passes them as written)
    first, the user's after them unless they reuse a name."""
    # An unset value and "" mean the same to Kubernetes; leaving it out keeps valueFrom alone.
    user_env = [e.model_dump(by_alias=True, exclude_defaults=True, mode="json")
                for e in spec.env or [] if e.name not in env]
    built: dict[str, Any] = {
        "name": name,
        "image": spec.image,
        # Failures then carry the log's tail when the program could not write its result.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "env": [{"name": k, "value": escape_expansion(v)} for k, v in env.items()] + user_env,
        "securityContext": {**RESTRICTED_CONTAINER_SECURITY, **(spec.security_context or {})},
    }
    if spec.command:
        built["command"] = list(spec.command)
    if args:
        built["args"] = list(args)
    sources = [*(env_from or []), *(_wire(s) for s in spec.env_from or [])]
    if sources:
        built["envFrom"] = sources
    if spec.volume_mounts:
        built["volumeMounts"] = [_wire(m) for m in spec.volume_mounts]
    if spec.resources:
        built["resources"] = _wire(spec.resources)
    return built


def pod_template(main: dict[str, Any], settings: PodSettings | None, labels: dict[str, str]) -> dict[str, Any]:
    """A pod template running one container to completion. The operator's labels win over the
    user's; the restricted security defaults are overridden key by key by the user's."""
    settings = settings or PodSettings()
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [main],
        # A token only when the user asks for an identity: the pods need no API access.
        "automountServiceAccountToken": bool(settings.service_account_name),
        "securityContext": {**RESTRICTED_POD_SECURITY, **(settings.security_context or {})},
    }
    for key, value in (("serviceAccountName", settings.service_account_name),
                       ("priorityClassName", settings.priority_class_name),
                       ("nodeSelector", settings.node_selector),
                       ("affinity", settings.affinity)):
        if value:
            spec[key] = value
    for key, models in (("imagePullSecrets", settings.image_pull_secrets), ("tolerations", settings.tolerations),
                        ("volumes", settings.volumes)):
        if models:
            spec[key] = [_wire(m) for m in models]
    metadata: dict[str, Any] = {"labels": {**(settings.labels or {}), **labels}}
    if settings.annotations:
        metadata["annotations"] = dict(settings.annotations)
    return {"metadata": metadata, "spec": spec}
