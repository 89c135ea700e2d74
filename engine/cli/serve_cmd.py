"""``policy serve``: the engine as an HTTP service (see docs/service.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..runtime.state import MAX_STEPS
from .common import CANNOT_RUN, PolicyOption, error, exits


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes; each loads the rulebooks once."),
    policy: Optional[Path] = PolicyOption,
    max_body_bytes: int = typer.Option(4_000_000, "--max-body-bytes", min=1, help="Largest request body (one case); 413 beyond it."),
    timeout: float = typer.Option(10.0, "--timeout", min=0.01, help="Seconds an evaluation may take, waiting included; 503 beyond it."),
    max_steps: int = typer.Option(MAX_STEPS, "--max-steps", min=1, max=MAX_STEPS, help=f"Rule and function computations one evaluation may take (at most the engine's {MAX_STEPS:,}); 422 with code E441 beyond it."),
    body_timeout: float = typer.Option(15.0, "--body-timeout", min=0.01, help="Seconds a client may take to send a request body (for a batch: between two chunks); 408 beyond it."),
    header_timeout: float = typer.Option(10.0, "--header-timeout", min=0.01, help="Seconds a client may take to send a request's line and headers, from opening the connection (or the request's first byte on a kept-alive one); 408 and a closed connection beyond."),
    max_in_flight: int = typer.Option(1, "--max-in-flight", min=1, max=256, help="Evaluations running at once per worker (threads; more only contend for the interpreter lock: scale with --workers)."),
    max_queue: int = typer.Option(64, "--max-queue", min=0, help="Evaluations waiting per worker; 429 beyond it."),
    evaluation_thread: bool = typer.Option(True, "--evaluation-thread/--no-evaluation-thread", help="Evaluate on a thread (the worker keeps answering health checks, 429s and timeouts meanwhile), or on the event loop: less CPU per request, but the worker answers nothing else while it evaluates and --timeout cannot cut an evaluation short (keep --max-steps small)."),
    inline_steps: int = typer.Option(1_000, "--inline-steps", min=0, max=MAX_STEPS, help="Steps a small evaluation may take on the event loop when the worker is idle (no hand-over to the thread: less CPU per request); one that needs more runs again on the thread. 0: always on the thread."),
    admin_reload: bool = typer.Option(False, "--admin-reload", help="Enable POST /v1/admin/reload (SIGHUP always reloads)."),
    check: bool = typer.Option(True, "--check/--no-check", help="Refuse rulebooks that fail `policy check` (at start and on reload)."),
    log_level: str = typer.Option("info", "--log-level", help="critical, error, warning, info or debug."),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request (off: it costs throughput)."),
):
    """Serve the engine over HTTP: POST /v1/evaluate, /v1/evaluate/batch, GET /v1/parameters/NAME,
    /v1/tables/NAME, /v1/rulebooks, /healthz, /metrics, /openapi.json and more. Stops cleanly on
    SIGTERM; SIGHUP reloads the rulebooks (checked, swapped atomically)."""
    from ..service.config import ServiceConfig
    from ..service.rulebooks import load
    from ..service.runner import StartFailed, serve

    if log_level.lower() not in ("critical", "error", "warning", "info", "debug"):
        error(f"--log-level {log_level!r} is not one of critical, error, warning, info, debug.")
        raise typer.Exit(CANNOT_RUN)
    config = ServiceConfig(policy=(str(policy),) if policy else (), max_body_bytes=max_body_bytes,
                           request_timeout=timeout, max_steps=max_steps,
                           body_timeout=body_timeout, header_timeout=header_timeout,
                           max_in_flight=max_in_flight,
                           max_queue=max_queue, evaluation_thread=evaluation_thread,
                           inline_steps=inline_steps,
                           admin_reload=admin_reload, check=check,
                           workers=workers)
    with exits():
        # Loaded (and checked) before the port opens, so that a set that fails is reported
        # here with its file and line; with several workers each loads its own copy again.
        rulebooks = load(config.policy, config.check)
        try:
            serve(config, host, port, None if workers > 1 else rulebooks,
                  log_level=log_level.lower(), access_log=access_log)
        except StartFailed as exc:
            error(str(exc))
            raise typer.Exit(CANNOT_RUN)
