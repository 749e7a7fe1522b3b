"""Host keys, credentials and reachability: who the SSH connector trusts and logs in as."""

from __future__ import annotations

import pickle
from pathlib import Path

import asyncssh
import pytest

from connectors.commands import (
    AuthenticationFailedError,
    CommandSpec,
    HostKeyMismatchError,
    HostKeyNotConfiguredError,
    HostUnreachableError,
)
from connectors.ssh import SshTarget, check_host, run_ssh
from tests.fakes.sshd import OpenSshServer

# Keys encrypted with one bcrypt round, which bcrypt warns about: the tests stay fast.
cheap_key_encryption = pytest.mark.filterwarnings("ignore:.*bcrypt.kdf:UserWarning")


def touch(marker: Path) -> CommandSpec:
    return CommandSpec(f"touch {marker}", timeout_seconds=60, output_limit=1000)


def public_line(algorithm: str = "ssh-ed25519") -> str:
    key = asyncssh.generate_private_key(algorithm)
    return " ".join(key.export_public_key("openssh").decode().split()[:2])


def private_text(passphrase: str | None = None) -> str:
    key = asyncssh.generate_private_key("ssh-ed25519")
    return key.export_private_key("openssh", passphrase, rounds=1).decode()


async def test_a_pinned_host_key_lets_the_command_run(
    ssh_target: SshTarget, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"

    result = await run_ssh(ssh_target, touch(marker))

    assert result.exit_code == 0
    assert marker.exists()


async def test_known_hosts_lines_let_the_command_run(sshd: OpenSshServer, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    known_hosts = f"other.example ssh-ed25519 {public_line().split()[1]}\n{sshd.known_hosts_line}\n"

    result = await run_ssh(
        sshd.target(pinned_host_key=None, known_hosts=known_hosts), touch(marker)
    )

    assert result.exit_code == 0
    assert marker.exists()


@pytest.mark.parametrize("algorithm", ["ssh-ed25519", "ecdsa-sha2-nistp256"])
async def test_a_wrong_pinned_key_is_refused_before_anything_runs(
    sshd: OpenSshServer, tmp_path: Path, algorithm: str
) -> None:
    marker = tmp_path / "ran"

    with pytest.raises(HostKeyMismatchError) as caught:
        await run_ssh(sshd.target(pinned_host_key=public_line(algorithm)), touch(marker))

    error = caught.value
    assert not error.retryable
    assert f"127.0.0.1:{sshd.port}" in error.message
    assert "pinned host key" in error.message
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1" in error.message
    assert sshd.host_public_key.split()[0] in error.message  # the key type the host showed
    assert not marker.exists()


async def test_a_known_hosts_entry_with_another_key_is_refused(
    sshd: OpenSshServer, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    stale = f"[127.0.0.1]:{sshd.port} {public_line()}"

    with pytest.raises(HostKeyMismatchError, match="known_hosts entry") as caught:
        await run_ssh(sshd.target(pinned_host_key=None, known_hosts=stale), touch(marker))

    assert not caught.value.retryable
    assert not marker.exists()


async def test_known_hosts_without_an_entry_for_the_host_is_refused(
    sshd: OpenSshServer, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    elsewhere = f"[other.example]:{sshd.port} {sshd.host_public_key}"

    with pytest.raises(HostKeyNotConfiguredError) as caught:
        await run_ssh(sshd.target(pinned_host_key=None, known_hosts=elsewhere), touch(marker))

    assert "known_hosts has no entry" in caught.value.message
    assert "ssh-keyscan" in caught.value.message
    assert not caught.value.retryable
    assert not marker.exists()


def test_a_target_without_any_host_key_is_refused(sshd: OpenSshServer) -> None:
    with pytest.raises(HostKeyNotConfiguredError) as caught:
        sshd.target(pinned_host_key=None, known_hosts=None)

    assert "never trusts a host key on first use" in caught.value.message
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1" in caught.value.message


@pytest.mark.parametrize(
    "changes",
    [{"pinned_host_key": "[127.0.0.1]:22 ssh-ed25519 AAAA"}, {"known_hosts": "   \n"}],
)
def test_an_unreadable_host_key_is_refused(sshd: OpenSshServer, changes: dict[str, str]) -> None:
    base = {"pinned_host_key": None, "known_hosts": None}
    with pytest.raises(HostKeyNotConfiguredError):
        sshd.target(**{**base, **changes})


async def test_a_key_the_host_does_not_know_fails_authentication(
    sshd: OpenSshServer, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    stranger = private_text()

    with pytest.raises(AuthenticationFailedError) as caught:
        await run_ssh(sshd.target(private_key=stranger), touch(marker))

    error = caught.value
    assert not error.retryable
    assert f"{sshd.username}@127.0.0.1:{sshd.port}" in error.message
    assert "credential store" in error.message
    assert stranger.splitlines()[1] not in error.message
    assert not marker.exists()


@cheap_key_encryption
async def test_an_encrypted_key_works_with_its_passphrase(
    sshd: OpenSshServer, tmp_path: Path
) -> None:
    key = asyncssh.import_private_key(sshd.client_private_key)
    encrypted = key.export_private_key("openssh", "correct horse", rounds=1).decode()
    marker = tmp_path / "ran"

    result = await run_ssh(
        sshd.target(private_key=encrypted, passphrase="correct horse"), touch(marker)
    )

    assert result.exit_code == 0
    assert marker.exists()


@cheap_key_encryption
@pytest.mark.parametrize("passphrase", [None, "wrong passphrase"])
def test_an_encrypted_key_without_its_passphrase_is_refused(
    sshd: OpenSshServer, passphrase: str | None
) -> None:
    encrypted = private_text("correct horse")

    with pytest.raises(AuthenticationFailedError, match="passphrase") as caught:
        sshd.target(private_key=encrypted, passphrase=passphrase)

    assert "correct horse" not in caught.value.message
    assert "wrong passphrase" not in caught.value.message


def test_a_target_without_key_or_password_is_refused(sshd: OpenSshServer) -> None:
    with pytest.raises(AuthenticationFailedError, match="no private key or password"):
        sshd.target(private_key=None, password=None)


def test_a_broken_private_key_is_refused_without_quoting_it(sshd: OpenSshServer) -> None:
    with pytest.raises(AuthenticationFailedError) as caught:
        sshd.target(private_key="-----BEGIN OPENSSH PRIVATE KEY-----\nsecretstuff\n")

    assert "secretstuff" not in caught.value.message


def test_secrets_stay_out_of_the_targets_repr(sshd: OpenSshServer) -> None:
    target = sshd.target(password="hunter2", passphrase="hunter3")

    shown = repr(target)

    assert "hunter2" not in shown and "hunter3" not in shown
    assert sshd.client_private_key.splitlines()[1] not in shown


async def test_a_closed_port_is_unreachable_and_retryable(
    sshd: OpenSshServer, closed_port_url: str, tmp_path: Path
) -> None:
    port = int(closed_port_url.rsplit(":", 1)[1])

    with pytest.raises(HostUnreachableError) as caught:
        await run_ssh(sshd.target(port=port), touch(tmp_path / "ran"))

    assert caught.value.retryable
    assert f"127.0.0.1:{port}" in caught.value.message
    assert "connection refused" in caught.value.message


async def test_errors_survive_pickling_with_their_type(sshd: OpenSshServer, tmp_path: Path) -> None:
    with pytest.raises(HostKeyMismatchError) as caught:
        await run_ssh(sshd.target(pinned_host_key=public_line()), touch(tmp_path / "ran"))

    copy = pickle.loads(pickle.dumps(caught.value))

    assert type(copy) is HostKeyMismatchError
    assert (copy.message, copy.retryable) == (caught.value.message, False)


async def test_check_host_reports_a_healthy_connection(sshd: OpenSshServer) -> None:
    fingerprint = asyncssh.import_public_key(sshd.host_public_key).get_fingerprint()

    check = await check_host(sshd.target())

    assert (check.reachable, check.host_key_ok, check.authenticated) == (True, True, True)
    assert check.fingerprint == f"ssh-ed25519 {fingerprint}"
    assert check.error is None


async def test_check_host_shows_the_key_of_a_host_that_does_not_match(
    sshd: OpenSshServer,
) -> None:
    fingerprint = asyncssh.import_public_key(sshd.host_public_key).get_fingerprint()

    check = await check_host(sshd.target(pinned_host_key=public_line()))

    assert (check.reachable, check.host_key_ok, check.authenticated) == (True, False, False)
    assert check.fingerprint == f"ssh-ed25519 {fingerprint}"
    assert check.error is not None and "does not match" in check.error


async def test_check_host_reports_a_refused_login(sshd: OpenSshServer) -> None:
    check = await check_host(sshd.target(private_key=private_text()))

    assert (check.reachable, check.host_key_ok, check.authenticated) == (True, True, False)
    assert check.error is not None and "refused" in check.error


async def test_check_host_reports_an_unreachable_host(
    sshd: OpenSshServer, closed_port_url: str
) -> None:
    port = int(closed_port_url.rsplit(":", 1)[1])

    check = await check_host(sshd.target(port=port))

    assert (check.reachable, check.host_key_ok, check.authenticated) == (False, False, False)
    assert check.fingerprint is None
    assert check.error is not None and "connection refused" in check.error
