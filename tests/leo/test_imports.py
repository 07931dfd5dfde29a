"""Imports of other programs: emission, signatures, `build_project` with dependencies.

Executions in snarkVM live in the golden case ``cases/imports_two`` (each new function
costs seconds of key synthesis); here snarkVM only parses and adds programs, which
checks every `call` against the callee's signature without synthesizing keys.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from workbench.leo.compiler import (LeoCompileError, build_project, build_with_dependencies,
                                    compile_source, main_build)
from workbench.leo.interface import EntrySignature, ProgramSignature
from workbench.leo.ltypes import ArrayType, Prim, StructType

I16, FIELD, U8 = Prim("i16"), Prim("field"), Prim("u8")

SHARD = """program shard_a.aleo {{
    fn main(private x: [i16; 4]) -> private [field; 3] {{
        return [x[0] as field, x[1] as field + {k}field, x[3] as field];
    }}

    fn pair(a: u8, b: u8) -> (u8, bool) {{
        return (a + b, a < b);
    }}

    fn check(a: u8) {{
        assert(a > 0u8);
    }}

    @noupgrade
    constructor() {{}}
}}
"""

MAIN = """import shard_a.aleo;
import shard_b.aleo;

program sharded.aleo {
    fn main(private x: [i16; 4]) -> public field {
        let a: [field; 3] = shard_a.aleo::main(x);
        let b: [field; 3] = shard_b.aleo::main(x);
        return a[0] + b[2];
    }

    fn both(a: u8) -> (u8, bool) {
        let (s, lt) = shard_a.aleo::pair(a, 1u8);
        shard_a.aleo::check(s);
        let unused: [field; 3] = shard_b.aleo::main([1i16; 4]);
        return (s, lt);
    }

    @noupgrade
    constructor() {}
}
"""


def _shard(name: str, k: int = 0) -> str:
    return SHARD.format(k=k).replace("shard_a", name)


def test_signature_comes_from_the_dependency_source() -> None:
    sig = compile_source(_shard("shard_a")).signature
    assert sig.program_id == "shard_a.aleo"
    assert sig.functions["main"] == EntrySignature((ArrayType(I16, 4),), (ArrayType(FIELD, 3),), 1)
    assert sig.functions["pair"].outputs == (U8, Prim("bool"))
    assert sig.functions["check"].outputs == ()


def test_imports_come_before_the_program_and_calls_name_the_callee() -> None:
    deps = [compile_source(_shard("shard_a")).signature, compile_source(_shard("shard_b", 1)).signature]
    compiled = compile_source(MAIN, "main.leo", deps)
    text = compiled.aleo
    assert text.startswith("import shard_a.aleo;\nimport shard_b.aleo;\n\nprogram sharded.aleo;\n")
    # The private array input is passed through whole; array results are read by path.
    assert "    call shard_a.aleo/main r0 into r1;\n    call shard_b.aleo/main r0 into r2;\n" in text
    assert "add r1[0u32] r2[2u32] into r3;" in text
    # Tuple results write several registers; calls whose results are unused stay.
    assert "call shard_a.aleo/pair r0 1u8 into r1 r2;" in text
    assert "call shard_a.aleo/check r1;" in text
    assert "call shard_b.aleo/main r3 into r4;" in text
    # Each call is one more transition, recorded for programs importing this one.
    assert compiled.signature.functions["main"].transitions == 3
    assert compiled.signature.functions["both"].transitions == 4


def test_identical_calls_are_not_merged() -> None:
    source = MAIN.replace("shard_b.aleo::main(x)", "shard_a.aleo::main(x)")
    deps = [compile_source(_shard("shard_a")).signature, compile_source(_shard("shard_b", 1)).signature]
    text = compile_source(source, "main.leo", deps).aleo
    assert "call shard_a.aleo/main r0 into r1;\n    call shard_a.aleo/main r0 into r2;" in text


def test_nested_calls_count_toward_the_transition_limit() -> None:
    deep = ProgramSignature("deep.aleo", {"f": EntrySignature((U8,), (U8,), transitions=16)})
    source = """import deep.aleo;
