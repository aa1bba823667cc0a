"""The Apple Wallet credentials: the Pass Type ID certificate and key that sign every pass and
authenticate the APNs pushes, and Apple's WWDR intermediate that goes into every signature.

`load_credentials()` reads them once at start-up and refuses a set that Wallet would reject
(a certificate for another pass type, a WWDR that did not issue it, an expired certificate, a
key that does not match), so a mistake shows when the app starts, not when a customer's iPhone
silently refuses a pass. `make_dev_certificates()` builds a stand-in chain (a local root, a
"WWDR" intermediate, a pass certificate) for development and the tests: passes signed with it
verify with openssl against that root, though no iPhone accepts them.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..clock import utcnow

# The settings that together configure Apple Wallet; all or none must be set.
REQUIRED_SETTINGS = (
    "APPLE_PASS_TYPE_IDENTIFIER",
    "APPLE_TEAM_IDENTIFIER",
    "APPLE_PASS_CERTIFICATE",
    "APPLE_PASS_KEY",
    "APPLE_WWDR_CERTIFICATE",
)
PRODUCTION_APNS_URL = "https://api.push.apple.com"
DEV_PASS_TYPE_IDENTIFIER = "pass.dev.loyalty-portal"
DEV_TEAM_IDENTIFIER = "DEVTEAM001"


class AppleWalletConfigurationError(RuntimeError):
    """The Apple Wallet settings or certificates cannot work; the message says how to fix them.
    Raised at start-up (create_app) and by `flask loyalty apple check`."""


@dataclass(frozen=True)
class AppleCredentials:
    pass_type_identifier: str
    team_identifier: str
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey
    wwdr_certificate: x509.Certificate
    certificate_path: str
    key_path: str
    key_password: str | None
    apns_url: str
    apns_ca_file: str | None

    @property
    def expires_at(self) -> datetime:
        return self.certificate.not_valid_after_utc


def load_credentials(config) -> AppleCredentials | None:
    """The checked credentials from the app's settings, or None when Apple Wallet is not
    configured at all. Raises AppleWalletConfigurationError for a partial or inconsistent set."""
    present = [name for name in REQUIRED_SETTINGS if config.get(name)]
    if not present:
        return None
    missing = [name for name in REQUIRED_SETTINGS if not config.get(name)]
    if missing:
        raise AppleWalletConfigurationError(
            f"Apple Wallet is half configured: {', '.join(present)} set but {', '.join(missing)}"
            " missing. Set all of them, or none to turn Apple Wallet off (docs/wallets.md)."
        )
    pass_type_identifier = config["APPLE_PASS_TYPE_IDENTIFIER"]
    team_identifier = config["APPLE_TEAM_IDENTIFIER"]
    password = config.get("APPLE_PASS_KEY_PASSWORD") or None
    certificate = _read_certificate(config["APPLE_PASS_CERTIFICATE"], "APPLE_PASS_CERTIFICATE")
    wwdr = _read_certificate(config["APPLE_WWDR_CERTIFICATE"], "APPLE_WWDR_CERTIFICATE")
    private_key = _read_private_key(config["APPLE_PASS_KEY"], password)
    check_credentials(certificate, private_key, wwdr, pass_type_identifier, team_identifier)
    _check_public_base_url(config)
    return AppleCredentials(
        pass_type_identifier=pass_type_identifier,
        team_identifier=team_identifier,
        certificate=certificate,
        private_key=private_key,
        wwdr_certificate=wwdr,
        certificate_path=config["APPLE_PASS_CERTIFICATE"],
        key_path=config["APPLE_PASS_KEY"],
        key_password=password,
        apns_url=(config.get("APPLE_APNS_URL") or PRODUCTION_APNS_URL).rstrip("/"),
        apns_ca_file=config.get("APPLE_APNS_CA_FILE") or None,
    )


def check_credentials(
    certificate: x509.Certificate,
    private_key,
    wwdr: x509.Certificate,
    pass_type_identifier: str,
    team_identifier: str,
) -> None:
    """Refuse what Wallet would refuse. Raises AppleWalletConfigurationError."""
    uid = _name_value(certificate.subject, NameOID.USER_ID)
    if uid != pass_type_identifier:
        raise AppleWalletConfigurationError(
            f"APPLE_PASS_CERTIFICATE is for the pass type {uid!r}, not for"
            f" APPLE_PASS_TYPE_IDENTIFIER {pass_type_identifier!r}: download the certificate of"
            " this Pass Type ID, or set the identifier the certificate names."
        )
    team = _name_value(certificate.subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
    if team is not None and team != team_identifier:
        raise AppleWalletConfigurationError(
            f"APPLE_PASS_CERTIFICATE belongs to the team {team!r}, not to APPLE_TEAM_IDENTIFIER"
            f" {team_identifier!r}."
        )
    if certificate.issuer != wwdr.subject:
        raise AppleWalletConfigurationError(
            "APPLE_WWDR_CERTIFICATE did not issue APPLE_PASS_CERTIFICATE (issuer"
            f" {certificate.issuer.rfc4514_string()!r}); current Pass Type ID certificates need"
            " Apple's WWDR G4 intermediate (docs/wallets.md)."
        )
    try:
        certificate.verify_directly_issued_by(wwdr)
    except (InvalidSignature, ValueError, TypeError) as error:
        raise AppleWalletConfigurationError(
            f"APPLE_PASS_CERTIFICATE's signature does not verify with APPLE_WWDR_CERTIFICATE:"
            f" {error or type(error).__name__}."
        ) from error
    now = utcnow()
    for name, cert in (("APPLE_PASS_CERTIFICATE", certificate), ("APPLE_WWDR_CERTIFICATE", wwdr)):
        if cert.not_valid_after_utc <= now:
            raise AppleWalletConfigurationError(
                f"{name} expired on {cert.not_valid_after_utc:%Y-%m-%d}: renew it in Apple's"
                " developer portal."
            )
        if cert.not_valid_before_utc > now:
            raise AppleWalletConfigurationError(
                f"{name} is valid only from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC."
            )
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise AppleWalletConfigurationError("APPLE_PASS_KEY must be an RSA private key.")
    if private_key.public_key().public_numbers() != certificate.public_key().public_numbers():
        raise AppleWalletConfigurationError(
            "APPLE_PASS_KEY is not the key of APPLE_PASS_CERTIFICATE."
        )


def _check_public_base_url(config) -> None:
    """Wallet talks to webServiceURL over https only (an iPhone's developer settings can allow
    http for testing): refuse http unless it is the loopback or explicitly allowed."""
    base = config.get("PUBLIC_BASE_URL", "")
    if base.startswith("https://") or config.get("APPLE_WALLET_ALLOW_HTTP"):
        return
    host = base.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    if host in ("127.0.0.1", "localhost", "[::1]"):
        return
    raise AppleWalletConfigurationError(
        f"PUBLIC_BASE_URL {base!r} is not https: Wallet only updates passes over https. Use an"
        " https address, or set APPLE_WALLET_ALLOW_HTTP=1 to test with an iPhone whose developer"
        " settings allow http services."
    )


def _name_value(name: x509.Name, oid) -> str | None:
    attributes = name.get_attributes_for_oid(oid)
    return str(attributes[0].value) if attributes else None


def _read_certificate(path: str, setting: str) -> x509.Certificate:
    data = _read(path, setting)
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)  # Apple's downloads are DER (.cer)
    except ValueError as error:
        raise AppleWalletConfigurationError(
            f"{setting} ({path}) is not a PEM or DER certificate: {error}"
        ) from error


def _read_private_key(path: str, password: str | None):
    data = _read(path, "APPLE_PASS_KEY")
    try:
        return serialization.load_pem_private_key(
            data, password.encode() if password is not None else None
        )
    except (ValueError, TypeError) as error:
        raise AppleWalletConfigurationError(
            f"APPLE_PASS_KEY ({path}) cannot be read (a PEM key; APPLE_PASS_KEY_PASSWORD if it is"
            f" encrypted): {error}"
        ) from error


def _read(path: str, setting: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise AppleWalletConfigurationError(f"{setting}: cannot read {path}: {error}") from error


def pem_certificate_file(credentials: AppleCredentials) -> str:
    """A path to the pass certificate in PEM (what ssl.load_cert_chain needs): the configured
    file when it is PEM already, else a PEM copy in a private temporary file."""
    if b"-----BEGIN" in Path(credentials.certificate_path).read_bytes():
        return credentials.certificate_path
    handle, path = tempfile.mkstemp(prefix="apple-pass-", suffix=".pem")
    with os.fdopen(handle, "wb") as file:
        file.write(credentials.certificate.public_bytes(serialization.Encoding.PEM))
    return path


# Development and test certificates -------------------------------------------------------------


@dataclass(frozen=True)
class DevCertificates:
    """A stand-in for Apple's chain: root CA -> "WWDR" intermediate -> Pass Type ID certificate."""

    root: x509.Certificate
    root_key: rsa.RSAPrivateKey
    wwdr: x509.Certificate
    wwdr_key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    def write(self, directory: Path, key_password: str | None = None) -> dict[str, str]:
        """Write ca.pem, wwdr.pem, pass.pem and pass-key.pem; return the settings naming them."""
        directory.mkdir(parents=True, exist_ok=True)
        files = {
            "ca.pem": _pem(self.root),
            "wwdr.pem": _pem(self.wwdr),
            "pass.pem": _pem(self.certificate),
            "pass-key.pem": self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(key_password.encode())
                if key_password
                else serialization.NoEncryption(),
            ),
        }
        for name, data in files.items():
            path = directory / name
            path.write_bytes(data)
            if name.endswith("key.pem"):
                path.chmod(0o600)
        settings = {
            "APPLE_PASS_TYPE_IDENTIFIER": _name_value(self.certificate.subject, NameOID.USER_ID),
            "APPLE_TEAM_IDENTIFIER": _name_value(
                self.certificate.subject, NameOID.ORGANIZATIONAL_UNIT_NAME
            ),
            "APPLE_PASS_CERTIFICATE": str(directory / "pass.pem"),
            "APPLE_PASS_KEY": str(directory / "pass-key.pem"),
            "APPLE_WWDR_CERTIFICATE": str(directory / "wwdr.pem"),
        }
        if key_password:
            settings["APPLE_PASS_KEY_PASSWORD"] = key_password
        return settings


