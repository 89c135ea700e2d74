"""Compiled rulebook bundles: start in milliseconds instead of re-reading two dozen YAML files.

Reading the rulebooks (YAML parsing, schema validation, building definitions and parsing every
expression) was most of a cold ``policy eval``. The result of that work, the built
:class:`~engine.rulebook.RulebookFile` objects, is the same until a rulebook, a template, a
schema or the engine itself changes, so it is kept in one file:

* a **cache** in the user's cache directory (``$POLICY_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/mo-policy-engine``, else ``~/.cache/mo-policy-engine``), one bundle per
  content hash of the rulebook directories, used by :meth:`Engine.load` automatically
  (``POLICY_NO_CACHE=1`` turns it off);
* an explicit **bundle file** written by ``policy build --out FILE`` and loaded with
  :meth:`Engine.load_bundle` (or ``POLICY_BUNDLE=FILE``), for deployments that ship one file.

A bundle is a pickle, and unpickling runs code, so nothing is unpickled unless all of these hold:

1. its **fingerprint** matches this engine: the package version and a hash of the engine's own
   source files and schemas (a bundle is never trusted across versions or edits);
2. for the cache, its **content hash** matches the rulebook files on disk now (any change to any
   file under the rulebook directories misses the cache);
3. its **HMAC** verifies with a per-user secret key (``key`` in the cache directory, created
   with mode 0600): a file someone else planted or copied in does not verify;
4. the cache directory and the file belong to the current user and are not writable by others;
5. the unpickler resolves only the engine's own classes and a short list of standard types.

Interned citations are re-interned in the order they were first built, so citations print in
the same order as after reading the YAML.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import pickle
import secrets
import stat
from pathlib import Path

from ..model import citations as citation_lib
from ..errors import InputError

MAGIC = b"MO-POLICY-BUNDLE 1\n"
#: Bundles kept in the cache directory (the oldest are removed).
MAX_CACHED = 16
_ENGINE_DIR = Path(__file__).resolve().parent


# ----------------------------------------------------------------------------------------------
# Fingerprints and hashes
# ----------------------------------------------------------------------------------------------

_FINGERPRINT: str | None = None


def engine_fingerprint() -> str:
    """The engine's version and a hash of its source files and schemas."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        from .. import __version__
        from ..io.paths import schemas_dir
        digest = hashlib.sha256(__version__.encode())
        for base in (_ENGINE_DIR, schemas_dir()):
            for path in sorted(base.rglob("*")):
                if path.suffix in (".py", ".json") and path.is_file() and "_bundled" not in path.parts:
                    digest.update(str(path.relative_to(base)).encode() + b"\0")
                    digest.update(path.read_bytes())
        _FINGERPRINT = digest.hexdigest()
    return _FINGERPRINT


def content_hash(paths) -> str:
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


def _private(path: Path, directory: bool = False) -> bool:
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


def _key(create: bool) -> bytes | None:
    """This user's secret key for signing bundles (made on first use when ``create``)."""
    directory = cache_dir()
    key_path = directory / "key"
    if not key_path.exists():
        if not create:
            return None
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _private(directory, directory=True):
            return None
        try:
            descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(32))
    if not (_private(directory, directory=True) and _private(key_path)):
        return None
    key = key_path.read_bytes()
    return key if len(key) == 32 else None


# ----------------------------------------------------------------------------------------------
# Writing and reading
# ----------------------------------------------------------------------------------------------

def restore_citation(source, section, memo, url, note, archive=None):
    """Unpickling a citation gives the process's interned one (with its bit, and the archive its
    source declared: engine.model.archives)."""
    citation = citation_lib.intern(citation_lib.Citation(source, section, memo, url, note))
    if archive is not None:
        for target in {citation, citation.canonical}:
            object.__setattr__(target, "archive", archive)
    return citation


