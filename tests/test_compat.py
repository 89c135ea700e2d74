"""Old import paths (from before the layer packages) keep working, with a DeprecationWarning."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

from engine.compat import MOVED


def test_every_old_module_path_is_the_new_module():
    """In a fresh interpreter, so that no test has imported the old names already."""
    script = (
        "import warnings, importlib\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "import engine\n"                              # importing the package itself is silent
        "from engine.compat import MOVED\n"
        "warnings.simplefilter('always', DeprecationWarning)\n"
        "for old_name, new_name in MOVED.items():\n"
        "    with warnings.catch_warnings(record=True) as caught:\n"
        "        old = importlib.import_module(old_name)\n"
        "    new = importlib.import_module(new_name)\n"
        "    assert old is new, (old, new)\n"
        "    assert new.__spec__.name == new_name, new.__spec__.name\n"
        "    assert [w.category for w in caught] == [DeprecationWarning], (old_name, caught)\n"
        "    assert new_name in str(caught[0].message), caught[0].message\n"
        "print(len(MOVED))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert int(done.stdout) == len(MOVED) >= 28


def test_engine_check_still_gives_check():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from engine.check import CheckReport, check
    from engine.checks import CheckReport as report, check as current
    assert check is current and CheckReport is report


def test_an_old_module_as_an_attribute_of_engine():
    import engine
    with pytest.warns(DeprecationWarning, match="engine.runtime.trace"):
        trace = engine.__getattr__("trace")
    assert trace is importlib.import_module("engine.runtime.trace")
    with pytest.raises(AttributeError):
        engine.__getattr__("no_such_module")


def test_the_reader_names_under_engine_rulebook():
    from engine.rulebook import reader
    with pytest.warns(DeprecationWarning, match="engine.rulebook.reader"):
        from engine.rulebook import read
    assert read is reader.read
