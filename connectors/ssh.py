"""Run a shell command on a host over SSH (asyncssh): the `ssh` connector.

Trust: the host key must match the connection's known_hosts lines or its pinned key; a
host we have no key for is refused (no trust on first use). Nothing is read from
~/.ssh (no config file, no default keys, no agent): a connection uses only its own
credentials.

The remote command runs under `/bin/sh` as the leader of its own process group (OpenSSH
already starts every session in a new session; elsewhere `setsid` makes it so). Its first
stdout line is a marker with its PID, taken out of the output and reported through
`on_started`, so an activity can keep it in its heartbeat: a retry can then see whether
the command still runs (`remote_process_alive`) and stop it (`kill_remote`). A timeout
or a cancellation kills the remote process group through a second channel on the same
connection (`kill -TERM`, then `kill -KILL` after the grace period), because SSH servers
often ignore channel signals.

Messages name the host, port and user; never a key, passphrase or password.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import asyncssh

from connectors.commands import (
    KILL_GRACE_SECONDS,
    READ_CHUNK_BYTES,
    AuthenticationFailedError,
    CommandConnectorError,
    CommandResult,
    CommandSpec,
    ConnectionLostError,
    HostKeyError,
    HostKeyMismatchError,
    HostKeyNotConfiguredError,
    HostUnreachableError,
    OutputCallback,
    OutputCapture,
    StartedCallback,
    StreamCapture,
    call_back,
    exit_code_of_signal,
)

PID_MARKER = "__FIRELINE_PID__"
MAX_PREAMBLE_BYTES = 64 * 1024  # login-script noise allowed before the PID marker line
DRAIN_AFTER_KILL_SECONDS = 2.0
POLL_SECONDS = 0.1
KEEPALIVE_SECONDS = 15.0
KEEPALIVE_MISSES = 4

# What asyncssh's `known_hosts` takes: parsed known_hosts lines, or (trusted host keys,
# trusted CA keys, revoked keys). Never a str: asyncssh would read it as a file name.
_Trust = (
    asyncssh.SSHKnownHosts
    | tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey], list[asyncssh.SSHKey]]
)


@dataclass(frozen=True, kw_only=True)
class SshTarget:
    """Where and as whom to connect. One of `known_hosts` / `pinned_host_key` is required."""

    host: str
    port: int = 22
    username: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)  # PEM or OpenSSH text
    passphrase: str | None = field(default=None, repr=False)
    known_hosts: str | None = None  # known_hosts lines (text, not a path)
    pinned_host_key: str | None = None  # "ssh-ed25519 AAAA..."
    connect_timeout: float = 10.0
    # Parsed once here: decrypting a passphrase-protected key takes a noticeable time.
    _trust: _Trust = field(init=False, repr=False, compare=False)
    _keys: list[asyncssh.SSHKey] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.host or not self.username:
            raise CommandConnectorError("an ssh connection needs a host and a username")
        if not 0 < self.port < 65536:
            raise CommandConnectorError(f"ssh port must be 1-65535, got {self.port}")
        if self.connect_timeout <= 0:
            raise CommandConnectorError("ssh connect_timeout must be > 0")
        object.__setattr__(self, "_trust", _trusted_keys(self))
        if self.password is None and self.private_key is None:
            raise AuthenticationFailedError(
                f"no private key or password for {self.login}; "
                "add one to the connection's credentials"
            )
        object.__setattr__(self, "_keys", _client_keys(self))

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def login(self) -> str:
        return f"{self.username}@{self.address}"

    @property
    def keyscan(self) -> str:
        return f"ssh-keyscan -p {self.port} {self.host}"


@dataclass(frozen=True)
class HostCheck:
    """Outcome of `check_host`: how far a connection got, and the key the host showed."""

    reachable: bool
    host_key_ok: bool
    authenticated: bool
    fingerprint: str | None  # "ssh-ed25519 SHA256:..." of the key the host presented
    error: str | None


async def run_ssh(
    target: SshTarget,
    spec: CommandSpec,
    on_output: OutputCallback | None = None,
    *,
    on_started: StartedCallback | None = None,
) -> CommandResult:
    """Runs the command on the target; returns its result, also on a non-zero exit or a
    timeout. Cancelling the calling task kills the remote process group and re-raises.

    Raises `HostKeyError`s, `AuthenticationFailedError` (not retryable) or
    `HostUnreachableError` (retryable) when no session could start, and
    `ConnectionLostError` (retryable; the command may still run) when the connection
    broke during the command.
    """
    started_at = time.monotonic()
    async with _connection(target) as conn:
        return await _Run(conn, target, spec, on_output, on_started).run(started_at)


async def remote_process_alive(target: SshTarget, pid: int) -> bool:
    """Whether any process of the command's process group (led by `pid`) still runs."""
    _check_pid(pid)
    async with _connection(target) as conn:
        return await _group_alive(conn, pid)


