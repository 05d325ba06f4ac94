"""Pure translation of a pod's spec into what the node runs: environment, argv, volumes, mounts.

Input: the pod (a dict as the API returns it) and the ConfigMaps, Secrets and token it refers to.
Output: plain data. Nothing here touches the file system or the network.
"""

import base64
import ipaddress
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"
SUPPORTED_VOLUMES = ("emptyDir", "configMap", "secret", "hostPath", "projected", "downwardAPI")


class PodConfigError(Exception):
    """The pod asks for something the node cannot give; reason is a CamelCase word."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class ReferencedObjects:
    """ConfigMaps and Secrets of the pod's namespace (data already decoded to bytes), by name."""

    config_maps: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)
    secrets: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)
    service_account_token: str = ""


def config_map_data(config_map: dict[str, Any]) -> dict[str, bytes]:
    data = {k: v.encode() for k, v in (config_map.get("data") or {}).items()}
    data.update({k: base64.b64decode(v) for k, v in (config_map.get("binaryData") or {}).items()})
    return data


def secret_data(secret: dict[str, Any]) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}


def referenced_names(pod: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Names of the ConfigMaps and Secrets the pod's env and volumes use."""
    config_maps: set[str] = set()
    secrets: set[str] = set()
    spec = pod["spec"]
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                config_maps.add(source["configMapRef"]["name"])
            if "secretRef" in source:
                secrets.add(source["secretRef"]["name"])
        for var in container.get("env", []):
            value_from = var.get("valueFrom", {})
            if "configMapKeyRef" in value_from:
                config_maps.add(value_from["configMapKeyRef"]["name"])
            if "secretKeyRef" in value_from:
                secrets.add(value_from["secretKeyRef"]["name"])
    for volume in spec.get("volumes", []):
        if "configMap" in volume:
            config_maps.add(volume["configMap"]["name"])
        if "secret" in volume:
            secrets.add(volume["secret"]["secretName"])
        for source in volume.get("projected", {}).get("sources", []):
            if "configMap" in source:
                config_maps.add(source["configMap"]["name"])
            if "secret" in source:
                secrets.add(source["secret"]["name"])
    return config_maps, secrets


# --- environment -------------------------------------------------------------------------------

_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes $(VAR) expansion: defined names are replaced, $$ escapes, others stay as written."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _REFERENCE.sub(replace, text)


def _field_value(pod: dict[str, Any], path: str, pod_ip: str) -> str:
    meta = pod["metadata"]
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": pod["spec"].get("nodeName", ""),
        "spec.serviceAccountName": pod["spec"].get("serviceAccountName", ""),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": "127.0.0.1",
        "status.hostIPs": "127.0.0.1",
    }
    if path in simple:
        return simple[path]
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        return (meta.get(match.group(1)) or {}).get(match.group(2), "")
    if path in ("metadata.labels", "metadata.annotations"):
        items = sorted((meta.get(path.split(".")[1]) or {}).items())
        return "\n".join(f'{k}="{v}"' for k, v in items)
    raise PodConfigError("CreateContainerConfigError", f"fieldRef {path!r} is not supported")


def _key_ref(kind: str, ref: dict[str, Any], objects: Mapping[str, Mapping[str, bytes]]) -> str | None:
    data = objects.get(ref["name"])
    if data is None or ref["key"] not in data:
        if ref.get("optional"):
            return None
        missing = f"{kind} {ref['name']!r}" if data is None else f"key {ref['key']!r} in {kind} {ref['name']!r}"
        raise PodConfigError("CreateContainerConfigError", f"{missing} not found")
    return data[ref["key"]].decode()


def kubernetes_service_env(service_cidr: str) -> dict[str, str]:
    """What a kubelet gives every container about the API server's Service (default/kubernetes,
    the Service CIDR's first address, port 443), whatever enableServiceLinks says: in-cluster
    clients find the API server through KUBERNETES_SERVICE_HOST and _PORT."""
    host, port = str(next(ipaddress.ip_network(service_cidr).hosts())), "443"
    url = f"tcp://{host}:{port}"
    return {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port, "KUBERNETES_SERVICE_PORT_HTTPS": port,
            "KUBERNETES_PORT": url, f"KUBERNETES_PORT_{port}_TCP": url, f"KUBERNETES_PORT_{port}_TCP_PROTO": "tcp",
            f"KUBERNETES_PORT_{port}_TCP_PORT": port, f"KUBERNETES_PORT_{port}_TCP_ADDR": host}


