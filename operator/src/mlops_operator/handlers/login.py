"""How the operator authenticates: in a pod, as client-go's in-cluster configuration does; outside
one, from the kubeconfig.

kopf's own service-account login dials https://kubernetes.default.svc, which only cluster DNS
resolves. In-cluster clients (client-go, lightkube, which the operator's writes use) take the API
server from KUBERNETES_SERVICE_HOST and _PORT, which the kubelet sets in every container: so does
this, so that both clients reach the same address, with or without cluster DNS.
"""

import os
from pathlib import Path
from typing import Any

import kopf

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def in_cluster_server(environ: dict[str, str]) -> str | None:
    host, port = environ.get("KUBERNETES_SERVICE_HOST"), environ.get("KUBERNETES_SERVICE_PORT")
    if not (host and port):
        return None
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


@kopf.on.login()
def login(settings: kopf.OperatorSettings, **kwargs: Any) -> kopf.ConnectionInfo | None:
    server = in_cluster_server(dict(os.environ))
    token = SERVICE_ACCOUNT / "token"
    if server is None or not token.exists():
        return kopf.login_with_kubeconfig(settings=settings, **kwargs)
    namespace = SERVICE_ACCOUNT / "namespace"
    ca = SERVICE_ACCOUNT / "ca.crt"
    # Read on every login: kopf logs in again on a 401, after the kubelet rotated the token.
    return kopf.ConnectionInfo(
        server=server,
        ca_path=str(ca) if ca.exists() else None,
        token=token.read_text().strip() or None,
        default_namespace=namespace.read_text().strip() if namespace.exists() else None,
        trust_env=settings.networking.trust_env,
    )