async def kill_remote(
    target: SshTarget, pid: int, *, grace_seconds: float = KILL_GRACE_SECONDS
) -> bool:
    """Stops the command's process group: SIGTERM, SIGKILL after `grace_seconds`.

    Returns False when nothing of it was running any more.
    """
    _check_pid(pid)
    async with _connection(target) as conn:
        if not await _group_alive(conn, pid):
            return False
        await _signal_group(conn, pid, "TERM")
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline:
            if not await _group_alive(conn, pid):
                return True
            await asyncio.sleep(POLL_SECONDS)
        await _signal_group(conn, pid, "KILL")
        return True


async def check_host(target: SshTarget) -> HostCheck:
    """Connects and logs in without running anything; reports how far it got."""
    witness = _HostKeyWitness(target)
    try:
        async with _connection(target, witness):
            pass
    except HostUnreachableError as err:
        return HostCheck(False, False, False, witness.fingerprint(), err.message)
    except HostKeyError as err:
        return HostCheck(True, False, False, witness.fingerprint(), err.message)
    except CommandConnectorError as err:  # authentication, or another refusal after kex
        return HostCheck(True, True, False, witness.fingerprint(), err.message)
    return HostCheck(True, True, True, witness.fingerprint(), None)


# --- errors ---------------------------------------------------------------------------


def _host_key_not_configured(target: SshTarget, problem: str) -> HostKeyNotConfiguredError:
    return HostKeyNotConfiguredError(
        f"{problem} for {target.address}; fireline never trusts a host key on first use: "
        f"get the host's key ({target.keyscan}), check its fingerprint out of band, and "
        "set the connection's known_hosts or pinned host key"
    )


def _host_key_mismatch(target: SshTarget, witness: _HostKeyWitness) -> CommandConnectorError:
    if target.pinned_host_key is None and not witness.had_known_hosts_entry:
        return _host_key_not_configured(target, "the connection's known_hosts has no entry")
    trusted = "pinned host key" if target.pinned_host_key else "known_hosts entry"
    shown = witness.fingerprint() or "a key of another type"
    return HostKeyMismatchError(
        f"host key of {target.address} ({shown}) does not match the connection's {trusted}; "
        "if the host was rebuilt, check its new key out of band "
        f"({target.keyscan} | ssh-keygen -lf -) and update the connection's host key"
    )


def _connect_error(
    target: SshTarget, err: BaseException, witness: _HostKeyWitness
) -> CommandConnectorError:
    if isinstance(err, asyncssh.HostKeyNotVerifiable):
        return _host_key_mismatch(target, witness)
    if isinstance(err, asyncssh.PermissionDenied):
        return AuthenticationFailedError(
            f"ssh login as {target.login} was refused; check the connection's private key "
            "or password in the credential store, and that the key is in the user's "
            "authorized_keys on the host"
        )
    if isinstance(err, TimeoutError):
        return HostUnreachableError(
            f"connecting to {target.address} timed out after {target.connect_timeout:g}s; "
            "check that the host is up and its SSH port is open"
        )
    if isinstance(err, asyncssh.ConnectionLost):
        return HostUnreachableError(f"{target.address} closed the connection during login")
    if isinstance(err, OSError):
        return HostUnreachableError(
            f"cannot connect to {target.address}: {_network_reason(err)}; "
            "check the host name, the port and that sshd runs"
        )
    if isinstance(err, asyncssh.DisconnectError):
        final = isinstance(err, asyncssh.KeyExchangeFailed | asyncssh.ProtocolNotSupported)
        return CommandConnectorError(
            f"ssh connection to {target.address} failed: {err.reason}", retryable=not final
        )
    return CommandConnectorError(f"ssh connection to {target.address} failed: {err}")


