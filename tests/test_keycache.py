"""The key cache: a second run skips key synthesis; concurrent writers never expose half a key."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.experiment import load_experiment
from workbench.pipeline import run_experiment
from workbench.prover import FunctionKeys
from workbench.snarkvm.keycache import KeyCache, cache_dir, clear, key_id

EXPERIMENT = Path(__file__).resolve().parent.parent / "experiments" / "iris_decision_tree.toml"


def test_key_id_depends_on_program_and_sdk_version() -> None:
    assert key_id(["program a.aleo;"], "0.8.0") != key_id(["program b.aleo;"], "0.8.0")
    assert key_id(["program a.aleo;"], "0.8.0") != key_id(["program a.aleo;"], "0.9.0")
    assert key_id(["program a.aleo;", "program b.aleo;"], "0.8.0") != key_id(["program a.aleo;"], "0.8.0")


def test_cache_dir_is_overridable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("WORKBENCH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "zkml-workbench" / "keys"


def test_store_load_clear(tmp_path: Path) -> None:
    cache = KeyCache(["program p.aleo;"], "0.8.0", root=tmp_path)
    assert cache.load("p.aleo", "main") is None
    cache.store("p.aleo", "main", FunctionKeys(prover="P" * 1000, verifier=b"V" * 10))
    assert cache.load("p.aleo", "main") == FunctionKeys(prover="P" * 1000, verifier=b"V" * 10)
    assert not [p for p in cache.dir.iterdir() if p.name.startswith(".")]  # no temporary files left
    assert clear(tmp_path) == (1, 1010)
    assert cache.load("p.aleo", "main") is None


def _writer(root: str, n: int) -> None:
    cache = KeyCache(["program p.aleo;"], "0.8.0", root=Path(root))
    for _ in range(n):
        cache.store("p.aleo", "main", FunctionKeys(prover="P" * 2_000_000, verifier=b"V" * 673))


def _reader(root: str, n: int, bad: "multiprocessing.Value") -> None:  # type: ignore[name-defined]
    cache = KeyCache(["program p.aleo;"], "0.8.0", root=Path(root))
    for _ in range(n):
        keys = cache.load("p.aleo", "main")
        if keys is not None and (keys.prover != "P" * 2_000_000 or keys.verifier != b"V" * 673):
            bad.value += 1


def test_concurrent_writers_never_expose_a_partial_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    bad = ctx.Value("i", 0)
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), 15)) for _ in range(2)]
    procs += [ctx.Process(target=_reader, args=(str(tmp_path), 60, bad)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert bad.value == 0


CALLEE = """program kcb.aleo;

function main:
    input r0 as u8.private;
    add r0 1u8 into r1;
    output r1 as u8.public;

constructor:
    assert.eq edition 0u16;
"""
CALLER = """import kcb.aleo;
program kca.aleo;

function main:
    input r0 as u8.private;
    call kcb.aleo/main r0 into r1;
    output r1 as u8.public;

constructor:
    assert.eq edition 0u16;