program top.aleo {
    fn main(a: u8) -> u8 {
        let b: u8 = deep.aleo::f(a);
        return deep.aleo::f(b);
    }
    @noupgrade
    constructor() {}
}
"""
    with pytest.raises(LeoCompileError) as info:
        compile_source(source, "top.leo", [deep])
    assert "top.leo:5:16: with this call one execution would run 33 transitions" in str(info.value)


def test_structs_of_other_programs_are_rejected() -> None:
    # A struct in the callee's signature cannot be named by the caller.
    sig = ProgramSignature("geo.aleo", {"f": EntrySignature((StructType("P"),), (U8,))})
    source = "import geo.aleo;\nprogram top.aleo {\n    fn main(a: u8) -> u8 {\n        return geo.aleo::f(a);\n" \
             "    }\n    @noupgrade\n    constructor() {}\n}\n"
    with pytest.raises(LeoCompileError) as info:
        compile_source(source, "top.leo", [sig])
    assert "top.leo:4:16: `geo.aleo::f` takes or returns struct `P`" in str(info.value)


@pytest.mark.slow
def test_emitted_programs_load_in_snarkvm(snarkvm) -> None:
    """snarkVM checks imports and every call's operand and result types when adding."""
    a, b = compile_source(_shard("shard_a")), compile_source(_shard("shard_b", 1))
    main = compile_source(MAIN, "main.leo", [a.signature, b.signature])
    for program in (a, b, main):
        snarkvm.load(program.aleo)


# ---------------------------------------------------------------- projects


def _project(root: pathlib.Path, name: str, source: str, deps: list[dict] | None = None) -> pathlib.Path:
    d = root / name
    (d / "src").mkdir(parents=True)
    manifest = {"program": f"{name}.aleo", "version": "0.1.0", "description": "", "license": "MIT",
                "leo": "4.3.2", "dependencies": deps, "dev_dependencies": None}
    (d / "program.json").write_text(json.dumps(manifest, indent=2))
    (d / "src" / "main.leo").write_text(source)
    return d


def _local(name: str) -> dict:
    return {"name": f"{name}.aleo", "location": "local", "path": f"../{name}"}


def test_build_project_builds_dependencies_first_with_leo_layout(tmp_path: pathlib.Path) -> None:
    _project(tmp_path, "shard_a", _shard("shard_a"))
    _project(tmp_path, "shard_b", _shard("shard_b", 1))
    main = _project(tmp_path, "sharded", MAIN, [_local("shard_a"), _local("shard_b")])
    out = build_project(main)
    assert out == main / "build" / "sharded" / "sharded.aleo"
    assert out.read_text().startswith("import shard_a.aleo;\nimport shard_b.aleo;\n")
    for dep in ("shard_a", "shard_b"):
        own = tmp_path / dep / "build" / dep / f"{dep}.aleo"
        copy = main / "build" / dep / f"{dep}.aleo"
        assert own.read_text() == copy.read_text()
        assert copy.read_text().startswith(f"program {dep}.aleo;")


def test_transitive_dependencies_are_laid_out_and_ordered(tmp_path: pathlib.Path) -> None:
    """main -> mid -> shard_a: every program lands in main's build/, dependencies first."""
    _project(tmp_path, "shard_a", _shard("shard_a"))
    mid = """import shard_a.aleo;
program mid.aleo {
    fn main(private x: [i16; 4]) -> [field; 3] {
        return shard_a.aleo::main(x);
    }
    @noupgrade
    constructor() {}
}
"""
    _project(tmp_path, "mid", mid, [_local("shard_a")])
    top = mid.replace("shard_a", "mid").replace("program mid.aleo", "program top.aleo")
    main = _project(tmp_path, "top", top, [_local("mid")])
    build = build_with_dependencies(main)
    assert [p.program_id for p in build.dependencies] == ["shard_a.aleo", "mid.aleo"]
    assert build.sources()[-1] == build.program.aleo
    assert build.program.signature.functions["main"].transitions == 3
    assert (main / "build" / "shard_a" / "shard_a.aleo").exists()
    assert (main / "build" / "mid" / "mid.aleo").exists()


