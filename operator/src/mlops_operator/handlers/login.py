"""How the operator authenticates: in a pod, as client-go's in-cluster configuration does; outside
one, from the kubeconfig.

kopf's own service-account login dials https://kubernetes.default.svc, which only cluster DNS
resolves. In-cluster clients (client-go, lightkube, which the operator's writes use) take the API
server from KUBERNETES_SERVICE_HOST and _PORT, which the kubelet sets in every container: so does
this, through the same lightkube configuration (kube/incluster.py), with or without cluster DNS.
"""

from typing import Any

import kopf

from ..kube.incluster import in_cluster


@kopf.on.login()
def login(settings: kopf.OperatorSettings, **kwargs: Any) -> kopf.ConnectionInfo | None:
    # Read on every login: kopf logs in again on a 401, after the kubelet rotated the token.
    connection = in_cluster()
    if connection is None:
        return kopf.login_with_kubeconfig(settings=settings, **kwargs)
    return kopf.ConnectionInfo(
        server=connection.server,
        ca_path=connection.ca_path,
        token=connection.token or None,
        default_namespace=connection.namespace or None,
        trust_env=settings.networking.trust_env,
    )