def make_dev_certificates(
    pass_type_identifier: str = DEV_PASS_TYPE_IDENTIFIER,
    team_identifier: str = DEV_TEAM_IDENTIFIER,
    *,
    valid_days: int = 365,
    not_before: datetime | None = None,
) -> DevCertificates:
    """A fresh root, "WWDR" intermediate and Pass Type ID certificate named like Apple's."""
    start = not_before or utcnow() - timedelta(minutes=5)
    end = start + timedelta(days=valid_days)
    root_key, wwdr_key, key = (_rsa_key() for _ in range(3))
    root_name = _name(CN="Loyalty Portal Development Root CA", O="Loyalty Portal (development)")
    root = _issue(root_name, root_key, root_name, root_key, start, end, ca=True)
    wwdr_name = _name(
        CN="Development stand-in for Apple WWDR Certification Authority",
        OU="G4",
        O="Loyalty Portal (development)",
    )
    wwdr = _issue(wwdr_name, wwdr_key, root_name, root_key, start, end, ca=True)
    pass_name = x509.Name(
        [
            x509.NameAttribute(NameOID.USER_ID, pass_type_identifier),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Pass Type ID: {pass_type_identifier}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, team_identifier),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Loyalty Portal (development)"),
        ]
    )
    certificate = _issue(pass_name, key, wwdr_name, wwdr_key, start, end, ca=False)
    return DevCertificates(root, root_key, wwdr, wwdr_key, certificate, key)


