"""The key and certificate chain Content Credentials are signed with.

A user's own certificate (a PEM chain, end-entity first, and its PEM private key) is used as
it is. Without one, a small local CA and an ES256 end-entity certificate are made on first
use with ``cryptography`` and kept in the user's data folder, so every take of one
installation carries the same signer. C2PA's validator (c2pa-rs) refuses a self-signed
signing certificate and wants, on the end entity: X.509 v3, key usage digitalSignature, an
extended key usage it accepts (here emailProtection and documentSigning), no CA flag, and
subject and authority key identifiers. Such local credentials validate, but public
validators show them as from an "unverified signer": no trust list knows the local CA.
Nothing here uses the network (no timestamp authority).
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from ..errors import MarkError

CHAIN_FILE = "signing-chain.pem"  # end-entity certificate, then the local CA
KEY_FILE = "signing-key.pem"
CA_KEY_FILE = "ca-key.pem"
NOTE_FILE = "README.txt"
NOTE = (
    "Content Credentials signing key made by the talking-head engine on first use.\n"
    "Files made with it carry valid C2PA manifests, but public validators (e.g.\n"
    "contentcredentials.org/verify) show them as from an 'unverified signer': no trust\n"
    "list knows this local certificate authority. To sign as yourself, configure a\n"
    "certificate from a CA on the C2PA trust list (a PEM chain and its private key).\n"
    "Keep signing-key.pem and ca-key.pem private.\n"
)
_VALID_YEARS = 10


@dataclass(frozen=True)
class SigningKey:
    """PEM bytes of a certificate chain (end-entity first) and its private key."""

    chain_pem: bytes
    key_pem: bytes
    local: bool  # generated on this machine: public validators call it "unverified signer"
    source: str  # where it was read from (for messages)


def default_folder() -> Path:
    """``$XDG_DATA_HOME/talking-head/credentials`` (default ``~/.local/share/...``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "talking-head" / "credentials"


def configured_key(chain: Path, key: Path) -> SigningKey:
    """The user's own certificate chain and key; MarkError when either cannot be read."""
    try:
        chain_pem, key_pem = chain.read_bytes(), key.read_bytes()
    except OSError as exc:
        raise MarkError(
            f"The signing certificate or key cannot be read ({exc.strerror or exc}: "
            f"{exc.filename}); give a PEM certificate chain and its PEM private key."
        ) from exc
    if b"-----BEGIN CERTIFICATE-----" not in chain_pem or b"PRIVATE KEY-----" not in key_pem:
        raise MarkError(
            f"{chain.name} and {key.name} are not a PEM certificate chain and a PEM private "
            "key; give the chain (end-entity certificate first) and its key in PEM."
        )
    return SigningKey(chain_pem, key_pem, False, str(chain))


def local_key(folder: Path | None = None) -> SigningKey:
    """The local signing key in ``folder`` (default ``default_folder()``), made on first
    use."""
    folder = folder or default_folder()
    chain, key = folder / CHAIN_FILE, folder / KEY_FILE
    if not (chain.is_file() and key.is_file()):
        _make_local(folder)
    return SigningKey(chain.read_bytes(), key.read_bytes(), True, str(folder))


def _make_local(folder: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MarkError(
            f"The credentials folder {folder} cannot be made ({exc.strerror or exc}); choose "
            "a writable folder or configure a signing certificate."
        ) from exc
    who = _who()
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    until = now + dt.timedelta(days=365 * _VALID_YEARS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{who} local talking-head CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "talking-head (local, unverified)"),
        ]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ee_key = ec.generate_private_key(ec.SECP256R1())
    ee = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{who} (talking-head, local)"),
                    x509.NameAttribute(
                        NameOID.ORGANIZATION_NAME, "talking-head (local, unverified)"
                    ),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(ee_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.EMAIL_PROTECTION, x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")]
            ),
            critical=False,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ee_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    def pem_key(k) -> bytes:
        return k.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    pem = serialization.Encoding.PEM
    _write_private(folder / CA_KEY_FILE, pem_key(ca_key))
    _write_private(folder / KEY_FILE, pem_key(ee_key))
    (folder / NOTE_FILE).write_text(NOTE)
    # The chain last: its presence says the set is complete (a crash before leaves none).
    _write_private(folder / CHAIN_FILE, ee.public_bytes(pem) + ca.public_bytes(pem), 0o644)


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name (some containers)
        user = "user"
    return f"{user}@{platform.node() or 'localhost'}"


CHAIN_ENV, KEY_ENV = "TALKING_HEAD_SIGNING_CHAIN", "TALKING_HEAD_SIGNING_KEY"


def signing_key(folder: Path | None = None) -> SigningKey:
    """The user's certificate when ``$TALKING_HEAD_SIGNING_CHAIN`` and
    ``$TALKING_HEAD_SIGNING_KEY`` name one, else the local key in ``folder``."""
    chain, key = os.environ.get(CHAIN_ENV), os.environ.get(KEY_ENV)
    if chain or key:
        if not (chain and key):
            raise MarkError(
                f"Set both {CHAIN_ENV} and {KEY_ENV} (a PEM certificate chain and its key), "
                "or neither to sign with the local key."
            )
        return configured_key(Path(chain), Path(key))
    return local_key(folder)
