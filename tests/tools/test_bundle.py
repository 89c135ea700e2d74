"""Compiled rulebook bundles and the cache: the same results, invalidated on any change, and
nothing unpickled that this user's engine did not write."""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import Engine, api
from engine.io import cache as engine_cache
from engine.rulebook import bundle
from engine.errors import InputError

from .conftest import POLICY, ROOT, edited_policy

JONES = ROOT / "examples" / "jones.yaml"
runner = CliRunner()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("POLICY_CACHE_DIR", str(directory))
    monkeypatch.delenv("POLICY_NO_CACHE", raising=False)
    return directory


def outputs(engine: Engine) -> dict:
    return engine.evaluate(JONES, as_of="2018-06-01").as_dict()


def no_reading(monkeypatch):
    def refuse(files):
        raise AssertionError("the rulebooks were read although the cache should have served them")
    monkeypatch.setattr(api, "read_rulebooks", refuse)


def test_a_warm_cache_gives_the_same_results_without_reading_the_rulebooks(cache, monkeypatch):
    first = outputs(Engine.load(POLICY))
    assert len(list(cache.glob("*.bundle"))) == 1
    no_reading(monkeypatch)
    again = outputs(Engine.load(POLICY))
    assert again == first
    kid = next(r for r in again["results"] if r["name"] == "eligibility.level_of_care" and r["person"] == "kid1")
    assert kid["value"] == "CHIP_75"        # the manual's Jones example, 2018: 5% disregard


def test_any_change_to_the_rulebooks_misses_the_cache(cache, tmp_path):
    Engine.load(POLICY)
    # the 2018 guideline for one person, 12,140 (HHS 2018), edited in a copy: the copy is read
    copy = edited_policy(tmp_path, "fpl.yaml", "12140", "12150")
    engine = Engine.load(copy)
    assert engine.parameter("fpl.first_person", "2018-06-01").value == 12150
    assert len(list(cache.glob("*.bundle"))) == 2
    assert Engine.load(POLICY).parameter("fpl.first_person", "2018-06-01").value == 12140


def test_a_tampered_cache_file_is_not_unpickled_and_the_yaml_is_read(cache, monkeypatch):
    expected = outputs(Engine.load(POLICY))
    [path] = cache.glob("*.bundle")
    blob = bytearray(path.read_bytes())
    blob[-50] ^= 1
    path.write_bytes(bytes(blob))
    loaded = []
    real = pickle.Unpickler.load
    monkeypatch.setattr(bundle._Unpickler, "load", lambda self: loaded.append(1) or real(self))
    assert outputs(Engine.load(POLICY)) == expected
    assert not loaded                                 # refused before any unpickling


def test_a_planted_bundle_signed_with_another_key_is_refused(cache):
    Engine.load(POLICY)
    [path] = cache.glob("*.bundle")
    rulebooks = bundle.content_hash([POLICY])
    books = api.read_rulebooks(api.rulebook_files([POLICY]))
    path.write_bytes(bundle.dumps(books, rulebooks, os.urandom(32)))
    with pytest.raises(bundle.BundleRefused, match="signature"):
        bundle.loads(path.read_bytes(), bundle.user_key(create=False), rulebooks)


def test_even_a_correctly_signed_bundle_may_name_only_the_engines_own_classes(cache):
    Engine.load(POLICY)
    key = (cache / "key").read_bytes()
    head = pickle.dumps([])
    payload = len(head).to_bytes(8, "big") + head + pickle.dumps(os.system)   # not the engine's
    header = bundle._header(bundle.engine_fingerprint(), "x", hashlib.sha256(payload).hexdigest())
    signature = hmac.new(key, header + payload, hashlib.sha256).hexdigest().encode() + b"\n"
    with pytest.raises(pickle.UnpicklingError, match="may not name"):
        bundle.loads(bundle.MAGIC + header + signature + payload, key, "x")


def test_a_bundle_from_another_engine_version_is_refused(cache, monkeypatch):
    Engine.load(POLICY)
    [path] = cache.glob("*.bundle")
    monkeypatch.setattr(engine_cache, "_FINGERPRINT", "0" * 64)
    with pytest.raises(bundle.BundleRefused, match="another version"):
        bundle.loads(path.read_bytes(), bundle.user_key(create=False))


def test_a_cache_directory_others_may_write_is_not_used(cache):
    cache.mkdir(mode=0o700)
    os.chmod(cache, 0o777)
    Engine.load(POLICY)
    assert not list(cache.glob("*.bundle"))


def test_policy_build_writes_one_file_that_loads_to_the_same_engine(cache, tmp_path, monkeypatch):
    from engine.cli.app import app
    out = tmp_path / "rules.bundle"
    result = runner.invoke(app, ["build", "--out", str(out), "--policy", str(POLICY)])
    assert result.exit_code == 0, result.stderr
    expected = outputs(Engine.load(POLICY))
    no_reading(monkeypatch)
    assert outputs(Engine.load_bundle(out)) == expected
    monkeypatch.setenv("POLICY_BUNDLE", str(out))
    assert outputs(Engine.load()) == expected

    blob = bytearray(out.read_bytes())
    blob[-10] ^= 1
    out.write_bytes(bytes(blob))
    with pytest.raises(InputError) as caught:
        Engine.load_bundle(out)
    assert caught.value.problem.code == "E113" and "Build it again" in caught.value.problem.message
    result = runner.invoke(app, ["eval", str(JONES)])
    assert result.exit_code == 2 and "E113" in result.stderr and "Traceback" not in result.stderr


def test_a_signed_bundle_may_not_call_the_engines_own_functions(cache):
    Engine.load(POLICY)
    key = (cache / "key").read_bytes()
    head = pickle.dumps([])
    payload = len(head).to_bytes(8, "big") + head + pickle.dumps(bundle.cache_dir)   # a function
    header = bundle._header(bundle.engine_fingerprint(), "x", hashlib.sha256(payload).hexdigest())
    signature = hmac.new(key, header + payload, hashlib.sha256).hexdigest().encode() + b"\n"
    with pytest.raises(pickle.UnpicklingError, match="may not name engine.io.cache.cache_dir"):
        bundle.loads(bundle.MAGIC + header + signature + payload, key, "x")


def test_a_bundle_lists_only_its_own_citations_in_their_first_built_order(cache):
    from engine.model import citations
    foreign = citations.intern(citations.Citation("A source no rulebook cites", "1.2.3"))
    books = api.read_rulebooks(api.rulebook_files([POLICY]))
    blob = bundle.dumps(books, "x", os.urandom(32))
    payload = blob.split(b"\n", 3)[3]
    order = pickle.loads(payload[8:])              # the first pickle: the citation order only
    keys = [tuple(fields) for fields in order]
    assert ("A source no rulebook cites", "1.2.3", None, None, None) not in keys
    interned = [(c.source, c.section, c.memo, c.url, c.note) for c in citations.interned()]
    assert keys == [key for key in interned if key in set(keys)]       # same relative order
    assert len(keys) > 100 and foreign is citations.intern(citations.Citation("A source no rulebook cites", "1.2.3"))
