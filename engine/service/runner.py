"""Running the application under uvicorn: one process, or a supervisor and N workers.

* One process (the default): the rulebooks are loaded and checked before the port opens, so a
  set that fails is reported with its file and line and ``policy serve`` exits 2. SIGHUP
  reloads them in place (checked, then swapped atomically).
* ``--workers N``: uvicorn's supervisor binds the port and starts N processes, each of which
  loads the rulebooks once. SIGHUP to the supervisor replaces the workers one at a time, each
  replacement serving only once it has loaded and checked the rulebooks; one that fails is not
  brought in, and the old workers keep serving.

Connections are served by :mod:`.protocol` (uvicorn's httptools protocol with deadlines for
the request head and body, and a limit on the head's size), in every worker.

SIGTERM (or Ctrl-C) stops accepting connections, lets the requests in progress finish (up to
:data:`GRACE_SECONDS`) and exits 0.
"""

from __future__ import annotations

import inspect
import logging
import os
import signal
import sys

import uvicorn

from . import protocol
from .app import create_app, fingerprint_of
from .config import CONFIG_ENVIRONMENT, ServiceConfig
from .rulebooks import RulebookSet

#: Seconds the requests in progress get to finish after SIGTERM.
GRACE_SECONDS = 10
#: Seconds a new worker may take to load the rulebooks and start serving.
WORKER_START_SECONDS = 60
#: Seconds an idle keep-alive connection stays open.
KEEP_ALIVE_SECONDS = 5


class StartFailed(Exception):
    """The server could not start (the port is taken, the address cannot be bound)."""


def serve(config: ServiceConfig, host: str, port: int, rulebooks: RulebookSet | None = None,
          log_level: str = "info", access_log: bool = False) -> None:
    """Serve until SIGTERM or SIGINT; raise :class:`StartFailed` when the server cannot start."""
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s:     %(message)s",
                        stream=sys.stderr)
    options = dict(host=host, port=port, log_level=log_level, access_log=access_log,
                   timeout_graceful_shutdown=GRACE_SECONDS, timeout_keep_alive=KEEP_ALIVE_SECONDS,
                   lifespan="on", server_header=False, http=protocol.IMPORT_PATH)
    if config.workers > 1:
        os.environ[CONFIG_ENVIRONMENT] = config.to_environment()
        if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
            # A worker checks and compiles the rulebooks before it is ready: seconds, not the
            # 5 s uvicorn allows by default, on a busy machine.
            options["timeout_worker_healthcheck"] = WORKER_START_SECONDS
        try:
            uvicorn.run("engine.service.app:app_from_environment", factory=True,
                        workers=config.workers, **options)
        except SystemExit as exc:
            if exc.code:
                raise StartFailed(f"The server stopped with status {exc.code}; see the log "
                                  "above.") from None
        return
    app = create_app(config, rulebooks)
    protocol.configure(config.header_timeout, config.body_timeout, fingerprint_of(app))
    app.state.service.freeze()
    server = uvicorn.Server(uvicorn.Config(app, **options))

    def stop(signum, frame):
        # uvicorn replaces this handler while it runs and raises the signal again once it has
        # shut down; then this handler is back and the process ends normally, with status 0.
        server.should_exit = True
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except SystemExit as exc:
        if exc.code:
            raise StartFailed(f"The server could not start on {host}:{port}; see the log "
                              "above (is the port already in use?).") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not server.started:
        raise StartFailed(f"The server could not start on {host}:{port}; see the log above.")
