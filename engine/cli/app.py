"""The ``policy`` command line: subcommands assembled from one module each."""

from __future__ import annotations

import typer

from .batch_cmd import batch_command
from .check_cmd import check_command
from .diff_cmd import diff_command
from .docs_cmd import docs_command
from .eval_cmd import eval_command
from .param_cmd import param_command
from .table_cmd import table_command
from .test_cmd import test_command
from .dates_cmd import dates_command
from .notice_cmd import notice_command
from .change_cmd import change_command
from .build_cmd import build_command
from .sweep_cmd import sweep_command
from .fmt_cmd import fmt_command
from .serve_cmd import serve_command
from .version_cmd import VersionOption

app = typer.Typer(
    name="policy",
    help="Missouri Income Maintenance policy as data: evaluate cases, check and test rulebooks.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def options(version: bool = VersionOption) -> None:
    """Missouri Income Maintenance policy as data: evaluate cases, check and test rulebooks."""


app.command("eval")(eval_command)
app.command("check")(check_command)
app.command("test")(test_command)
app.command("param")(param_command)
app.command("chart")(table_command)
app.command("table", help="The same as `policy chart` (the name the contract gives it).")(table_command)
app.command("diff")(diff_command)
app.command("batch")(batch_command)
app.command("docs")(docs_command)
app.command("dates")(dates_command)
app.command("notice")(notice_command)
app.command("change")(change_command)
app.command("build")(build_command)
app.command("sweep")(sweep_command)
app.command("fmt")(fmt_command)
app.command("serve")(serve_command)


def main() -> None:
    app(prog_name="policy")
