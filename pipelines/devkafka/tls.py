"""Throw-away TLS material for the local broker: a CA, a broker keystore, a truststore and a client certificate.

The broker (Java) reads PKCS12 stores made with ``keytool``; kafka-python reads PEM, so the CA and the client
certificate and key are also written as PEM (the key through ``openssl``, since keytool cannot export keys).
Passwords reach the tools through the environment, never the command line.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.devkafka.broker import SslListener
from transforms.settings import KafkaSettings

_PASSWORD_ENV = "NEWSFLOW_TLS_STOREPASS"
_FAST_JVM = ("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC")  # keytool runs for a moment: start fast


@dataclass(frozen=True)
class TlsMaterial:
    """Paths of the files :func:`make_tls_material` wrote, and the one password of all the stores."""

    directory: Path
    password: str = field(repr=False)

    @property
    def ca_pem(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def keystore(self) -> Path:
        return self.directory / "broker.p12"

    @property
    def truststore(self) -> Path:
        return self.directory / "truststore.p12"

    @property
    def client_cert_pem(self) -> Path:
        return self.directory / "client.pem"

    @property
    def client_key_pem(self) -> Path:
        return self.directory / "client.key"

    def listener(self, port: int, client_auth: str = "none") -> SslListener:
        """The broker's SSL listener on ``port``; ``client_auth="required"`` asks for mutual TLS."""
        return SslListener(
            port=port,
            keystore=self.keystore,
            password=self.password,
            truststore=self.truststore,
            client_auth=client_auth,
        )

    def client_settings(self, bootstrap: str, *, mutual: bool = False) -> KafkaSettings:
        """Settings for a client that trusts this CA and, if ``mutual``, presents the client certificate."""
        return KafkaSettings(
            bootstrap_servers=bootstrap,
            security_protocol="SSL",
            ssl_cafile=str(self.ca_pem),
            ssl_certfile=str(self.client_cert_pem) if mutual else None,
            ssl_keyfile=str(self.client_key_pem) if mutual else None,
        )


def make_tls_material(
    directory: Path | str,
    *,
    hosts: Sequence[str] = ("localhost", "127.0.0.1"),
    days: int = 30,
    password: str | None = None,
) -> TlsMaterial:
    """Create a CA and sign a broker certificate for ``hosts`` and a client certificate with it.

    ``directory`` must be new or empty. EC P-256 keys; takes a few seconds, as each ``keytool`` starts a JVM.
    """
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty")
    material = TlsMaterial(directory=directory, password=password or secrets.token_urlsafe(18))
    env = {**os.environ, _PASSWORD_ENV: material.password}
    san = ",".join(f"ip:{h}" if _is_ip(h) else f"dns:{h}" for h in hosts)
    ca, broker, client = directory / "ca.p12", material.keystore, directory / "client.p12"
    key = ("-keyalg", "EC", "-groupname", "secp256r1", "-validity", str(days))
    trust_ca = ("-importcert", "-noprompt", "-alias", "ca", "-file", str(material.ca_pem))

    def keytool(keystore: Path, *args: str) -> None:
        store = ("-keystore", str(keystore), "-storetype", "PKCS12", "-storepass:env", _PASSWORD_ENV)
        _run(["keytool", *_FAST_JVM, *args, *store], env, directory)

    def signed_keystore(path: Path, cn: str, usage: str, *ext: str) -> None:
        csr, crt = str(path.with_suffix(".csr")), str(path.with_suffix(".crt"))
        keytool(path, "-genkeypair", "-alias", "me", "-dname", f"CN={cn}", *key)
        keytool(path, "-certreq", "-alias", "me", "-file", csr)
        sign = ("-infile", csr, "-outfile", crt, "-validity", str(days), "-ext", f"eku={usage}", *ext)
        keytool(ca, "-gencert", "-rfc", "-alias", "ca", *sign)
        keytool(path, *trust_ca)
        keytool(path, "-importcert", "-alias", "me", "-file", crt)
        Path(csr).unlink()

    keytool(ca, "-genkeypair", "-alias", "ca", "-dname", "CN=newsflow test CA", "-ext", "bc:c", *key)
    keytool(ca, "-exportcert", "-rfc", "-alias", "ca", "-file", str(material.ca_pem))
    with ThreadPoolExecutor(max_workers=2) as pool:  # independent JVMs: halves the wall time on 2 cores
        jobs = [
            pool.submit(signed_keystore, broker, hosts[0], "serverAuth", "-ext", f"san={san}"),
            pool.submit(signed_keystore, client, "newsflow-client", "clientAuth"),
            pool.submit(keytool, material.truststore, *trust_ca),
        ]
        for job in jobs:
            job.result()
    pkcs12 = ["openssl", "pkcs12", "-in", str(client), "-passin", f"env:{_PASSWORD_ENV}"]
    _run([*pkcs12, "-clcerts", "-nokeys", "-out", str(material.client_cert_pem)], env, directory)
    _run([*pkcs12, "-nocerts", "-nodes", "-out", str(material.client_key_pem)], env, directory)
    material.client_key_pem.chmod(0o600)
    return material


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _run(command: list[str], env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{command[0]} {command[1]} failed: {result.stderr.strip() or result.stdout.strip()}"
        )
