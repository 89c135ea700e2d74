"""``policy --version``: the engine's version and a fingerprint of the rulebooks it would load."""

from __future__ import annotations

from importlib import metadata

import typer

from .. import __version__
from ..api import rulebook_fingerprint
from ..io.paths import default_policy_dir
from .common import exits


def package_version() -> str:
    """The installed distribution's version, or the source tree's when it is not installed."""
    try:
        return metadata.version("mo-policy-engine")
    except metadata.PackageNotFoundError:
        return __version__


def show_version(value: bool) -> None:
    """Typer callback of ``--version``: print and stop before any subcommand runs."""
    if not value:
        return
    with exits():
        directory = default_policy_dir()
        fingerprint, count = rulebook_fingerprint(directory)
        typer.echo(f"policy {package_version()}")
        typer.echo(f"rulebooks: {directory} ({count} files, sha256 {fingerprint})")
    raise typer.Exit()


VersionOption = typer.Option(
    False, "--version", callback=show_version, is_eager=True,
    help="Show the engine's version and the SHA-256 fingerprint of the rulebooks (the files under "
         "./policy, POLICY_DIR or the repository's policy/), then exit.")