def _network_reason(err: OSError) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, socket.gaierror):
        return "host name not found"
    return os.strerror(err.errno) if err.errno else str(err) or type(err).__name__


async def _key_type_mismatch(target: SshTarget, witness: _HostKeyWitness) -> bool:
    """Whether a key exchange broke off because the host has no key of a trusted type.

    Our trusted keys restrict the host key types we ask for; a host without one of those
    types ends the key exchange. Asking again for any type tells that apart from a
    network failure, and shows which key the host has.
    """
    try:
        key = await asyncio.wait_for(
            asyncssh.get_server_host_key(target.host, target.port, config=[]),
            target.connect_timeout,
        )
    except (OSError, asyncssh.Error, TimeoutError):
        return False
    witness.presented = key
    return key is not None


# --- connecting -----------------------------------------------------------------------


class _HostKeyWitness(asyncssh.SSHClient):
    """Remembers the host key the server showed, trusted or not, for messages."""

    def __init__(self, target: SshTarget) -> None:
        self._target = target
        self._conn: asyncssh.SSHClientConnection | None = None
        self.presented: asyncssh.SSHKey | None = None
        self.had_known_hosts_entry = False

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        self._conn = conn

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        # asyncssh asks only about keys it did not find trusted: always refuse them.
        self.presented = key
        if self._target.known_hosts is not None:
            found = asyncssh.import_known_hosts(self._target.known_hosts).match(host, addr, port)
            self.had_known_hosts_entry = bool(found[0] or found[1])
        return False

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def fingerprint(self) -> str | None:
        key = self.presented
        if key is None and self._conn is not None:
            key = self._conn.get_server_host_key()
        if key is None:
            return None
        return f"{key.get_algorithm()} {key.get_fingerprint('sha256')}"


@asynccontextmanager
async def _connection(
    target: SshTarget, witness: _HostKeyWitness | None = None
) -> AsyncIterator[asyncssh.SSHClientConnection]:
    witness = witness or _HostKeyWitness(target)
    try:
        conn = await asyncssh.connect(
            target.host,
            target.port,
            username=target.username,
            password=target.password,
            client_keys=target._keys,
            known_hosts=target._trust,
            client_factory=lambda: witness,
            config=[],  # never read ~/.ssh/config
            agent_path=None,
            x509_trusted_certs=None,
            connect_timeout=target.connect_timeout,
            keepalive_interval=KEEPALIVE_SECONDS,
            keepalive_count_max=KEEPALIVE_MISSES,
        )
    except (OSError, asyncssh.Error, TimeoutError) as err:
        if _broke_off_key_exchange(err, witness) and await _key_type_mismatch(target, witness):
            raise _host_key_mismatch(target, witness) from None
        raise _connect_error(target, err, witness) from None
    try:
        yield conn
    finally:
        conn.close()
        with suppress(Exception):
            await conn.wait_closed()


def _broke_off_key_exchange(err: BaseException, witness: _HostKeyWitness) -> bool:
    """The TCP connection was made, but no host key came before it ended."""
    ended = isinstance(err, asyncssh.ConnectionLost | asyncssh.KeyExchangeFailed | ConnectionError)
    return ended and witness.connected and witness.fingerprint() is None


def _trusted_keys(target: SshTarget) -> _Trust:
    if target.pinned_host_key is not None:
        try:
            key = asyncssh.import_public_key(target.pinned_host_key.strip())
        except (asyncssh.KeyImportError, ValueError):
            raise _host_key_not_configured(
                target,
                'the pinned host key is not an OpenSSH public key line ("ssh-ed25519 AAAA…")',
            ) from None
        return ([key], [], [])
    if target.known_hosts is not None and target.known_hosts.strip():
        try:
            return asyncssh.import_known_hosts(target.known_hosts)
        except ValueError:
            raise _host_key_not_configured(target, "the known_hosts text cannot be read") from None
    raise _host_key_not_configured(target, "no known_hosts and no pinned host key")


def _client_keys(target: SshTarget) -> list[asyncssh.SSHKey] | None:
    if target.private_key is None:
        return None  # password only: no public key authentication, no default keys
    try:
        return [asyncssh.import_private_key(target.private_key, target.passphrase)]
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, ValueError) as err:
        raise AuthenticationFailedError(
            f"the private key for {target.login} cannot be loaded ({_key_problem(err)}); "
            "check the key and its passphrase in the credential store"
        ) from None


