"""uvicorn's HTTP/1.1 protocol with the limits a slow or hostile client must meet.

uvicorn (httptools) closes a connection that stays idle for the keep-alive time *after* a
response, but puts no limit on a connection that is opened and never sent anything, nor on a
client that sends its request head a byte every few seconds (each byte restarts nothing and
cancels the keep-alive timer), nor on the size of that head. Such connections hold a socket,
memory and a place in the connection count for as long as the client likes: the "slow loris".
This protocol adds three bounds:

* **the head** (request line and headers) must be complete within ``header_timeout`` seconds of
  the connection being opened, or of the first byte of a following request on a kept-alive
  connection. A client that sent part of a head then gets ``408`` (problem+json, code E602) and
  the connection is closed; one that sent nothing is simply disconnected.
* **the body** must be complete within ``body_timeout`` seconds (plus :data:`BODY_GRACE`) after
  the head. The application's own limit (``--body-timeout``, answered with 408 while it reads
  the body) normally comes first; this one also covers a body the application does not read
  (a 404, say) and closes the connection.
* **the head's size**: past ``max_head_bytes`` (64 KiB) the answer is ``431`` and the connection
  is closed, instead of headers piling up in memory.

The limits are class attributes set by :func:`configure` in each worker process before it
serves (``policy serve`` passes this class to uvicorn by its import path, so that worker
processes load it too).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from . import problems
from .encoding import dumps

#: The import path uvicorn is given.
IMPORT_PATH = "engine.service.protocol:BoundedHttpToolsProtocol"
#: Seconds past ``body_timeout`` before the connection itself is closed (the application's
#: own 408 comes first when it is reading the body).
BODY_GRACE = 1.0


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with a deadline for the request head and body and a head size limit."""

    header_timeout: float = 10.0
    body_timeout: float = 15.0
    max_head_bytes: int = 65_536
    #: Gives the fingerprint of the rulebooks served (for the header of a 408), or None.
    fingerprint = staticmethod(lambda: None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._deadline = None          # the timer of the head or body being awaited
        self._head_bytes = 0
        self._in_head = False          # a byte of a request head arrived, not yet its end

    # -- the deadlines ------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm(self.header_timeout, self._head_expired)     # a silent connection too

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        if self._deadline is None:      # a following request on a kept-alive connection
            self._arm(self.header_timeout, self._head_expired)

    def data_received(self, data: bytes) -> None:
        if not self.transport.is_closing():     # nothing more is read from a refused client
            super().data_received(data)

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self.transport.is_closing():         # refused while the head arrived
            return
        self._in_head = False
        self._arm(self.body_timeout + BODY_GRACE, self._body_expired)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self.transport.is_closing():
            return
        # Between two pieces of the body, as --body-timeout counts for a batch; the whole of a
        # single case's body is bounded by the application, which reads it within that time.
        self._arm(self.body_timeout + BODY_GRACE, self._body_expired)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        super().on_message_complete()

    def _arm(self, seconds: float, callback) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._in_head and self._no_response_under_way():
            self._refuse(problems.ServiceError(
                problems.BODY_TIMEOUT, f"The request head (request line and headers) did not "
                f"arrive within {self.header_timeout:g} seconds.", status=408))
        else:
            self.transport.close()

    def _body_expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_started:
            self._refuse(problems.ServiceError(
                problems.BODY_TIMEOUT, f"The request body did not arrive within "
                f"{self.body_timeout:g} seconds.", status=408))
        else:
            if self.cycle is not None:
                self.cycle.keep_alive = False
            self.transport.close()

    # -- the size of the head -----------------------------------------------------------------

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self._refuse(problems.ServiceError(
                problems.HEAD_TOO_LARGE, f"The request line and headers are longer than the limit "
                f"of {self.max_head_bytes:,} bytes.", status=431))

    # -- answering ----------------------------------------------------------------------------

    def _no_response_under_way(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _refuse(self, error: problems.ServiceError) -> None:
        """Answer with ``error`` as problem+json and close the connection."""
        self._disarm()
        body = dumps(problems.document(error))
        head = [b"HTTP/1.1 %d %s" % (error.status, problems.TITLES.get(error.status, "Error")
                                      .encode("ascii")),
                b"content-type: " + problems.MEDIA_TYPE.encode("ascii"),
                b"content-length: %d" % len(body), b"connection: close"]
        fingerprint = self.fingerprint()
        if fingerprint:
            head.append(b"x-rulebook-fingerprint: " + fingerprint.encode("ascii"))
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()


def configure(header_timeout: float, body_timeout: float, fingerprint=None) -> None:
    """Set the limits of this process's connections (before it serves)."""
    BoundedHttpToolsProtocol.header_timeout = header_timeout
    BoundedHttpToolsProtocol.body_timeout = body_timeout
    if fingerprint is not None:
        BoundedHttpToolsProtocol.fingerprint = staticmethod(fingerprint)
