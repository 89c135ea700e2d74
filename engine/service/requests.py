"""Reading request bodies: within a size limit enforced while they arrive, and in time.

A body is never buffered whole before its size is known to be acceptable: a declared
``Content-Length`` over the limit is refused before anything is read, and a body without one
(chunked) is counted chunk by chunk and refused as soon as it passes the limit. The rest of an
oversized body is read and dropped (up to :data:`DRAIN_BYTES`) so that an ordinary client, which
sends its whole body before it reads the answer, receives the 413 instead of a reset connection.

Case bodies are JSON (``application/json``) or YAML (``application/yaml``, or no media type),
read as ``policy eval`` reads a case: numbers with a fraction as exact decimals, duplicate keys
refused.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

from ..errors import InputError, codes
from . import problems

#: Most bytes of an oversized body read and dropped before answering 413 and closing.
DRAIN_BYTES = 256_000_000

JSON_TYPES = ("application/json", "application/problem+json", "text/json")
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
#: Media types that do not say what the body is: read like a case file, JSON or YAML.
UNSPECIFIC_TYPES = ("", "text/plain", "application/octet-stream",
                    "application/x-www-form-urlencoded")
#: Where cases come from in error messages (``file`` of a problem located in the request).
SOURCE = "<request>"


def too_large(limit: int) -> problems.ServiceError:
    return problems.ServiceError(codes.FILE_TOO_LARGE, f"The request body is larger than the limit of "
                                 f"{limit:,} bytes; it is refused.", status=413)


def declared_length(request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise problems.ServiceError(problems.BAD_QUERY, "The Content-Length header is not a "
                                    "whole number.", status=400)
    return int(raw)


async def read_body(request, limit: int, timeout: float) -> bytes:
    """The whole body, at most ``limit`` bytes, received within ``timeout`` seconds."""
    length = declared_length(request)
    if length is not None and length > limit:
        if length <= DRAIN_BYTES and "100-continue" not in request.headers.get("expect", "").lower():
            await _drain(request, timeout)
        raise too_large(limit)
    chunks, size = [], 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    await _drain(request, timeout, size)
                    raise too_large(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise problems.ServiceError(problems.BODY_TIMEOUT, f"The request body did not arrive "
                                    f"within {timeout:g} seconds.") from None
    return b"".join(chunks)


async def _drain(request, timeout: float, already: int = 0) -> None:
    """Read and drop the rest of a body that will be refused, within bounds."""
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                already += len(chunk)
                if already > DRAIN_BYTES:
                    return
    except Exception:      # the client went away or is too slow: answer anyway
        return


async def first_chunk(request, timeout: float):
    """The body's chunks as an async iterator, after waiting for the first non-empty one; None
    for an empty body (so that an empty batch is refused before the answer starts)."""
    stream = request.stream().__aiter__()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in stream:
                if chunk:
                    return _prepend(chunk, stream)
    except TimeoutError:
        raise problems.ServiceError(problems.BODY_TIMEOUT, f"The request body did not start "
                                    f"within {timeout:g} seconds.") from None
    return None


async def _prepend(chunk, stream):
    yield chunk
    async for more in stream:
        yield more


async def lines(chunks, line_limit: int, total_limit: int, timeout: float):
    """The lines (bytes, without the newline) of a body's chunks as they arrive, for JSONL.

    Yields ``(number, line)``, or ``(number, ServiceError)`` for a line over ``line_limit`` (the
    line is skipped); stops with a ServiceError item once ``total_limit`` bytes were read.
    """
    buffer, size, number, skipping = b"", 0, 0, False
    stream = chunks.__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), timeout)
        except StopAsyncIteration:
            break
        except TimeoutError:
            yield number + 1, problems.ServiceError(
                problems.BODY_TIMEOUT, f"No data arrived for {timeout:g} seconds; the batch "
                "stops here.")
            return
        size += len(chunk)
        if size > total_limit:
            yield number + 1, too_large(total_limit)
            return
        buffer += chunk
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                break
            line, buffer = buffer[:end], buffer[end + 1:]
            number += 1
            if skipping:
                skipping = False
                continue
            if line.strip():
                yield number, (line if len(line) <= line_limit else _line_too_large(line_limit))
        if len(buffer) > line_limit and not skipping:
            number += 1
            yield number, _line_too_large(line_limit)
            buffer, skipping = b"", True
        elif skipping:
            buffer = b""
    if buffer.strip() and not skipping:
        yield number + 1, buffer


def _line_too_large(limit: int) -> problems.ServiceError:
    return problems.ServiceError(codes.FILE_TOO_LARGE, f"This line is longer than the limit of {limit:,} "
                                 "bytes; it is skipped.", status=413)


def parse_case(body: bytes, media_type: str | None):
    """A case as data from a request body.

    ``application/json`` is read by the JSON parser (the fast path). A YAML media type, or one
    that says nothing about the format (none, ``text/plain``, ``application/octet-stream``, or
    the form type ``curl -d`` sends), is read as ``policy eval -`` reads standard input: by the
    engine's YAML loader, which reads JSON too. Any other media type is refused (415).
    """
    media_type = (media_type or "").split(";")[0].strip().lower()
    if media_type in JSON_TYPES or media_type.endswith("+json"):
        return parse_json(body)
    if media_type in YAML_TYPES or media_type in UNSPECIFIC_TYPES:
        from ..io.yaml_loader import loads   # the loader `policy eval -` reads standard input with
        text = _text(body)
        try:
            return loads(text, SOURCE)
        except (ValueError, RecursionError) as exc:    # e.g. an integer of 5,000 digits
            raise InputError(f"The body has a value that cannot be read: {exc}.", code=codes.NOT_A_NUMBER,
                             file=SOURCE) from None
    raise problems.ServiceError(problems.UNSUPPORTED_MEDIA_TYPE, f"The body is {media_type}; "
                                "send application/json or application/yaml.")


def parse_json(body: bytes):
    """JSON as the engine reads it: exact decimals, duplicate keys refused, depth bounded."""
    text = _text(body)
    try:
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicates)
    except InputError:
        raise
    except json.JSONDecodeError as exc:
        raise InputError(f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column "
                         f"{exc.colno}).", code=codes.UNREADABLE_YAML, file=SOURCE, line=exc.lineno) from None
    except RecursionError:
        raise InputError("The body nests too deeply to be a case.", code=codes.TOO_DEEP,
                         file=SOURCE) from None
    except ValueError as exc:       # an integer with more digits than Python converts
        raise InputError(f"The body has a number that cannot be read: {exc}.", code=codes.NOT_A_NUMBER,
                         file=SOURCE) from None


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"The key {key!r} appears twice in the same object.", code=codes.DUPLICATE_KEY,
                             file=SOURCE)
        out[key] = value
    return out


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"The body is not UTF-8 text (byte {exc.start}).", code=codes.NOT_UTF8,
                         file=SOURCE) from None