def _key_problem(err: Exception) -> str:
    text = str(err).lower()
    if "passphrase" in text:
        return "wrong or missing passphrase"
    return "not a supported private key"


# --- running --------------------------------------------------------------------------


class _Run:
    """One command on an open connection."""

    def __init__(
        self,
        conn: asyncssh.SSHClientConnection,
        target: SshTarget,
        spec: CommandSpec,
        on_output: OutputCallback | None,
        on_started: StartedCallback | None,
    ) -> None:
        self._conn = conn
        self._target = target
        self._spec = spec
        self._output = OutputCapture(spec.output_limit, on_output)
        self._marker = _PidMarker(on_started)

    async def run(self, started_at: float) -> CommandResult:
        process = await self._open(remote_command(self._spec))
        work = asyncio.create_task(self._communicate(process))
        try:
            done, _ = await asyncio.wait({work}, timeout=self._spec.timeout_seconds)
        except BaseException:
            await self._stop(process, work)
            raise
        timed_out = not done
        if timed_out:
            await self._stop(process, work)
        elif (error := work.exception()) is not None:
            if _is_connection_failure(error):
                raise self._lost() from None
            await self._stop(process, asyncio.create_task(process.wait_closed()))
            raise error
        return self._output.result(
            exit_code=None if timed_out else self._exit_code(process),
            duration_seconds=time.monotonic() - started_at,
            timed_out=timed_out,
            cancelled=False,
            pid=self._marker.pid,
            host=self._target.host,
        )

    async def _open(self, command: str) -> asyncssh.SSHClientProcess[bytes]:
        try:
            return await self._conn.create_process(command, encoding=None, stdin=asyncssh.DEVNULL)
        except asyncssh.ChannelOpenError as err:
            raise CommandConnectorError(
                f"{self._target.address} refused a session channel: {err.reason}",
                retryable=True,
            ) from None

    async def _communicate(self, process: asyncssh.SSHClientProcess[bytes]) -> None:
        readers = [
            asyncio.create_task(self._pump(process.stdout, self._output.stdout, self._marker)),
            asyncio.create_task(self._pump(process.stderr, self._output.stderr, None)),
        ]
        try:
            await asyncio.gather(*readers)
        finally:
            for reader in readers:
                reader.cancel()
        await process.wait_closed()

    @staticmethod
    async def _pump(
        reader: asyncssh.SSHReader[bytes], capture: StreamCapture, marker: _PidMarker | None
    ) -> None:
        while chunk := await reader.read(READ_CHUNK_BYTES):
            if marker is not None:
                chunk = await marker.feed(chunk)
            if chunk:
                await capture.feed(chunk)
        if marker is not None and (rest := marker.flush()):
            await capture.feed(rest)
        await capture.close()

    async def _stop(
        self, process: asyncssh.SSHClientProcess[bytes], finished: asyncio.Task[None]
    ) -> None:
        """TERM the remote group, KILL it after the grace period, let the output drain."""
        pid = self._marker.pid
        try:
            if pid is None:  # not started yet, or no marker: all we can do is the channel
                with suppress(Exception):
                    process.terminate()
                process.close()
            else:
                await _signal_group(self._conn, pid, "TERM")
                if await _done_within(finished, self._spec.kill_grace_seconds):
                    return
                await _signal_group(self._conn, pid, "KILL")
            if not await _done_within(finished, DRAIN_AFTER_KILL_SECONDS):
                finished.cancel()
        except asyncio.CancelledError:
            if pid is not None:  # cancelled again while stopping: no more grace
                with suppress(Exception):
                    await asyncio.shield(_signal_group(self._conn, pid, "KILL"))
            finished.cancel()
            raise
        finally:
            if finished.done() and not finished.cancelled():
                finished.exception()  # stopped on purpose: the readers' outcome is moot

    def _exit_code(self, process: asyncssh.SSHClientProcess[bytes]) -> int | None:
        code = process.returncode
        if code is None:
            raise self._lost()
        return exit_code_of_signal(-code) if code < 0 else code

    def _lost(self) -> ConnectionLostError:
        still = (
            f"remote process group {self._marker.pid} may still be running"
            if self._marker.pid is not None
            else "the command may have started"
        )
        return ConnectionLostError(
            f"the connection to {self._target.login} was lost while the command ran; {still}"
        )


