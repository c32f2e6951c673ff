"""The deployment's certificate authority: what nodes trust and what proves who they are.

Generated per install under `<data_dir>/pki` (the key 0600, never printed). It signs one
certificate per node (CN = the node's name, its address as a SAN; usable as client and server),
which the OVN southbound DB's TLS listener and libvirt's TLS migration channel check
(docs/nodes.md). ECDSA P-256: small and fast, understood by OpenSSL (OVS) and GnuTLS (libvirt).
A node's key goes into its bundle only; the first host keeps the certificate, for revocation.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import write_if_changed

CA_DAYS = 3650
NODE_DAYS = 1825


@dataclass(frozen=True)
class Issued:
    certificate: str  # PEM
    key: str  # PEM (PKCS#8, unencrypted: the bundle itself is the secret, 0600)
    serial: int


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _name(common: str, deployment: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"hotstack {deployment}"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Authority:
    """The CA in `directory` (ca.key, ca.crt), made on first use."""

    def __init__(self, directory: Path, deployment: str) -> None:
        self.directory, self.deployment = directory, deployment

    @property
    def cert_file(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def key_file(self) -> Path:
        return self.directory / "ca.key"

    def ensure(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        if self.cert_file.exists() and self.key_file.exists():
            return self._load()
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(f"hotstack {self.deployment} CA", self.deployment)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(_now())
                .not_valid_after(_now() + datetime.timedelta(days=CA_DAYS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
        write_if_changed(self.key_file, _pem_key(key), mode=0o600)
        write_if_changed(self.cert_file, cert.public_bytes(serialization.Encoding.PEM).decode(), mode=0o644)
        return cert, key

    def _load(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        try:
            cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
            key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
        except ValueError as exc:
            raise HotstackError(f"the certificate authority in {self.directory} is damaged: {exc}",
                                hint="restore it from a backup; every node's certificate hangs on it") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise HotstackError(f"{self.key_file} is not hotstack's CA key")
        return cert, key

    def ca_pem(self) -> str:
        return self.ensure()[0].public_bytes(serialization.Encoding.PEM).decode()

    def issue(self, common: str, address: str) -> Issued:
        """A certificate for `common` (a node, or the control plane) at `address`; its copy is kept."""
        ca, ca_key = self.ensure()
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(_name(common, self.deployment)).issuer_name(ca.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(_now()).not_valid_after(_now() + datetime.timedelta(days=NODE_DAYS))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(common),
                                                            x509.IPAddress(ipaddress.ip_address(address))]),
                               critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH,
                                                      ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        write_if_changed(self.directory / "issued" / f"{common}.crt", pem, mode=0o644)
        return Issued(pem, _pem_key(key), cert.serial_number)

    def server_dir(self, common: str) -> Path:
        """A control-plane listener's files (ca.crt, server.crt, server.key), mounted read-only."""
        return self.directory / "server" / common

    def ensure_server(self, common: str, address: str) -> Path:
        """The listener's certificate, issued once for its address (again when the address moved)."""
        folder = self.server_dir(common)
        cert_file, key_file = folder / "server.crt", folder / "server.key"
        current = None
        if cert_file.exists() and key_file.exists():
            current = x509.load_pem_x509_certificate(cert_file.read_bytes())
        wanted = ipaddress.ip_address(address)
        if current is None or wanted not in current.extensions.get_extension_for_class(
                x509.SubjectAlternativeName).value.get_values_for_type(x509.IPAddress):
            issued = self.issue(common, address)
            write_if_changed(key_file, issued.key, mode=0o600)
            write_if_changed(cert_file, issued.certificate, mode=0o644)
        write_if_changed(folder / "ca.crt", self.ca_pem(), mode=0o644)
        client_names(folder, "server")
        return folder


def client_names(folder: Path, own: str) -> None:
    """The names libvirt's TLS client looks for in a `pkipath` directory, as links to the files
    (`own`.crt, `own`.key, ca.crt): node one's libvirtd and a pod's reach their peers with them."""
    for link, target in (("cacert.pem", "ca.crt"), ("clientcert.pem", f"{own}.crt"), ("clientkey.pem", f"{own}.key")):
        path = folder / link
        if not path.is_symlink():
            path.unlink(missing_ok=True)
            path.symlink_to(target)
