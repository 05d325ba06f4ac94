"""The node's kubelet-like logs endpoint: kubectl logs goes API server -> here.

Serves /containerLogs/{namespace}/{pod}/{container} over TLS on 127.0.0.1 with `tailLines`,
`previous` and `follow`, from the files the pod workers write under the node's logs folder. The
API server dials the Node's address (127.0.0.1) from its own network namespace: when it runs in
one (the local cluster's control-plane namespace), the endpoint listens on that namespace's
loopback, through a socket created there (netns.py), while the agent stays in the host's."""

from __future__ import annotations

import asyncio
import socket
import ssl
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from . import netns

FOLLOW_POLL_SECONDS = 0.5


def self_signed_context(host: str) -> ssl.SSLContext:
    """A TLS context for the logs endpoint; kube-apiserver does not verify kubelet certificates
    unless --kubelet-certificate-authority is set, which the local cluster leaves unset."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now.replace(year=now.year + 1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), False)
            .sign(key, hashes.SHA256()))
    folder = Path(tempfile.mkdtemp(prefix="localnode-tls-"))
    (folder / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "tls.crt", folder / "tls.key")
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    return context


class LogsEndpoint:
    """`is_running(namespace, pod, container)` tells a follow when the container has ended."""

    def __init__(self, logs_dir: Path, is_running: Callable[[str, str, str], bool]):
        self.logs_dir = logs_dir
        self.is_running = is_running
        self.port = 0
        self._runner: web.AppRunner | None = None

    def log_file(self, namespace: str, pod: str, container: str, previous: bool) -> Path | None:
        folders = sorted(self.logs_dir.glob(f"{namespace}_{pod}_*"), key=lambda p: p.stat().st_mtime)
        if not folders:
            return None
        files = sorted((folders[-1] / container).glob("*.log"), key=lambda p: int(p.stem))
        if previous:
            return files[-2] if len(files) > 1 else None
        return files[-1] if files else None

    async def container_logs(self, request: web.Request) -> web.StreamResponse:
        namespace, pod, container = (request.match_info[k] for k in ("namespace", "pod", "container"))
        path = self.log_file(namespace, pod, container, request.query.get("previous") == "true")
        if path is None:
            return web.Response(status=404, text=f"no logs for container {container} of pod {namespace}/{pod}\n")
        data = path.read_bytes()
        if "tailLines" in request.query:
            lines = data.splitlines(keepends=True)
            data = b"".join(lines[-int(request.query["tailLines"]):]) if int(request.query["tailLines"]) else b""
        if request.query.get("follow") != "true":
            return web.Response(body=data, content_type="text/plain")
        response = web.StreamResponse()
        response.content_type = "text/plain"
        await response.prepare(request)
        await response.write(data)
        offset = path.stat().st_size
        while self.is_running(namespace, pod, container):
            await asyncio.sleep(FOLLOW_POLL_SECONDS)
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
            offset += len(chunk)
            if chunk:
                await response.write(chunk)
        return response

    async def start(self, namespace: str | None = None) -> int:
        """Listens on a free port of 127.0.0.1, the host's or the named network namespace's;
        returns the port."""
        app = web.Application()
        app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self.container_logs)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        listener = netns.socket_in(namespace) if namespace else socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        await web.SockSite(self._runner, listener, ssl_context=self_signed_context("127.0.0.1")).start()
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
