"""Access-key/secret pairs the API accepts, from the environment or ``<home>/credentials``.

The file is AWS's ini format (``[name]`` sections with ``aws_access_key_id`` and
``aws_secret_access_key``), so the same file can be handed to any AWS tool. On first start it is created
with one random ``[default]`` pair, readable by its owner only. The environment pair
(``TRAINPLANE_ACCESS_KEY_ID`` / ``TRAINPLANE_SECRET_ACCESS_KEY``) is accepted beside the file's and,
when set, is the one ``trainplane env`` hands to clients.
"""

from __future__ import annotations

import configparser
import os
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trainplane.errors import ConfigurationError

KEY_ENV = "TRAINPLANE_ACCESS_KEY_ID"
SECRET_ENV = "TRAINPLANE_SECRET_ACCESS_KEY"
_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


@dataclass(frozen=True)
class KeyPair:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class Credentials:
    """``primary`` is the pair clients are told to use; ``secrets`` maps every accepted key to its secret."""

    primary: KeyPair
    secrets: Mapping[str, str]


def credentials_path(home: Path) -> Path:
    return home / "credentials"


def random_pair() -> KeyPair:
    # "TPIA" echoes AWS's "AKIA" prefix for long-term user keys; the length (20/40) matches AWS too.
    key = "TPIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    return KeyPair(key, secret)


def load_job_pair(path: Path) -> KeyPair:
    """The S3-only key pair handed to jobs (``path``, created once with a random pair): SeaweedFS
    accepts it, the SageMaker API does not, so a job's code can reach its data but not drive jobs."""
    if not path.exists():
        _write_new_file(path, random_pair())
    pairs = _read_file(path)
    if not pairs:
        raise ConfigurationError(f"{path} names no access key (aws_access_key_id / aws_secret_access_key)")
    return pairs[0]


def _write_new_file(path: Path, pair: KeyPair) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "[default]\n"
        f"aws_access_key_id = {pair.access_key_id}\n"
        f"aws_secret_access_key = {pair.secret_access_key}\n"
    )
    # O_EXCL: two servers starting at once must not overwrite each other's freshly issued pair.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _read_file(path: Path) -> list[KeyPair]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text())
    except configparser.Error as exc:
        raise ConfigurationError(f"Cannot parse credentials file {path}: {exc}") from exc
    pairs = []
    for section in ["default", *[s for s in parser.sections() if s != "default"]]:
        if parser.has_option(section, "aws_access_key_id"):
            secret = parser.get(section, "aws_secret_access_key", fallback="")
            if not secret:
                raise ConfigurationError(f"{path} [{section}] has a key id but no aws_secret_access_key")
            pairs.append(KeyPair(parser.get(section, "aws_access_key_id"), secret))
    return pairs


def load_credentials(home: Path, environ: Mapping[str, str]) -> Credentials:
    """Accepted pairs: the environment's, then the file's (created with a random pair if missing)."""
    env_key, env_secret = environ.get(KEY_ENV, ""), environ.get(SECRET_ENV, "")
    if bool(env_key) != bool(env_secret):
        raise ConfigurationError(f"Set both {KEY_ENV} and {SECRET_ENV}, or neither.")
    path = credentials_path(home)
    if not path.exists():
        _write_new_file(path, random_pair())
    pairs = _read_file(path)
    if env_key:
        pairs.insert(0, KeyPair(env_key, env_secret))
    if not pairs:
        raise ConfigurationError(f"{path} names no access key (aws_access_key_id / aws_secret_access_key)")
    return Credentials(
        primary=pairs[0], secrets={p.access_key_id: p.secret_access_key for p in reversed(pairs)}
    )
