"""The TLS certificate HAProxy serves: read the PEM bundle, check names and validity.

Only the ``CERTIFICATE`` blocks are handed to ``cryptography``; a private key in the same
file (HAProxy's usual ``crt`` bundle) is noted as present and never parsed or printed.
Pure functions; the tests generate their certificates with ``cryptography``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

from jaraba_tui.verify.model import Outcome, verdict

_CERT_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----"
)
_KEY_MARKER = re.compile(r"-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----")


class CertificateError(ValueError):
    pass


@dataclass(frozen=True)
class CertFacts:
    subject_cn: str | None
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    has_san: bool
    not_before: datetime
    not_after: datetime
    chain_length: int
    has_private_key: bool
    issuer: str

    @property
    def san_text(self) -> str:
        parts = [f"DNS:{d}" for d in self.dns_names] + [f"IP:{i}" for i in self.ip_addresses]
        return ", ".join(parts) if parts else "none"


def read_bundle(pem: str) -> CertFacts:
    """Facts of the first (leaf) certificate of a PEM bundle."""
    blocks = _CERT_BLOCK.findall(pem)
    if not blocks:
        raise CertificateError("no PEM certificate in the file")
    try:
        certs = [x509.load_pem_x509_certificate(b.encode("ascii")) for b in blocks]
    except ValueError as exc:
        raise CertificateError(f"unreadable certificate: {exc}") from None
    leaf = certs[0]
    cns = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer_cn = leaf.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    has_san = True
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = tuple(str(d) for d in san.get_values_for_type(x509.DNSName))
        ips = tuple(str(i) for i in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        has_san = False
    return CertFacts(
        subject_cn=str(cns[0].value) if cns else None,
        dns_names=dns,
        ip_addresses=ips,
        has_san=has_san,
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        chain_length=len(certs),
        has_private_key=bool(_KEY_MARKER.search(pem)),
        issuer=str(issuer_cn[0].value) if issuer_cn else leaf.issuer.rfc4514_string(),
    )


def wildcard_match(pattern: str, hostname: str) -> bool:
    """RFC 6125: a ``*`` only as the whole left-most label, matching exactly one label."""
    p = pattern.rstrip(".").lower()
    h = hostname.rstrip(".").lower()
    if "*" not in p:
        return p == h
    plabels, hlabels = p.split("."), h.split(".")
    if plabels[0] != "*" or "*" in ".".join(plabels[1:]) or len(plabels) < 3:
        return False  # "*.com" and "a*.x.y" are not honoured
    return len(hlabels) == len(plabels) and hlabels[1:] == plabels[1:] and hlabels[0] != ""


def covering_name(facts: CertFacts, hostname: str) -> str | None:
    """The certificate entry that covers ``hostname`` (``DNS:*.jaraba.io``), or None.

    Names are matched against the subjectAltName only, as browsers do; the subject CN is
    used only when the certificate has no subjectAltName at all (legacy)."""
    try:
        ip = ipaddress.ip_address(hostname)
    except ValueError:
        ip = None
    if ip is not None:
        for entry in facts.ip_addresses:
            if ipaddress.ip_address(entry) == ip:
                return f"IP:{entry}"
        return None
    for name in facts.dns_names:
        if wildcard_match(name, hostname):
            return f"DNS:{name}"
    if not facts.has_san and facts.subject_cn and wildcard_match(facts.subject_cn, hostname):
        return f"CN={facts.subject_cn} (no subjectAltName)"
    return None


def evaluate(
    facts: CertFacts, hostnames: Sequence[str], min_days: int, now: datetime, where: str
) -> Outcome:
    """Names covered, valid now, and not expiring within ``min_days``."""
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    problems: list[str] = []
    evidence = [
        f"{where}: subject CN={facts.subject_cn or '-'}, issuer {facts.issuer}; "
        f"subjectAltName {facts.san_text}",
    ]
    days_left = (facts.not_after - now).total_seconds() / 86400
    expiry = f"{facts.not_after:%Y-%m-%d %H:%M} UTC"
    if days_left < 0:
        problems.append(f"expired on {expiry}")
        evidence.append(f"expired on {expiry} ({-days_left:.0f} days ago)")
    elif days_left < min_days:
        problems.append(f"expires in {days_left:.0f} days")
        evidence.append(f"expires {expiry}: {days_left:.0f} days left (minimum {min_days})")
    else:
        evidence.append(f"expires {expiry}: {days_left:.0f} days left (minimum {min_days})")
    if facts.not_before > now:
        problems.append(f"not valid before {facts.not_before:%Y-%m-%d %H:%M} UTC")
        evidence.append(f"not valid yet: starts {facts.not_before:%Y-%m-%d %H:%M} UTC")
    for name in hostnames:
        entry = covering_name(facts, name)
        if entry is None:
            problems.append(f"does not cover {name}")
            evidence.append(f"{name}: NOT covered by the certificate")
        else:
            evidence.append(f"{name}: covered by {entry}")
    key = "in the same file" if facts.has_private_key else "not in this file"
    evidence.append(f"chain: {facts.chain_length} certificate(s); private key {key}")
    names = ", ".join(hostnames) or "no hostnames configured"
    return verdict(
        problems,
        f"valid for {days_left:.0f} more days and covers {names}",
        "certificate " + "; ".join(problems),
        evidence,
    )
