"""The engine's per-user cache: where it lives, who may write it, the key that signs what it holds.

Compiled rulebook bundles (:mod:`engine.rulebook.bundle`) and generated code such as the compiled
case validator (:mod:`engine.io.schemas`) are kept here. Anything read back is trusted only when
the directory and file belong to this user, no one else may write them, and an HMAC made with the
user's own key verifies; a cache entry is never used by another version of the engine (its
fingerprint covers the engine's source and schemas).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import sys
from pathlib import Path
from typing import Iterable

from .paths import schemas_dir

#: The engine's own source tree (its fingerprint covers every module in it).
_ENGINE_DIR = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------------------------
# Fingerprints and hashes
# ----------------------------------------------------------------------------------------------

_FINGERPRINT: str | None = None


def engine_fingerprint() -> str:
    """A hash of the engine's source files and schemas, and of the Python version.

    The sources include ``engine/__init__.py`` and its ``__version__``, so a new version of the
    engine gives a new fingerprint; the Python version, since the pickled syntax trees and the
    marshalled code a bundle or the cache hold are specific to it. (The installed distribution's
    version is not asked for: ``importlib.metadata`` was a tenth of a cold start.)"""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        digest = hashlib.sha256(f"engine {sys.version}".encode())
        for base in (_ENGINE_DIR, schemas_dir()):
            for path in sorted(base.rglob("*")):
                if path.suffix in (".py", ".json") and path.is_file() and "_bundled" not in path.parts:
                    digest.update(str(path.relative_to(base)).encode() + b"\0")
                    digest.update(path.read_bytes())
        _FINGERPRINT = digest.hexdigest()
    return _FINGERPRINT


def content_hash(paths: Iterable[str | Path]) -> str:
    """A hash of every file under the rulebook paths (rulebooks, templates, anything else)."""
    digest = hashlib.sha256()
    for path in map(Path, paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        # as given too: the built files name themselves by the path they were read from
        digest.update(f"{path}\0{path.resolve()}\0".encode())
        for file in files:
            digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode() + b"\0")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------------
# The per-user directory and key
# ----------------------------------------------------------------------------------------------

def cache_dir() -> Path:
    if os.environ.get("POLICY_CACHE_DIR"):
        return Path(os.environ["POLICY_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mo-policy-engine"


def private_to_user(path: Path, directory: bool = False) -> bool:
    """True when ``path`` belongs to this user and no one else may write it."""
    try:
        info = path.stat()
    except OSError:
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)


def user_key(create: bool) -> bytes | None:
    """This user's secret key for signing bundles (made on first use when ``create``)."""
    directory = cache_dir()
    key_path = directory / "key"
    if not key_path.exists():
        if not create:
            return None
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not private_to_user(directory, directory=True):
            return None
        try:
            descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(32))
    if not (private_to_user(directory, directory=True) and private_to_user(key_path)):
        return None
    key = key_path.read_bytes()
    return key if len(key) == 32 else None



def cache_enabled() -> bool:
    return os.environ.get("POLICY_NO_CACHE", "") in ("", "0")