class _Pickler(pickle.Pickler):
    """Citations are pickled by their fields (and noted, so that the bundle lists only its own)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.citations: set = set()

    def reducer_override(self, obj):
        if type(obj) is citation_lib.Citation:
            self.citations.add(obj)
            self.citations.add(obj.canonical)
            fields = (obj.source, obj.section, obj.memo, obj.url, obj.note)
            if obj.archive is not None:
                self.citations.add(obj.archive.successor)
                self.citations.add(obj.archive.successor.canonical)
                return restore_citation, fields + (obj.archive,)
            return restore_citation, fields
        return NotImplemented


#: What a bundle may name besides the engine's own modules.
_ALLOWED = {
    "builtins": {"set", "frozenset", "slice", "complex", "bytearray", "range"},
    "decimal": {"Decimal"},
    "datetime": {"date", "datetime", "timedelta"},
    "collections": {"OrderedDict", "defaultdict"},
    "copyreg": {"_reconstructor"},
    "re": {"_compile"},
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "engine" or module.startswith("engine."):
            if not name.startswith("__"):
                found = super().find_class(module, name)
                # classes, the citation restorer and marker objects: never another function
                if isinstance(found, type) or found is restore_citation or \
                        (not callable(found) and type(found).__module__.startswith("engine")):
                    return found
            raise pickle.UnpicklingError(f"a bundle may not name {module}.{name}")
        if module == "ast" and name[:1].isupper():
            return super().find_class(module, name)
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"a bundle may not name {module}.{name}")


def _header(fingerprint: str, rulebooks: str, payload_digest: str) -> bytes:
    return f"{fingerprint} {rulebooks} {payload_digest}\n".encode()


def dumps(books: list, rulebooks_hash: str, key: bytes) -> bytes:
    """A signed bundle of built rulebook files."""
    books_stream = io.BytesIO()
    slim = []
    for book in books:
        data, book.data = book.data, None          # the parsed YAML is for `policy check` only
        slim.append((book, data))
    try:
        pickler = _Pickler(books_stream, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dump(books)
    finally:
        for book, data in slim:
            book.data = data
    # The bundle's own citations in the order this process first interned them (not those of
    # other rulebooks loaded in the same process).
    order = [(c.source, c.section, c.memo, c.url, c.note) for c in citation_lib.interned()
             if c in pickler.citations]
    head = pickle.dumps(order, protocol=pickle.HIGHEST_PROTOCOL)
    payload = len(head).to_bytes(8, "big") + head + books_stream.getvalue()
    header = _header(engine_fingerprint(), rulebooks_hash, hashlib.sha256(payload).hexdigest())
    signature = hmac.new(key, header + payload, hashlib.sha256).hexdigest().encode() + b"\n"
    return MAGIC + header + signature + payload


class BundleRefused(Exception):
    """Why a bundle was not loaded (the caller reads the YAML instead, or reports it)."""


def loads(blob: bytes, key: bytes | None, rulebooks_hash: str | None = None) -> list:
    """The built rulebook files of a bundle, after every check in the module docstring."""
    if not blob.startswith(MAGIC):
        raise BundleRefused("it is not a rulebook bundle")
    rest = blob[len(MAGIC):]
    header_end = rest.find(b"\n") + 1
    signature_end = rest.find(b"\n", header_end) + 1
    if not header_end or not signature_end:
        raise BundleRefused("it is truncated")
    header, signature, payload = rest[:header_end], rest[header_end:signature_end - 1], rest[signature_end:]
    try:
        fingerprint, rulebooks, digest = header.decode().split()
    except ValueError:
        raise BundleRefused("its header is damaged") from None
    if fingerprint != engine_fingerprint():
        raise BundleRefused("it was built by another version of the engine")
    if rulebooks_hash is not None and rulebooks != rulebooks_hash:
        raise BundleRefused("the rulebooks have changed since it was built")
    if key is None:
        raise BundleRefused("there is no signing key for this user")
    expected = hmac.new(key, header + payload, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, signature):
        raise BundleRefused("its signature does not verify (it was not built by this user here)")
    if hashlib.sha256(payload).hexdigest() != digest:
        raise BundleRefused("it is damaged")
    size = int.from_bytes(payload[:8], "big")
    # first the citations in their first-built order, so that their bits keep that order
    for fields in _Unpickler(io.BytesIO(payload[8:8 + size])).load():
        restore_citation(*fields)
    return _Unpickler(io.BytesIO(payload[8 + size:])).load()


# ----------------------------------------------------------------------------------------------
# The cache and explicit bundle files
# ----------------------------------------------------------------------------------------------

def cache_enabled() -> bool:
    return os.environ.get("POLICY_NO_CACHE", "") in ("", "0")


def _cache_file(rulebooks_hash: str) -> Path:
    return cache_dir() / f"{rulebooks_hash[:32]}.bundle"


def load_cached(rulebooks_hash: str) -> list | None:
    """The built rulebook files for this content hash, or None (a miss, or a file refused)."""
    if not cache_enabled():
        return None
    path = _cache_file(rulebooks_hash)
    if not path.is_file() or not _private(path):
        return None
    try:
        return loads(path.read_bytes(), _key(create=False), rulebooks_hash)
    except (BundleRefused, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError,
            ValueError, OSError):
        return None


def store_cached(rulebooks_hash: str, books: list) -> Path | None:
    """Keep the built files in the cache (best effort: a cache that cannot be written is skipped)."""
    if not cache_enabled():
        return None
    try:
        key = _key(create=True)
        if key is None:
            return None
        blob = dumps(books, rulebooks_hash, key)
        path = _cache_file(rulebooks_hash)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(blob)
        os.replace(temporary, path)
        _prune(path.parent)
        return path
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return None


def _prune(directory: Path) -> None:
    bundles = sorted(directory.glob("*.bundle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in bundles[MAX_CACHED:]:
        try:
            old.unlink()
        except OSError:
            pass


def write_bundle(path: str | Path, books: list, rulebooks_hash: str) -> Path:
    """``policy build --out FILE``: one signed bundle file."""
    key = _key(create=True)
    if key is None:
        raise InputError(f"The cache directory {cache_dir()} (which holds the key bundles are "
                         "signed with) must belong to you and not be writable by others.",
                         code="E113", file=str(cache_dir()))
    path = Path(path)
    path.write_bytes(dumps(books, rulebooks_hash, key))
    return path


def read_bundle(path: str | Path) -> list:
    """The built rulebook files of a bundle file; InputError (E113) saying why it is refused."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise InputError(f"The bundle {path} cannot be read: {exc.strerror}.", code="E107",
                         file=str(path)) from None
    try:
        return loads(blob, _key(create=False))
    except BundleRefused as exc:
        raise InputError(f"The bundle {path} cannot be used: {exc}. Build it again with "
                         "`policy build --out FILE`.", code="E113", file=str(path)) from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError) as exc:
        raise InputError(f"The bundle {path} cannot be used: {exc}. Build it again with "
                         "`policy build --out FILE`.", code="E113", file=str(path)) from None


