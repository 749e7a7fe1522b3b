"""The real `fireline` command in a subprocess: `up` refusing busy ports, `token`, `lint`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest

FIRELINE = Path(sys.executable).parent / "fireline"
ROLES = ("ORG_ADMIN", "SRE_LEAD", "ONCALL_ENGINEER", "ANALYST", "VIEWER")
GUARD_SECONDS = 120  # only bounds a hang; the tests never assert on elapsed time


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def flat_stderr(self) -> str:
        """stderr without rich's box drawing and line wrapping."""
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", self.stderr).split())


def fireline(*args: str, cwd: Path, **env: str) -> Result:
    """Run the installed `fireline` script with only the FIRELINE_* variables given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    clean.pop("FORCE_COLOR", None)
    clean.update({"COLUMNS": "200", "NO_COLOR": "1", **env})
    process = subprocess.Popen(
        [str(FIRELINE), *args],
        cwd=cwd,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a hang can be cleaned up
    )
    try:
        stdout, stderr = process.communicate(timeout=GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group of the process started here
        process.communicate()
        raise AssertionError(f"`fireline {' '.join(args)}` did not exit") from None
    return Result(process.returncode, stdout, stderr)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


# ---------------------------------------------------------------------------- fireline up

PORT_VARIABLES = {
    "API": "FIRELINE_API_PORT",
    "Temporal": "FIRELINE_TEMPORAL_PORT",
    "Temporal UI": "FIRELINE_TEMPORAL_UI_PORT",
}


@pytest.fixture
def held_socket() -> Iterator[socket.socket]:
    """A port on 127.0.0.1 held the way a server holds it (bound and listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


@pytest.mark.parametrize("component", list(PORT_VARIABLES))
def test_up_refuses_a_busy_port_naming_it_and_its_variable(
    tmp_path: Path, data_dir: Path, held_socket: socket.socket, component: str
) -> None:
    busy = int(held_socket.getsockname()[1])
    ports = {variable: str(free_port()) for variable in PORT_VARIABLES.values()}
    ports[PORT_VARIABLES[component]] = str(busy)

    result = fireline("up", cwd=tmp_path, FIRELINE_DATA_DIR=str(data_dir), **ports)

    assert result.returncode == 1, result
    [line] = result.stderr.strip().splitlines()
    assert f"port {busy} for the {component} is already in use on 127.0.0.1" in line
    assert f"{PORT_VARIABLES[component]}=<port>" in line
    assert "Fireline is up" not in result.stdout
    assert "Starting" not in result.stdout
    # Nothing was started: no Temporal database or logs, and the free ports stay free.
    assert not (data_dir / "temporal.db").exists()
    assert list(data_dir.glob("*.log")) == []
    for variable, port in ports.items():
        if variable != PORT_VARIABLES[component]:
            assert port_is_free(int(port)), f"{variable}={port} was taken"


def test_up_refuses_a_port_that_is_bound_but_not_listening(tmp_path: Path, data_dir: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        busy = int(sock.getsockname()[1])
        result = fireline(
            "up",
            cwd=tmp_path,
            FIRELINE_DATA_DIR=str(data_dir),
            FIRELINE_API_PORT=str(busy),
            FIRELINE_TEMPORAL_PORT=str(free_port()),
            FIRELINE_TEMPORAL_UI_PORT=str(free_port()),
        )
    assert result.returncode == 1, result
    assert f"port {busy} for the API" in result.stderr
    assert "FIRELINE_API_PORT" in result.stderr
    assert not (data_dir / "temporal.db").exists()


# ------------------------------------------------------------------------- fireline token


def _claims(token: str, data_dir: Path) -> dict[str, object]:
    secret = (data_dir / "jwt_secret").read_text().strip()
    claims: dict[str, object] = jwt.decode(token, secret, algorithms=["HS256"])
    return claims


def test_token_is_signed_with_the_data_dirs_secret(tmp_path: Path, data_dir: Path) -> None:
    result = fireline(
        "token",
        "--org",
        "acme",
        "--role",
        "SRE_LEAD",
        cwd=tmp_path,
        FIRELINE_DATA_DIR=str(data_dir),
    )
    assert result.returncode == 0, result
    token = result.stdout.strip()
    assert len(result.stdout.strip().splitlines()) == 1
    claims = _claims(token, data_dir)
    assert claims["org"] == "acme"
    assert claims["roles"] == ["SRE_LEAD"]
    assert claims["sub"] == "cli-user"
    assert isinstance(claims["exp"], int) and isinstance(claims["iat"], int)
    assert claims["exp"] - claims["iat"] == 12 * 3600
    assert (data_dir / "jwt_secret").stat().st_mode & 0o077 == 0  # readable by the owner only

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-" + "x" * 40, algorithms=["HS256"])


def test_token_reuses_the_secret_and_normalises_roles(tmp_path: Path, data_dir: Path) -> None:
    env = {"FIRELINE_DATA_DIR": str(data_dir)}
    first = fireline("token", "--org", "acme", "--role", "ORG_ADMIN", cwd=tmp_path, **env)
    secret = (data_dir / "jwt_secret").read_text()
    second = fireline(
        "token",
        "--org",
        "globex",
        "--role",
        "sre_lead",
        "--role",
        " viewer ",
        "--sub",
        "alice",
        cwd=tmp_path,
        **env,
    )
    assert first.returncode == 0 and second.returncode == 0, (first, second)
    assert (data_dir / "jwt_secret").read_text() == secret
    assert _claims(first.stdout.strip(), data_dir)["roles"] == ["ORG_ADMIN"]
    claims = _claims(second.stdout.strip(), data_dir)
    assert claims["org"] == "globex"
    assert claims["roles"] == ["SRE_LEAD", "VIEWER"]
    assert claims["sub"] == "alice"


def test_token_uses_an_explicit_secret(tmp_path: Path, data_dir: Path) -> None:
    secret = "an-explicit-secret-of-reasonable-length-0123456789"
    result = fireline(
        "token",
        "--org",
        "acme",
        "--role",
        "VIEWER",
        cwd=tmp_path,
        FIRELINE_DATA_DIR=str(data_dir),
        FIRELINE_JWT_SECRET=secret,
    )
    assert result.returncode == 0, result
    claims = jwt.decode(result.stdout.strip(), secret, algorithms=["HS256"])
    assert claims["roles"] == ["VIEWER"]
    assert not (data_dir / "jwt_secret").exists()


def test_token_with_an_unknown_role_fails_listing_the_valid_ones(
    tmp_path: Path, data_dir: Path
) -> None:
    result = fireline(
        "token",
        "--org",
        "acme",
        "--role",
        "SRE_LEAD",
        "--role",
        "SUPERUSER",
        cwd=tmp_path,
        FIRELINE_DATA_DIR=str(data_dir),
    )
    assert result.returncode != 0
    assert result.stdout == ""  # no token printed
    message = result.flat_stderr
    assert "unknown role(s): SUPERUSER" in message
    assert f"choose from {', '.join(ROLES)}" in message


def test_token_with_a_blank_org_fails(tmp_path: Path, data_dir: Path) -> None:
    result = fireline(
        "token", "--org", " ", "--role", "VIEWER", cwd=tmp_path, FIRELINE_DATA_DIR=str(data_dir)
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "must not be empty" in result.flat_stderr


# -------------------------------------------------------------------------- fireline lint

GOOD = """
workflow:
  id: hello
  triggers: [{type: incident, events: [created]}]
  steps:
    - name: hello
      provider: {type: notify, with: {message: "hello {{ incident.title }}"}}
"""

BROKEN = """
workflow:
  id: broken
  triggers: [{type: incident}]
  steps:
    - name: x
      provider: {type: notify, with: {mesage: hi}}
"""


def _workflows(tmp_path: Path, **files: str) -> Path:
    directory = tmp_path / "wf"
    directory.mkdir()
    for name, body in files.items():
        (directory / f"{name}.yaml").write_text(textwrap.dedent(body))
    return directory


def test_lint_reports_file_line_col_and_exits_1(tmp_path: Path, data_dir: Path) -> None:
    _workflows(tmp_path, hello=GOOD, broken=BROKEN)
    result = fireline("lint", "wf", cwd=tmp_path, FIRELINE_DATA_DIR=str(data_dir))
    assert result.returncode == 1, result
    lines = result.stdout.splitlines()
    problems = [line for line in lines if line.startswith("wf/broken.yaml:")]
    assert problems, result.stdout
    assert all(re.match(r"^wf/broken\.yaml:\d+:\d+: ", line) for line in problems)
    assert any(line.startswith("wf/broken.yaml:7:39: ") and "mesage" in line for line in problems)
    assert any(line.startswith("wf/hello.yaml: ok") for line in lines)
    assert lines[-1].startswith("2 files checked: 1 ok, ")


def test_lint_of_clean_files_exits_0(tmp_path: Path, data_dir: Path) -> None:
    _workflows(tmp_path, hello=GOOD)
    result = fireline("lint", "wf", cwd=tmp_path, FIRELINE_DATA_DIR=str(data_dir))
    assert result.returncode == 0, result
    assert "wf/hello.yaml: ok" in result.stdout
    assert "1 file checked: 1 ok, 0 errors, 0 warnings" in result.stdout


def test_lint_of_a_missing_path_exits_1(tmp_path: Path, data_dir: Path) -> None:
    result = fireline("lint", "nowhere", cwd=tmp_path, FIRELINE_DATA_DIR=str(data_dir))
    assert result.returncode == 1, result
    assert "nowhere: no such file or directory" in result.stdout
