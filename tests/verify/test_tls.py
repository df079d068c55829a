"""Certificate checks on certificates generated here with `cryptography`."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jaraba_tui.verify import tls
from jaraba_tui.verify.model import Status

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KEY = ec.generate_private_key(ec.SECP256R1())


def make_pem(
    *,
    cn: str = "jaraba.io",
    dns: tuple[str, ...] = ("jaraba.io", "*.jaraba.io"),
    ips: tuple[str, ...] = ("127.0.0.1",),
    days: int = 90,
    starts: datetime = NOW - timedelta(days=1),
    san: bool = True,
    with_key: bool = True,
) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(starts)
        .not_valid_after(NOW + timedelta(days=days))
    )
    if san:
        entries: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        entries += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    cert = builder.sign(KEY, hashes.SHA256())
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    if with_key:
        pem += KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    return pem


def check(pem: str, hostnames: list[str], min_days: int = 21) -> tuple[Status, str, str]:
    out = tls.evaluate(tls.read_bundle(pem), hostnames, min_days, NOW, "lb1:/etc/x.pem")
    return out.status, out.summary, "\n".join(out.evidence)


def test_a_good_bundle_passes_and_shows_what_it_saw() -> None:
    status, summary, evidence = check(make_pem(), ["jaraba.io", "www.jaraba.io", "127.0.0.1"])
    assert status is Status.PASSED, evidence
    assert "90 more days" in summary
    assert "www.jaraba.io: covered by DNS:*.jaraba.io" in evidence
    assert "127.0.0.1: covered by IP:127.0.0.1" in evidence
    assert "private key in the same file" in evidence
    assert "PRIVATE" not in evidence and "BEGIN" not in evidence


def test_close_to_expiry_fails_with_days_left() -> None:
    status, summary, evidence = check(make_pem(days=10), ["jaraba.io"], min_days=21)
    assert status is Status.FAILED
    assert "expires in 10 days" in summary and "10 days left (minimum 21)" in evidence


def test_expired_and_not_yet_valid_fail() -> None:
    assert check(make_pem(days=-3, starts=NOW - timedelta(days=90)), ["jaraba.io"])[0] is (
        Status.FAILED
    )
    status, summary, _ = check(make_pem(starts=NOW + timedelta(days=2)), ["jaraba.io"])
    assert status is Status.FAILED and "not valid before" in summary


def test_a_name_not_covered_fails() -> None:
    status, summary, evidence = check(make_pem(dns=("jaraba.io",)), ["app1.jaraba.io"])
    assert status is Status.FAILED
    assert "does not cover app1.jaraba.io" in summary
    assert "app1.jaraba.io: NOT covered" in evidence


@pytest.mark.parametrize(
    ("pattern", "host", "ok"),
    [
        ("*.jaraba.io", "app1.jaraba.io", True),
        ("*.jaraba.io", "jaraba.io", False),  # the wildcard needs one label
        ("*.jaraba.io", "a.b.jaraba.io", False),  # ... and only one
        ("*.io", "jaraba.io", False),  # too broad: never honoured
        ("app*.jaraba.io", "app1.jaraba.io", False),  # partial wildcards are not honoured
        ("JARABA.io", "jaraba.IO.", True),
    ],
)
def test_wildcards_follow_rfc_6125(pattern: str, host: str, ok: bool) -> None:
    assert tls.wildcard_match(pattern, host) is ok


def test_cn_counts_only_without_subject_alt_name() -> None:
    legacy = make_pem(san=False)
    assert check(legacy, ["jaraba.io"])[0] is Status.PASSED
    assert "no subjectAltName" in check(legacy, ["jaraba.io"])[2]
    # With a SAN present, a CN that is not also in the SAN does not count.
    assert check(make_pem(cn="jaraba.io", dns=("other.io",)), ["jaraba.io"])[0] is Status.FAILED


def test_ip_names_match_ip_entries_only() -> None:
    assert check(make_pem(ips=()), ["127.0.0.1"])[0] is Status.FAILED
    assert check(make_pem(ips=("::1",)), ["0:0::1"])[0] is Status.PASSED


def test_bundle_without_key_and_chain_length() -> None:
    pem = make_pem(with_key=False) + make_pem(with_key=False, cn="Jaraba CA")
    facts = tls.read_bundle(pem)
    assert facts.chain_length == 2 and not facts.has_private_key
    assert facts.subject_cn == "jaraba.io"


def test_not_a_certificate() -> None:
    with pytest.raises(tls.CertificateError, match="no PEM certificate"):
        tls.read_bundle("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    with pytest.raises(tls.CertificateError, match="unreadable"):
        tls.read_bundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
