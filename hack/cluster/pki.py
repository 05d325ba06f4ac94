"""The local cluster's PKI: one CA, the API server's serving certificate, the client certificates
of the admin (O=system:masters) and of kube-proxy (CN=system:kube-proxy, which the default
ClusterRoleBinding system:node-proxier authorizes), the ServiceAccount signing key, and
kubeconfigs.

Needs `cryptography`; only `up` imports it."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

API_SERVER_NAMES = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                    "kubernetes.default.svc.cluster.local")


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _certificate(subject: x509.Name, key, issuer: x509.Name, issuer_key, *, ca: bool,
                 sans: list[x509.GeneralName] | None = None, client: bool = False) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _client(subject: list[x509.NameAttribute], ca_name: x509.Name,
            ca_key) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = _key()
    return _certificate(x509.Name(subject), key, ca_name, ca_key, ca=False, client=True), key


def write_pki(pki: Path, first_service_ip: str, server_address: str) -> None:
    """Writes a fresh PKI into the folder pki (files readable by the owner only). The API server's
    certificate names server_address (where it listens) and first_service_ip (the `kubernetes`
    Service's ClusterIP, through which pods reach it)."""
    pki.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mlops-local-ca")])
    ca = _certificate(ca_name, ca_key, ca_name, ca_key, ca=True)

    server_key = _key()
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in API_SERVER_NAMES]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in (server_address, first_service_ip)]
    server = _certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
                          server_key, ca_name, ca_key, ca=False, sans=sans)

    admin, admin_key = _client([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                                x509.NameAttribute(NameOID.COMMON_NAME, "admin")], ca_name, ca_key)
    proxy, proxy_key = _client([x509.NameAttribute(NameOID.COMMON_NAME, "system:kube-proxy")], ca_name, ca_key)

    sa_key = _key()
    files = {
        "ca.crt": _pem_cert(ca), "ca.key": _pem_key(ca_key),
        "apiserver.crt": _pem_cert(server), "apiserver.key": _pem_key(server_key),
        "admin.crt": _pem_cert(admin), "admin.key": _pem_key(admin_key),
        "kube-proxy.crt": _pem_cert(proxy), "kube-proxy.key": _pem_key(proxy_key),
        "sa.key": _pem_key(sa_key),
        "sa.pub": sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo),
    }
    for name, data in files.items():
        (pki / name).write_bytes(data)
        (pki / name).chmod(0o600)


def write_kubeconfig(path: Path, server: str, pki: Path, user: str = "admin") -> None:
    """A kubeconfig for the user whose client certificate is pki/USER.crt (the admin by default),
    certificates inlined."""

    def b64(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "mlops-local",
        "clusters": [{"name": "mlops-local",
                      "cluster": {"server": server, "certificate-authority-data": b64("ca.crt")}}],
        "users": [{"name": user, "user": {"client-certificate-data": b64(f"{user}.crt"),
                                          "client-key-data": b64(f"{user}.key")}}],
        "contexts": [{"name": "mlops-local", "context": {"cluster": "mlops-local", "user": user}}],
    }
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)


def write_user_kubeconfig(path: Path, server: str, pki: Path, user: str) -> None:
    """A kubeconfig for `user` (a certificate's CN: a user of no group but system:authenticated,
    whose rights are the RBAC bindings naming it), its certificate signed by the cluster's CA now:
    an identity of its own for the API server's audit log."""
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), password=None)
    ca_name = x509.load_pem_x509_certificate((pki / "ca.crt").read_bytes()).subject
    cert, key = _client([x509.NameAttribute(NameOID.COMMON_NAME, user)], ca_name, ca_key)
    for name, data in {f"{user}.crt": _pem_cert(cert), f"{user}.key": _pem_key(key)}.items():
        (pki / name).write_bytes(data)
        (pki / name).chmod(0o600)
    write_kubeconfig(path, server, pki, user=user)