"""


@pytest.mark.slow
def test_a_call_chain_s_second_opening_uses_cached_keys_and_corrupt_entries_are_rebuilt(tmp_path: Path) -> None:
    from workbench.kinds import KeyCacheState
    from workbench.prover import ProverRequest
    from workbench.snarkvm.prover import SnarkVMProver

    def opened() -> SnarkVMProver:
        return SnarkVMProver.open(ProverRequest((CALLEE, CALLER), "main", use_key_cache=True))

    os.environ["WORKBENCH_CACHE_DIR"] = str(tmp_path / "cache")
    try:
        first = opened().synthesize(["1u8"])
        second = opened().synthesize(["1u8"])
        assert first.key_cache == KeyCacheState.MISS and second.key_cache == KeyCacheState.HIT
        assert first.first.outputs == second.first.outputs == ("2u8",)
        entry = next(d for d in (tmp_path / "cache").iterdir() if d.is_dir())
        texts = sorted(entry.glob("*.prover.bech32"))
        assert len(texts) == 2 and all(t.read_bytes().startswith(b"prover1") for t in texts)
        verifier = next(entry.glob("*.verifier"))
        verifier.write_bytes(b"garbage")
        third = opened().synthesize(["1u8"])
        assert third.key_cache == KeyCacheState.MISS and verifier.read_bytes() != b"garbage"  # rebuilt
    finally:
        del os.environ["WORKBENCH_CACHE_DIR"]


@pytest.mark.slow
def test_a_one_transition_model_caches_no_proving_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    exp = load_experiment(EXPERIMENT)
    first, _ = run_experiment(exp, tmp_path / "r", samples=2, proofs=0)
    second, _ = run_experiment(exp, tmp_path / "r", samples=2, proofs=0)
    # Synthesized by both runs (never a hit), and nothing but the overhead counts stored.
    assert first.circuit.key_cache == second.circuit.key_cache == "uncached"
    assert second.circuit.functions == first.circuit.functions
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["overhead.json"]

    proc = subprocess.run([sys.executable, "-m", "workbench", "cache", "clear"], capture_output=True, text=True,
                          env={**os.environ, "WORKBENCH_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 0
    assert list((tmp_path / "cache").iterdir()) == []


def test_the_cache_is_capped_least_recently_used_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.snarkvm.keycache import entries

    monkeypatch.setenv("WORKBENCH_CACHE_MAX_MB", "0.0025")  # 2,500 bytes: two models of 1,010
    keys = FunctionKeys(prover="P" * 1000, verifier=b"V" * 10)
    a, b, c = (KeyCache([f"program {n}.aleo;"], "0.8.0", root=tmp_path) for n in "abc")
    a.store("a.aleo", "main", keys)
    b.store("b.aleo", "main", keys)
    os.utime(a.dir / "last-used", (1, 1))
    os.utime(b.dir / "last-used", (2, 2))
    assert a.load("a.aleo", "main") == keys  # a hit: a is now the most recently used
    c.store("c.aleo", "main", keys)  # over the cap: b, the least recently used, goes
    assert not b.dir.exists() and a.dir.is_dir() and c.dir.is_dir()
    assert b.load("b.aleo", "main") is None  # simply synthesized again by its next run
    assert [e.path for e in entries(tmp_path)] == [a.dir, c.dir]
    monkeypatch.setenv("WORKBENCH_CACHE_MAX_MB", "0")
    c.store("c.aleo", "main", keys)  # the model just stored is kept even over the cap
    assert c.dir.is_dir() and not a.dir.exists()


def test_cache_cap_is_validated_and_shown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from workbench import cli

    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("WORKBENCH_CACHE_MAX_MB", "lots")
    assert cli.main(["cache", "info"]) == 2
    assert "WORKBENCH_CACHE_MAX_MB: expected a number of megabytes >= 0, found 'lots'" in capsys.readouterr().err
    monkeypatch.setenv("WORKBENCH_CACHE_MAX_MB", "512")
    KeyCache(["program a.aleo;"], "0.8.0", root=tmp_path).store("a.aleo", "main", FunctionKeys("P" * 10, b"V"))
    assert cli.main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert "1 cached model(s), 0.0 MB of 512 MB" in out and "last used" in out


def test_keys_can_stay_on_disk_and_be_found_by_directory(tmp_path: Path) -> None:
    # A linked model's proving keys stay on disk; worker processes find them by directory.
    cache = KeyCache(["program a.aleo;"], "0.8.0", root=tmp_path)
    assert cache.load_lazily("a.aleo", "main") is None
    cache.store("a.aleo", "main", FunctionKeys(prover="P" * 100, verifier=b"V" * 10))
    lazy = KeyCache.at(cache.dir).load_lazily("a.aleo", "main")
    assert lazy is not None and lazy.prover == cache.dir / "a.aleo.main.prover.bech32" and lazy.verifier == b"V" * 10
    assert lazy.proving_text() == "P" * 100
    # Stored again from the path (another cache), the bytes are copied, not the path.
    other = KeyCache(["program a.aleo;"], "0.8.0", root=tmp_path / "other")
    other.store("a.aleo", "main", lazy)
    assert other.load("a.aleo", "main") == FunctionKeys(prover="P" * 100, verifier=b"V" * 10)
