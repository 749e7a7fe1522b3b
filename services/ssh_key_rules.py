"""SSH keys a connection carries, checked: the host's public key (or a known_hosts
file) that fireline trusts, and the private key it signs in with.

Each function returns the problems as `field: ...` lines. Messages never quote a key,
a passphrase or a line of the input: a private key pasted by mistake stays unseen.
"""

from __future__ import annotations

import re

import asyncssh

# One OpenSSH public key line: "<type> <base64> [comment]".
PUBLIC_KEY_LINE = re.compile(r"[A-Za-z0-9@._-]+ [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?")
MAX_HOST_KEY_CHARS = 16 * 1024
MAX_KNOWN_HOSTS_CHARS = 64 * 1024
MAX_PRIVATE_KEY_CHARS = 16 * 1024
MAX_PASSPHRASE_CHARS = 1024


def host_key_problems(host_key: str) -> list[str]:
    # Checked as a public key line first: asyncssh would also accept a private key here,
    # and this field is shown to everyone in clear.
    line = host_key.strip()
    if len(line) > MAX_HOST_KEY_CHARS or not PUBLIC_KEY_LINE.fullmatch(line):
        return [
            'host_key: must be one OpenSSH public key line ("ssh-ed25519 AAAA..."), '
            "without the host name that ssh-keyscan prints first"
        ]
    if not _is_public_key(line):
        return ["host_key: not a public key asyncssh can read (type and base64 must match)"]
    return []


def known_hosts_problems(known_hosts: str) -> list[str]:
    if len(known_hosts) > MAX_KNOWN_HOSTS_CHARS:
        return [f"known_hosts: at most {MAX_KNOWN_HOSTS_CHARS} characters"]
    entries = [
        (number, line.strip())
        for number, line in enumerate(known_hosts.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not entries:
        return ["known_hosts: has no entry; paste the output of ssh-keyscan"]
    # Line numbers only: a bad line might be something pasted by mistake (a private key).
    bad = [str(number) for number, line in entries if not _is_known_hosts_entry(line)]
    if bad:
        return [
            f"known_hosts: line {', '.join(bad)} is not a known_hosts entry "
            '("host[,host...] ssh-ed25519 AAAA...")'
        ]
    return []


def _is_known_hosts_entry(line: str) -> bool:
    parts = line.split()
    if parts and parts[0].startswith("@"):  # @cert-authority / @revoked
        parts = parts[1:]
    if len(parts) < 3:
        return False
    key_line = " ".join(parts[1:3])
    return bool(PUBLIC_KEY_LINE.fullmatch(key_line)) and _is_public_key(key_line)


def _is_public_key(line: str) -> bool:
    try:
        asyncssh.import_public_key(line)
    except (asyncssh.KeyImportError, ValueError):
        return False
    return True


def private_key_problems(secret: str, passphrase: str | None) -> list[str]:
    """Problems with a private key (and its passphrase), as `credential.<field>: ...`."""
    if not 0 < len(secret) <= MAX_PRIVATE_KEY_CHARS:
        return [f"credential.secret: a private key of at most {MAX_PRIVATE_KEY_CHARS} characters"]
    passphrase = passphrase or None
    if passphrase is not None and len(passphrase) > MAX_PASSPHRASE_CHARS:
        return [f"credential.passphrase: at most {MAX_PASSPHRASE_CHARS} characters"]
    try:
        asyncssh.import_private_key(secret, passphrase)
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, ValueError) as err:
        return [_private_key_problem(err)]
    return []


def _private_key_problem(err: Exception) -> str:
    # asyncssh's messages never quote the key; ours do not either.
    text = str(err).lower()
    if "passphrase must be specified" in text:
        return "credential.passphrase: required: the private key is encrypted"
    if isinstance(err, asyncssh.KeyEncryptionError) or "decrypt" in text:
        return "credential.passphrase: wrong passphrase for this private key"
    return (
        "credential.secret: not a private key asyncssh can read "
        "(OpenSSH, PEM or PKCS#8 text, as in ~/.ssh/id_ed25519)"
    )