def container_env(pod: dict[str, Any], container: dict[str, Any], objects: ReferencedObjects,
                  pod_ip: str, base: Mapping[str, str]) -> dict[str, str]:
    """The container's environment, in the kubelet's order: base, envFrom, then env (which may
    refer to earlier variables with $(NAME))."""
    env = dict(base)
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        for kind, key, table in (("ConfigMap", "configMapRef", objects.config_maps),
                                 ("Secret", "secretRef", objects.secrets)):
            if key in source:
                ref = source[key]
                data = table.get(ref["name"])
                if data is None:
                    if ref.get("optional"):
                        continue
                    raise PodConfigError("CreateContainerConfigError", f"{kind} {ref['name']!r} not found")
                env.update({prefix + k: v.decode() for k, v in data.items()})
    for var in container.get("env", []):
        value_from = var.get("valueFrom")
        if value_from is None:
            env[var["name"]] = expand(var.get("value", ""), env)
            continue
        if "fieldRef" in value_from:
            value = _field_value(pod, value_from["fieldRef"]["fieldPath"], pod_ip)
        elif "configMapKeyRef" in value_from:
            value = _key_ref("ConfigMap", value_from["configMapKeyRef"], objects.config_maps)
        elif "secretKeyRef" in value_from:
            value = _key_ref("Secret", value_from["secretKeyRef"], objects.secrets)
        elif "resourceFieldRef" in value_from:
            value = _resource_value(container, value_from["resourceFieldRef"])
        else:
            raise PodConfigError("CreateContainerConfigError", f"env {var['name']}: unsupported valueFrom")
        if value is not None:
            env[var["name"]] = value
    return env


def _resource_value(container: dict[str, Any], ref: dict[str, Any]) -> str:
    kind, _, resource = ref["resource"].partition(".")
    value = (container.get("resources", {}).get(kind) or {}).get(resource)
    return str(value) if value is not None else "0"


def container_argv(container: dict[str, Any], default_command: tuple[str, ...], env: Mapping[str, str]) -> list[str]:
    """command + args with $(VAR) expanded; the image's default command when none is given."""
    command = container.get("command") or list(default_command)
    args = container.get("args") or []
    return [expand(part, env) for part in [*command, *args]]


# --- volumes -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class VolumePlan:
    """How the node provides one volume: a host path, or a folder it fills with files."""

    name: str
    host_path: str | None = None
    files: Mapping[str, tuple[bytes, int]] | None = None  # relative path -> (content, mode)
    create_host_path: bool = False


def _items(data: Mapping[str, bytes], items: list[dict[str, Any]] | None, mode: int, kind: str, name: str,
           optional: bool) -> dict[str, tuple[bytes, int]]:
    if not items:
        return {key: (value, mode) for key, value in data.items()}
    files = {}
    for item in items:
        if item["key"] not in data:
            if optional:
                continue
            raise PodConfigError("CreateContainerConfigError", f"key {item['key']!r} not in {kind} {name!r}")
        files[item["path"]] = (data[item["key"]], item.get("mode", mode))
    return files


def _object_files(kind: str, ref: dict[str, Any], name: str, table: Mapping[str, Mapping[str, bytes]],
                  mode: int) -> dict[str, tuple[bytes, int]]:
    data = table.get(name)
    if data is None:
        if ref.get("optional"):
            return {}
        raise PodConfigError("CreateContainerConfigError", f"{kind} {name!r} not found")
    return _items(data, ref.get("items"), mode, kind, name, bool(ref.get("optional")))


def _downward_files(pod: dict[str, Any], items: list[dict[str, Any]], pod_ip: str, mode: int):
    files = {}
    for item in items:
        if "fieldRef" not in item:
            raise PodConfigError("CreateContainerConfigError", "downwardAPI supports fieldRef items only")
        value = _field_value(pod, item["fieldRef"]["fieldPath"], pod_ip).encode()
        files[item["path"]] = (value, item.get("mode", mode))
    return files


