"""HttpxClient's TLS contexts, against a real local HTTPS server (self-signed certificate):
verification stays on with the shared context, ``verify=False`` still connects, and the
context of an ``http://`` client loads no CA bundle but could only fail closed."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jaraba_tui.transport._common import Timeouts
from jaraba_tui.transport.base import TransportError
from jaraba_tui.transport.http import HttpxClient, plain_http_context, verified_context

TIMEOUTS = Timeouts(connect=2.0, read=2.0)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
        pass  # the client refused our certificate
    finally:
        writer.close()


@pytest.fixture
async def https_port(tmp_path: Path) -> AsyncIterator[int]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = await asyncio.start_server(_answer, "127.0.0.1", 0, ssl=context)
    port = int(server.sockets[0].getsockname()[1])
    async with server:
        yield port


async def test_https_verifies_the_certificate(https_port: int) -> None:
    client = HttpxClient("selfsigned", f"https://localhost:{https_port}", timeouts=TIMEOUTS)
    try:
        with pytest.raises(TransportError) as info:
            await client.get("/")
        # a certificate failure, not the OS's EPERM its errno (1) looked like
        assert info.value.kind == "protocol"
        assert "TLS certificate not accepted (self-signed certificate)" in str(info.value)
    finally:
        await client.close()


async def test_https_without_verification_connects(https_port: int) -> None:
    client = HttpxClient(
        "selfsigned", f"https://localhost:{https_port}", timeouts=TIMEOUTS, verify=False
    )
    try:
        answer = await client.get("/")
        assert (answer.status, answer.text) == (200, "ok")
    finally:
        await client.close()


def test_the_verifying_context_is_built_once_and_verifies() -> None:
    context = verified_context()
    assert verified_context() is context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded


def test_the_context_of_plain_http_loads_nothing_and_fails_closed() -> None:
    context = plain_http_context()
    assert context.cert_store_stats()["x509_ca"] == 0
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


async def _plain_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1)  # the TLS client hello's first byte; answer it in plain HTTP
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()
    writer.close()


async def test_https_to_a_plain_http_server_is_a_tls_failure() -> None:
    server = await asyncio.start_server(_plain_answer, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    client = HttpxClient("plain", f"https://127.0.0.1:{port}", timeouts=TIMEOUTS)
    try:
        async with server:
            with pytest.raises(TransportError) as info:
                await client.get("/")
        assert info.value.kind == "protocol"
        assert "TLS handshake failed" in str(info.value)
    finally:
        await client.close()
