"""A `because` template restored from a pickle (the rulebook bundle) renders from the code it
carries, without compiling its text again (engine/language/reasons.py)."""

from __future__ import annotations

import pickle
from decimal import Decimal

from engine.language import reasons
from engine.language.reasons import Reason

TEXT = "{{ person }} has {{ value | money }} a month; {{ 'pregnant' if pregnant else 'not pregnant' }}."
VARIABLES = {"person": "mom", "value": Decimal("5199.60"), "pregnant": False}


def test_restored_reason_renders_without_compiling(monkeypatch):
    fresh = Reason(TEXT, "x.yaml", 3)
    expected = fresh.render(VARIABLES)
    assert expected == "mom has $5,199.60 a month; not pregnant."
    restored = pickle.loads(pickle.dumps(Reason(TEXT, "x.yaml", 3)))
    assert (restored.names, restored.dotted, restored.bare, restored.file, restored.line) == \
        (fresh.names, fresh.dotted, fresh.bare, "x.yaml", 3)

    def refuse(*args, **kwargs):
        raise AssertionError("the template was compiled again")
    monkeypatch.setattr(reasons.ENVIRONMENT, "compile", refuse)
    assert restored.render(VARIABLES) == expected


def test_code_of_another_python_is_not_used(monkeypatch):
    state = Reason(TEXT, None, None).__getstate__()
    state["code"] = ("cpython-0", state["code"][1])
    other = Reason.__new__(Reason)
    other.__setstate__(state)
    compiled = []
    original = reasons.ENVIRONMENT.compile
    monkeypatch.setattr(reasons.ENVIRONMENT, "compile",
                        lambda *a, **k: compiled.append(1) or original(*a, **k))
    assert other.render(VARIABLES) == "mom has $5,199.60 a month; not pregnant."
    assert compiled


def test_damaged_code_falls_back_to_the_text():
    state = Reason(TEXT, None, None).__getstate__()
    state["code"] = (state["code"][0], b"not marshal data")
    other = Reason.__new__(Reason)
    other.__setstate__(state)
    assert other.render(VARIABLES) == "mom has $5,199.60 a month; not pregnant."


def test_the_sandbox_still_applies_to_restored_code():
    restored = pickle.loads(pickle.dumps(Reason("{{ value.__class__.__mro__ }}", None, None)))
    assert restored.render({"value": 1}).startswith("(reason unavailable")


def test_eval_prints_the_same_reasons_from_the_bundle(tmp_path):
    import json
    import os
    import subprocess
    import sys
    command = [sys.executable, "-m", "engine", "eval", "examples/jones.yaml", "--format", "json",
               "--as-of", "2025-06-01"]
    outputs = []
    for no_cache in ("1", "0", "0"):      # read from YAML; building the bundle; from the bundle
        env = dict(os.environ, POLICY_CACHE_DIR=str(tmp_path), POLICY_NO_CACHE=no_cache)
        outputs.append(subprocess.run(command, env=env, capture_output=True, text=True,
                                      check=True).stdout)
    assert list(tmp_path.glob("*.bundle"))
    assert outputs[0] == outputs[1] == outputs[2]
    premium = next(r for r in json.loads(outputs[2])["results"] if r["name"] == "chip.family_premium")
    assert premium["value"] == "242" and "$" in premium["because"]