def dev_settings(directory: Path) -> dict[str, str]:
    """The settings naming the files `DevCertificates.write()` left in `directory`."""
    certificate = x509.load_pem_x509_certificate((directory / "pass.pem").read_bytes())
    return {
        "APPLE_PASS_TYPE_IDENTIFIER": _name_value(certificate.subject, NameOID.USER_ID),
        "APPLE_TEAM_IDENTIFIER": _name_value(
            certificate.subject, NameOID.ORGANIZATIONAL_UNIT_NAME
        ),
        "APPLE_PASS_CERTIFICATE": str(directory / "pass.pem"),
        "APPLE_PASS_KEY": str(directory / "pass-key.pem"),
        "APPLE_WWDR_CERTIFICATE": str(directory / "wwdr.pem"),
    }


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(**parts: str) -> x509.Name:
    oids = {"CN": NameOID.COMMON_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
            "O": NameOID.ORGANIZATION_NAME}
    return x509.Name([x509.NameAttribute(oids[key], value) for key, value in parts.items()])


def _issue(subject, subject_key, issuer, issuer_key, start, end, *, ca):
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True
        ).add_extension(
            x509.ExtendedKeyUsage(
                # TLS client (APNs) and signing (openssl's S/MIME purpose check).
                [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]
            ),
            False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)
