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

A bundle sent to workers on other machines (Spark executors) is loaded with
:func:`loads_pinned` instead of checks 2-4: the worker has no key of this user, so it checks the
bundle's SHA-256 against the digest the driver put into the task's own code (see that function).

Interned citations are re-interned in the order they were first built, so citations print in
the same order as after reading the YAML.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import io
import os
import pickle
from pathlib import Path

from ..model import citations as citation_lib
from ..errors import InputError, codes
from ..io.cache import (cache_dir, cache_enabled, content_hash, engine_fingerprint, private_to_user,
                       user_key)

MAGIC = b"MO-POLICY-BUNDLE 1\n"
#: Bundles kept in the cache directory (the oldest are removed).
MAX_CACHED = 16


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


#: Where a syntax-tree node was in its expression's text: nothing reads it once an expression is
#: parsed (errors quote the expression and its rulebook line), so a bundle leaves it out; that is
#: a sixth less to unpickle at every start.
_POSITIONS = frozenset(("lineno", "col_offset", "end_lineno", "end_col_offset"))


class _Pickler(pickle.Pickler):
    """Citations are pickled by their fields (and noted, so that the bundle lists only its own);
    syntax-tree nodes without their positions."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.citations: set = set()

    def reducer_override(self, obj):
        if isinstance(obj, ast.AST):
            return type(obj), (), {k: v for k, v in vars(obj).items() if k not in _POSITIONS}
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


def _parts(blob: bytes) -> tuple[str, str, str, bytes, bytes, bytes]:
    """A bundle's fingerprint, rulebooks hash and payload digest, its signed header, signature
    and payload; BundleRefused for anything that is not a whole bundle of this engine."""
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
    return fingerprint, rulebooks, digest, header, signature, payload


def _unpickle(payload: bytes, digest: str) -> list:
    if hashlib.sha256(payload).hexdigest() != digest:
        raise BundleRefused("it is damaged")
    size = int.from_bytes(payload[:8], "big")
    # first the citations in their first-built order, so that their bits keep that order
    for fields in _Unpickler(io.BytesIO(payload[8:8 + size])).load():
        restore_citation(*fields)
    return _Unpickler(io.BytesIO(payload[8 + size:])).load()


def loads(blob: bytes, key: bytes | None, rulebooks_hash: str | None = None) -> list:
    """The built rulebook files of a bundle, after every check in the module docstring."""
    _, rulebooks, digest, header, signature, payload = _parts(blob)
    if rulebooks_hash is not None and rulebooks != rulebooks_hash:
        raise BundleRefused("the rulebooks have changed since it was built")
    if key is None:
        raise BundleRefused("there is no signing key for this user")
    expected = hmac.new(key, header + payload, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, signature):
        raise BundleRefused("its signature does not verify (it was not built by this user here)")
    return _unpickle(payload, digest)


def sha256(blob: bytes) -> str:
    """The SHA-256 of a whole bundle, as :func:`loads_pinned` checks it."""
    return hashlib.sha256(blob).hexdigest()


def loads_pinned(blob: bytes, expected_sha256: str) -> list:
    """The built rulebook files of a bundle handed over by a process that already trusts it.

    A Spark executor (or any worker on another machine) runs as another user, or on a machine
    without this user's key, so it cannot check the HMAC. It is given instead, through a channel
    it already trusts (the task's own code, which Spark ships from the driver), the SHA-256 of
    the bundle the driver checked; the bytes that arrive by another way (a broadcast, a shared
    file) are unpickled only if they have exactly that digest. Every other check still applies:
    the engine fingerprint, the payload digest and the restricted unpickler. Trust therefore
    rests on the driver, which verified the bundle's signature (or built it) before pinning it.
    """
    if not isinstance(expected_sha256, str) or len(expected_sha256) != 64:
        raise BundleRefused("no SHA-256 was given to check it by")
    if not hmac.compare_digest(sha256(blob), expected_sha256.lower()):
        raise BundleRefused("its SHA-256 is not the one it was pinned to")
    _, _, digest, _, _, payload = _parts(blob)
    return _unpickle(payload, digest)


# ----------------------------------------------------------------------------------------------
# The cache and explicit bundle files
# ----------------------------------------------------------------------------------------------

def _cache_file(rulebooks_hash: str) -> Path:
    return cache_dir() / f"{rulebooks_hash[:32]}.bundle"


def load_cached(rulebooks_hash: str) -> list | None:
    """The built rulebook files for this content hash, or None (a miss, or a file refused)."""
    if not cache_enabled():
        return None
    path = _cache_file(rulebooks_hash)
    if not path.is_file() or not private_to_user(path):
        return None
    try:
        return loads(path.read_bytes(), user_key(create=False), rulebooks_hash)
    except (BundleRefused, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError,
            ValueError, OSError):
        return None


def store_cached(rulebooks_hash: str, books: list) -> Path | None:
    """Keep the built files in the cache (best effort: a cache that cannot be written is skipped)."""
    if not cache_enabled():
        return None
    try:
        key = user_key(create=True)
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
    key = user_key(create=True)
    if key is None:
        raise InputError(f"The cache directory {cache_dir()} (which holds the key bundles are "
                         "signed with) must belong to you and not be writable by others.",
                         code=codes.BUNDLE_REFUSED, file=str(cache_dir()))
    path = Path(path)
    path.write_bytes(dumps(books, rulebooks_hash, key))
    return path


def bundle_bytes(path: str | Path) -> bytes:
    """A bundle file's bytes, unchecked; InputError naming the file when it cannot be read."""
    path = Path(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"The bundle {path} cannot be read: {exc.strerror}.", code=codes.UNREADABLE_FILE,
                         file=str(path)) from None


def read_bundle(path: str | Path, blob: bytes | None = None) -> list:
    """The built rulebook files of a bundle file (``blob``: its bytes, when already read);
    InputError (E113) saying why it is refused."""
    path = Path(path)
    if blob is None:
        blob = bundle_bytes(path)
    try:
        return loads(blob, user_key(create=False))
    except BundleRefused as exc:
        raise InputError(f"The bundle {path} cannot be used: {exc}. Build it again with "
                         "`policy build --out FILE`.", code=codes.BUNDLE_REFUSED, file=str(path)) from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError) as exc:
        raise InputError(f"The bundle {path} cannot be used: {exc}. Build it again with "
                         "`policy build --out FILE`.", code=codes.BUNDLE_REFUSED, file=str(path)) from None
