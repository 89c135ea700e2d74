"""``policy build``: compile the rulebooks into one signed bundle file (or into the cache)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import PolicyOption, exits


def build_command(
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE", help="Write the bundle to this file (load it with POLICY_BUNDLE=FILE or Engine.load_bundle). Without it, fill the cache that `policy` commands use."),
    policy: Optional[Path] = PolicyOption,
):
    """Read, validate and compile the rulebooks once, into a bundle that later commands load in
    milliseconds. The bundle is signed with a key kept in your cache directory: it loads only for
    you, with this version of the engine."""
    with exits():
        from ..rulebook import bundle
        from ..api import Engine, read_rulebooks, rulebook_files
        from ..io.paths import default_policy_dir
        paths = [policy or default_policy_dir()]
        files = rulebook_files(paths)
        books = read_rulebooks(files)
        rulebooks_hash = bundle.content_hash(paths)
        if out is not None:
            written = bundle.write_bundle(out, books, rulebooks_hash)
        else:
            written = bundle.store_cached(rulebooks_hash, books)
            if written is None:
                typer.echo(f"The cache in {bundle.cache_dir()} cannot be used (it is turned off with "
                           "POLICY_NO_CACHE, or not private to you); nothing was written.", err=True)
                raise typer.Exit(2)
        try:
            Engine.load_bundle(written)          # refuse a bundle that does not load and compile
        except BaseException:
            written.unlink(missing_ok=True)
            raise
    typer.echo(f"{len(files)} rulebook file(s) compiled into {written} "
               f"({written.stat().st_size:,} bytes, SHA-256 "
               f"{bundle.sha256(written.read_bytes())}).", err=True)
