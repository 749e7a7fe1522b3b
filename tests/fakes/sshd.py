"""A real OpenSSH server on loopback, for the SSH connector tests.

`OpenSshServer(folder)` writes a fresh ed25519 host key, a client key pair, an
authorized_keys file and an sshd_config into `folder`, then runs
`/usr/sbin/sshd -D -e -f <config>` on a free 127.0.0.1 port as the current user (root is
allowed in with a key only). Public key login only: password login would need a real
account password on this machine.

`require_sshd()` skips when sshd is not installed, and fails under `CI=true`: CI must
run these tests (`.ci/run` installs openssh-server).
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Self

import asyncssh
import pytest

from connectors.ssh import SshTarget

SSHD = Path("/usr/sbin/sshd")
INSTALL = "apt-get update && apt-get install -y openssh-server"
HOST = "127.0.0.1"
START_ATTEMPTS = 5  # another process may take the free port before sshd binds it
READY_DEADLINE_SECONDS = 60.0  # only guards against hanging forever; never an assertion


def require_sshd() -> None:
    if SSHD.exists():
        return
    message = f"{SSHD} is missing: install it with `{INSTALL}`"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: the SSH tests must run)", pytrace=False)
    pytest.skip(message)


class OpenSshServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.host = HOST
        self.port = 0
        self.username = pwd.getpwuid(os.getuid()).pw_name
        self.host_public_key = _write_key_pair(folder / "host_ed25519")
        self.client_public_key = _write_key_pair(folder / "client_ed25519")
        self.client_private_key = (folder / "client_ed25519").read_text()
        (folder / "authorized_keys").write_text(self.client_public_key + "\n")
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = folder / "sshd.log"

    def __enter__(self) -> Self:
        if os.getuid() == 0:  # sshd running as root needs its privilege separation dir
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        for _ in range(START_ATTEMPTS):
            self.port = _free_port()
            if self._start():
                return self
        raise RuntimeError(f"sshd did not start:\n{self.log()}")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def known_hosts_line(self) -> str:
        return f"[{self.host}]:{self.port} {self.host_public_key}"

    def target(self, **changes: Any) -> SshTarget:
        """A target that logs in with the client key and pins the server's host key."""
        base = SshTarget(
            host=self.host,
            port=self.port,
            username=self.username,
            private_key=self.client_private_key,
            pinned_host_key=self.host_public_key,
        )
        return replace(base, **changes)

    def _start(self) -> bool:
        config = self.folder / "sshd_config"
        config.write_text(self._config())
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        return self._wait_ready(self._process)

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            if _banner_read(self.host, self.port):
                return True
            time.sleep(0.05)
        process.kill()
        process.wait()
        raise RuntimeError(f"sshd did not answer on {self.host}:{self.port}:\n{self.log()}")

    def _config(self) -> str:
        folder = self.folder
        return "\n".join(
            [
                f"Port {self.port}",
                f"ListenAddress {self.host}",
                f"HostKey {folder / 'host_ed25519'}",
                f"PidFile {folder / 'sshd.pid'}",
                f"AuthorizedKeysFile {folder / 'authorized_keys'}",
                f"AllowUsers {self.username}",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "StrictModes no",
                "PrintMotd no",
                "MaxSessions 20",
                "LogLevel VERBOSE",
                "",
            ]
        )


def _write_key_pair(path: Path) -> str:
    """Writes an ed25519 private key (mode 0600, as sshd demands); returns the public line."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.write_bytes(key.export_private_key("openssh"))
    path.chmod(0o600)
    algorithm, data = key.export_public_key("openssh").decode().split()[:2]
    return f"{algorithm} {data}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _banner_read(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=5) as sock:
            return sock.makefile("rb").readline().startswith(b"SSH-")
    except OSError:
        return False