# ----------------------------------------------------------------------------------------------
# Compiled code (the case validator)
# ----------------------------------------------------------------------------------------------

CODE_MAGIC = b"MO-POLICY-CODE 1\n"


def cached_code(name: str, make_source, filename: str):
    """The code object of Python source the engine generates (such as the case validator that
    fastjsonschema writes), compiled once and kept in the cache as signed marshal data.

    ``make_source()`` is called only on a miss. The cache key covers the engine's fingerprint and
    the Python version (marshal data is specific to it)."""
    import marshal
    import sys
    tag = hashlib.sha256(f"{engine_fingerprint()} {sys.version} {name}".encode()).hexdigest()[:32]
    path = cache_dir() / f"{name}-{tag}.code"
    key = _key(create=False) if cache_enabled() else None
    if key is not None and path.is_file() and _private(path):
        blob = path.read_bytes()
        if blob.startswith(CODE_MAGIC):
            signature, _, payload = blob[len(CODE_MAGIC):].partition(b"\n")
            expected = hmac.new(key, payload, hashlib.sha256).hexdigest().encode()
            if hmac.compare_digest(expected, signature):
                try:
                    return marshal.loads(payload)
                except (EOFError, ValueError, TypeError):
                    pass
    code = compile(make_source(), filename, "exec")
    if cache_enabled():
        key = key or _key(create=True)
        if key is not None:
            payload = marshal.dumps(code)
            signature = hmac.new(key, payload, hashlib.sha256).hexdigest().encode()
            try:
                temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(CODE_MAGIC + signature + b"\n" + payload)
                os.replace(temporary, path)
            except OSError:
                pass
    return code