def volume_plans(pod: dict[str, Any], objects: ReferencedObjects, pod_ip: str) -> list[VolumePlan]:
    plans = []
    for volume in pod["spec"].get("volumes", []):
        name = volume["name"]
        kind = next((k for k in volume if k != "name"), "unknown")
        if kind == "emptyDir":
            plans.append(VolumePlan(name, files={}))
        elif kind == "hostPath":
            create = volume["hostPath"].get("type") in ("DirectoryOrCreate",)
            plans.append(VolumePlan(name, host_path=volume["hostPath"]["path"], create_host_path=create))
        elif kind == "configMap":
            ref = volume["configMap"]
            plans.append(VolumePlan(name, files=_object_files("ConfigMap", ref, ref["name"], objects.config_maps,
                                                              ref.get("defaultMode", 0o644))))
        elif kind == "secret":
            ref = volume["secret"]
            plans.append(VolumePlan(name, files=_object_files("Secret", ref, ref["secretName"], objects.secrets,
                                                              ref.get("defaultMode", 0o644))))
        elif kind == "downwardAPI":
            ref = volume["downwardAPI"]
            plans.append(VolumePlan(name, files=_downward_files(pod, ref.get("items", []), pod_ip,
                                                                ref.get("defaultMode", 0o644))))
        elif kind == "projected":
            plans.append(VolumePlan(name, files=_projected_files(pod, volume["projected"], objects, pod_ip)))
        else:
            raise PodConfigError(
                "VolumeNotSupportedLocally",
                f"volume {name!r} is of kind {kind}; the local node supports {', '.join(SUPPORTED_VOLUMES)}",
            )
    return plans


def _projected_files(pod, projected: dict[str, Any], objects: ReferencedObjects, pod_ip: str):
    mode = projected.get("defaultMode", 0o644)
    files: dict[str, tuple[bytes, int]] = {}
    for source in projected.get("sources", []):
        if "serviceAccountToken" in source:
            files[source["serviceAccountToken"]["path"]] = (objects.service_account_token.encode(), mode)
        elif "configMap" in source:
            ref = source["configMap"]
            files.update(_object_files("ConfigMap", ref, ref["name"], objects.config_maps, mode))
        elif "secret" in source:
            ref = source["secret"]
            files.update(_object_files("Secret", ref, ref["name"], objects.secrets, mode))
        elif "downwardAPI" in source:
            files.update(_downward_files(pod, source["downwardAPI"].get("items", []), pod_ip, mode))
        else:
            kind = next(iter(source), "unknown")
            raise PodConfigError("VolumeNotSupportedLocally", f"projected source {kind} is not supported locally")
    return files


def needs_service_account_token(pod: dict[str, Any]) -> dict[str, Any] | None:
    """The serviceAccountToken projection of the pod, if any (audience, expirationSeconds)."""
    for volume in pod["spec"].get("volumes", []):
        for source in volume.get("projected", {}).get("sources", []):
            if "serviceAccountToken" in source:
                return source["serviceAccountToken"]
    return None


@dataclass(frozen=True)
class Mount:
    source: str  # host path
    target: str  # path the container sees
    read_only: bool


def container_mounts(container: dict[str, Any], volume_dirs: Mapping[str, str], termination_file: str) -> list[Mount]:
    """Bind mounts for the container: its volumeMounts, and its termination message file."""
    mounts = []
    for mount in container.get("volumeMounts", []):
        if mount["name"] not in volume_dirs:
            raise PodConfigError("CreateContainerConfigError", f"volumeMount {mount['name']!r} names no volume")
        source = volume_dirs[mount["name"]]
        if mount.get("subPath"):
            source = posixpath.join(source, mount["subPath"])
        mounts.append(Mount(source, mount["mountPath"], bool(mount.get("readOnly"))))
    path = container.get("terminationMessagePath") or DEFAULT_TERMINATION_MESSAGE_PATH
    mounts.append(Mount(termination_file, path, False))
    return mounts
