"""Where a pod finds the API server and its credentials: lightkube's in-cluster configuration (the
kubelet's KUBERNETES_SERVICE_HOST/_PORT and the mounted ServiceAccount folder, as client-go's), so
kopf's login and the operator's own client dial the same address."""

from dataclasses import dataclass
from pathlib import Path

from lightkube.config.kubeconfig import SERVICE_ACCOUNT, KubeConfig
from lightkube.core.exceptions import ConfigError


@dataclass(frozen=True)
class InCluster:
    server: str
    ca_path: str | None
    token: str
    namespace: str


def in_cluster(service_account: str | Path = SERVICE_ACCOUNT) -> InCluster | None:
    """The in-cluster connection, read afresh (the kubelet rotates the token); None outside a pod."""
    try:
        config = KubeConfig.from_service_account(service_account).get()
    except (ConfigError, KeyError):  # no token folder, or no KUBERNETES_SERVICE_* in the environment
        return None
    assert config is not None and config.user is not None  # from_service_account makes one context
    ca = config.cluster.certificate_auth
    return InCluster(server=config.cluster.server, ca_path=ca if ca and Path(ca).exists() else None,
                     token=(config.user.token or "").strip(), namespace=(config.namespace or "").strip())