def test_importing_a_transitive_dependency_directly_is_an_error(tmp_path: pathlib.Path) -> None:
    _project(tmp_path, "shard_a", _shard("shard_a"))
    mid = _shard("mid")
    _project(tmp_path, "mid", mid)
    source = MAIN.replace("shard_b", "mid")
    main = _project(tmp_path, "sharded", source, [_local("mid")])
    with pytest.raises(LeoCompileError) as info:
        build_project(main)
    assert "main.leo:1:8: `shard_a.aleo` is not a dependency of this program" in str(info.value)


def test_dependency_cycle_is_reported(tmp_path: pathlib.Path) -> None:
    _project(tmp_path, "shard_a", _shard("shard_a"), [_local("shard_b")])
    _project(tmp_path, "shard_b", _shard("shard_b"), [_local("shard_a")])
    with pytest.raises(LeoCompileError) as info:
        build_project(tmp_path / "shard_a")
    text = str(info.value)
    assert "dependency cycle: shard_a.aleo -> shard_b.aleo -> shard_a.aleo" in text
    assert text.startswith(str(tmp_path / "shard_b" / "program.json") + ":")


@pytest.mark.parametrize("entry, message", [
    ({"name": "shard_a.aleo", "location": "network"},
     'dependency `shard_a.aleo` has location "network"; only local dependencies'),
    ({"name": "shard_a.aleo", "location": "git", "git": "https://example.org/x"},
     'has location "git"; only local dependencies'),
    ({"name": "shard_a.aleo", "location": "local"}, 'local dependency `shard_a.aleo` needs a "path"'),
    ({"name": "shard_a", "location": "local", "path": "../shard_a"}, 'each dependency needs a "name" like "name.aleo"'),
    ({"name": "shard_a.aleo", "location": "local", "path": "../nowhere"}, "no Leo project at"),
    ({"name": "shard_b.aleo", "location": "local", "path": "../shard_a"},
     "dependency `shard_b.aleo` at"),
])
def test_bad_dependency_entries(tmp_path: pathlib.Path, entry: dict, message: str) -> None:
    _project(tmp_path, "shard_a", _shard("shard_a"))
    main = _project(tmp_path, "sharded", MAIN, [entry])
    with pytest.raises(LeoCompileError) as info:
        build_project(main)
    assert message in str(info.value)
    assert str(info.value).startswith(str(main / "program.json") + ":")


def test_dependencies_must_be_a_list(tmp_path: pathlib.Path) -> None:
    main = _project(tmp_path, "sharded", MAIN)
    (main / "program.json").write_text('{"program": "sharded.aleo", "dependencies": {"a": 1}}')
    with pytest.raises(LeoCompileError) as info:
        build_project(main)
    assert "program.json:1:29: \"dependencies\" must be a list (or null)" in str(info.value)


def test_error_in_a_dependency_names_its_file(tmp_path: pathlib.Path) -> None:
    _project(tmp_path, "shard_a", _shard("shard_a").replace("a + b", "a + c"))
    _project(tmp_path, "shard_b", _shard("shard_b"))
    main = _project(tmp_path, "sharded", MAIN, [_local("shard_a"), _local("shard_b")])
    with pytest.raises(LeoCompileError) as info:
        build_project(main)
    assert f"{tmp_path / 'shard_a' / 'src' / 'main.leo'}:7:21: unknown variable `c`" in str(info.value)


def test_main_build_exit_codes_with_dependencies(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project(tmp_path, "shard_a", _shard("shard_a"))
    _project(tmp_path, "shard_b", _shard("shard_b", 1))
    main = _project(tmp_path, "sharded", MAIN, [_local("shard_a"), _local("shard_b")])
    assert main_build(str(main)) == 0
    assert "sharded.aleo" in capsys.readouterr().out
    (main / "program.json").write_text(json.dumps({"program": "sharded.aleo", "dependencies": [_local("shard_a")]}))
    assert main_build(str(main)) == 1
    err = capsys.readouterr().err
    assert "main.leo:2:8: `shard_b.aleo` is not a dependency of this program" in err
    assert "build failed: 1 error" in err and "Traceback" not in err