def _is_connection_failure(error: BaseException) -> bool:
    return isinstance(error, asyncssh.DisconnectError | ConnectionError | BrokenPipeError)


class _PidMarker:
    """Takes the `__FIRELINE_PID__ <pid>` line out of stdout and reports the PID.

    Lines before it (a login script's noise) pass through as output; after
    MAX_PREAMBLE_BYTES without a marker, everything does.
    """

    def __init__(self, on_started: StartedCallback | None) -> None:
        self._on_started = on_started
        self._pending = bytearray()
        self._searching = True
        self.pid: int | None = None

    async def feed(self, chunk: bytes) -> bytes:
        if not self._searching:
            return chunk
        self._pending += chunk
        passed = bytearray()
        while self._searching and (end := self._pending.find(b"\n")) >= 0:
            line = bytes(self._pending[: end + 1])
            del self._pending[: end + 1]
            pid = _marker_pid(line)
            if pid is None:
                passed += line
                continue
            self._searching = False
            self.pid = pid
            if self._on_started is not None:
                await call_back(self._on_started, pid)
        if self._searching and len(self._pending) > MAX_PREAMBLE_BYTES:
            self._searching = False
        if not self._searching:
            passed += self._pending
            self._pending.clear()
        return bytes(passed)

    def flush(self) -> bytes:
        rest = bytes(self._pending)
        self._pending.clear()
        self._searching = False
        return rest


def _marker_pid(line: bytes) -> int | None:
    parts = line.decode("ascii", errors="replace").split()
    if len(parts) == 2 and parts[0] == PID_MARKER and parts[1].isdigit() and int(parts[1]) > 1:
        return int(parts[1])
    return None


def remote_command(spec: CommandSpec) -> str:
    """The command line sent to the server: it runs under any login shell.

    It makes the command lead its own process group (if the login shell does not already:
    `kill -0 -$$` only succeeds for a group leader), prints the PID marker, applies
    env and cwd, then execs `/bin/sh -c command`: the PID stays the same throughout.
    """
    steps = [f'echo "{PID_MARKER} $$"']
    steps += [f"export {name}={shlex.quote(value)}" for name, value in spec.env.items()]
    if spec.cwd is not None:
        steps.append(f"cd {shlex.quote(spec.cwd)} || exit 1")
    steps.append(f"exec /bin/sh -c {shlex.quote(spec.command)}")
    run = _sh("\n".join(steps))
    lead = (
        "if kill -0 -$$ 2>/dev/null || ! command -v setsid >/dev/null 2>&1; "
        f"then {run}; fi\nexec setsid {run.removeprefix('exec ')}"
    )
    return _sh(lead)


def _sh(script: str) -> str:
    return f"exec /bin/sh -c {shlex.quote(script)}"


def _check_pid(pid: int) -> None:
    if pid <= 1:  # kill -1 would signal every process of the user
        raise ValueError(f"not a command's process id: {pid}")


# Exit 0 when a live (not zombie) process is in group PGID. `kill -0` alone also counts
# zombies, which stay forever where init does not reap (containers); /proc tells them apart.
_GROUP_ALIVE = """kill -0 -PGID 2>/dev/null || exit 1
[ -r /proc/self/stat ] || exit 0
for stat in /proc/[0-9]*/stat; do
  read -r line < "$stat" 2>/dev/null || continue
  set -- ${line##*") "}
  [ "$3" = PGID ] && [ "$1" != Z ] && exit 0
done
exit 1"""


async def _group_alive(conn: asyncssh.SSHClientConnection, pid: int) -> bool:
    result = await conn.run(_sh(_GROUP_ALIVE.replace("PGID", str(pid))), check=False)
    return result.exit_status == 0


async def _signal_group(conn: asyncssh.SSHClientConnection, pid: int, signal_name: str) -> None:
    # Best effort: when the connection is gone there is no other way to reach the host.
    with suppress(asyncssh.Error, OSError):
        await conn.run(_sh(f"kill -{signal_name} -{pid} 2>/dev/null"), check=False)


async def _done_within(task: asyncio.Task[None], seconds: float) -> bool:
    done, _ = await asyncio.wait({task}, timeout=seconds)
    return bool(done)
