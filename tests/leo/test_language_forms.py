"""Leo 4.3 forms that must compile to exactly what their plain spelling compiles to.

`export` changes nothing in a single main.leo; a generic helper or struct compiles to the
same instructions as a copy written out by hand for the same constant arguments (only the
struct's name differs: Leo's `Name__<hash>` for an instance).
"""

from __future__ import annotations

import re

from workbench.leo.compiler import compile_source


def _aleo(source: str) -> str:
    return compile_source(source, "main.leo").aleo


def test_export_changes_nothing() -> None:
    exported = """
export const K: u8 = 3u8;
export struct P { a: u8 }
@inline
export fn f(p: P) -> u8 { return p.a + K; }
program t.aleo {
    fn main(x: u8) -> u8 { return f(P { a: x }); }
    @noupgrade
    constructor() {}
}
"""
    assert _aleo(exported) == _aleo(re.sub(r"\bexport ", "", exported))


def test_generic_helper_equals_hand_monomorphized_copy() -> None:
    generic = """
fn total::[N: u32](a: [u8; N]) -> u16 {
    let s: u16 = 0u16;
    for i in 0u32..N {
        s += a[i] as u16;
    }
    return s;
}
program t.aleo {
    fn main(a: [u8; 4], b: [u8; 2]) -> u16 { return total::[4u32](a) + total::[1u32 + 1u32](b); }
    @noupgrade
    constructor() {}
}
"""
    by_hand = """
fn total4(a: [u8; 4]) -> u16 {
    let s: u16 = 0u16;
    for i in 0u32..4u32 {
        s += a[i] as u16;
    }
    return s;
}
fn total2(a: [u8; 2]) -> u16 {
    let s: u16 = 0u16;
    for i in 0u32..2u32 {
        s += a[i] as u16;
    }
    return s;
}
program t.aleo {
    fn main(a: [u8; 4], b: [u8; 2]) -> u16 { return total4(a) + total2(b); }
    @noupgrade
    constructor() {}
}
"""
    assert _aleo(generic) == _aleo(by_hand)


def test_generic_struct_equals_hand_written_struct_but_for_its_name() -> None:
    generic = """
struct Grid::[R: u32, C: u32] { cells: [[u8; C]; R] }
fn flip::[R: u32, C: u32](g: Grid::[R, C]) -> Grid::[C, R] {
    let t: [[u8; R]; C] = [[0u8; R]; C];
    for r in 0u32..R {
        for c in 0u32..C {
            t[c][r] = g.cells[r][c];
        }
    }
    return Grid::[C, R] { cells: t };
}
program t.aleo {
    fn main(g: Grid::[2u32, 3u32]) -> Grid::[3u32, 2u32] { return flip::[2u32, 3u32](g); }
    @noupgrade
    constructor() {}
}
"""
    by_hand = """
struct Grid23 { cells: [[u8; 3]; 2] }
struct Grid32 { cells: [[u8; 2]; 3] }
fn flip(g: Grid23) -> Grid32 {
    let t: [[u8; 2]; 3] = [[0u8; 2]; 3];
    for r in 0u32..2u32 {
        for c in 0u32..3u32 {
            t[c][r] = g.cells[r][c];
        }
    }
    return Grid32 { cells: t };
}
program t.aleo {
    fn main(g: Grid23) -> Grid32 { return flip(g); }
    @noupgrade
    constructor() {}
}
"""
    # Leo names an instance `Grid__` + base 62 of the SHA-256 of `Grid::[2u32, 3u32]`.
    renamed = _aleo(generic).replace("Grid__C1ej4620epi", "Grid23").replace("Grid__JqK47dRs9wM", "Grid32")
    assert renamed == _aleo(by_hand)


def test_instance_names_follow_leo() -> None:
    from workbench.leo.checker import leo_struct_name

    # Names from the Leo repository's own expected outputs.
    assert leo_struct_name("Foo", "Foo::[10u32]") == "Foo__6h1mBzWS4b"
    assert leo_struct_name("Matrix", "Matrix::[2u32, 3u32]") == "Matrix__BJGcgfcGdDj"
    assert len(leo_struct_name("A" * 40, "x")) == 31


def test_optional_struct_names_follow_leo() -> None:
    from workbench.leo.checker import optional_struct_name
    from workbench.leo.ltypes import ArrayType, Prim, StructType

    # Names from the Leo repository's expected output for its option/implicit_wrapping test.
    assert optional_struct_name(Prim("u8")) == "Optional__8hhrPm4c3KB"
    assert optional_struct_name(StructType("Foo")) == "Optional__IDgMhRtf8KJ"
    assert optional_struct_name(StructType("Wrapper")) == "Optional__Lb0sxVVCPo1"
    assert optional_struct_name(ArrayType(StructType("Wrapper"), 3)) == "Optional__3ewuyRC5LBk"


def test_implicit_wrapping_equals_explicit_optional() -> None:
    """A wrapped value unwraps to itself with no check left (its `is_some` is a known `true`), and
    a known `none` under `unwrap_or` is the default: no instruction is spent on either."""
    wrapped = """
struct S { o: u8? }
fn id(x: u8?) -> u8? { return x; }
program t.aleo {
    fn main(v: u8) -> u8 {
        let a: u8? = v;
        let s: S = S { o: id(a.unwrap()) };
        let n: u8? = none;
        return s.o.unwrap() + n.unwrap_or(1u8);
    }
    @noupgrade
    constructor() {}
}
"""
    plain = """
program t.aleo {
    fn main(v: u8) -> u8 {
        return v + 1u8;
    }
    @noupgrade
    constructor() {}
}
"""
    body = _aleo(wrapped).split("function main:")[1]
    assert body == _aleo(plain).split("function main:")[1]


def test_error_in_instance_points_at_definition_and_instantiation() -> None:
    import pytest

    from workbench.leo.compiler import LeoCompileError

    source = """fn at::[I: u32](a: [u8; 4]) -> u8 {
    return a[I];
}
program t.aleo {
    fn main(a: [u8; 4]) -> u8 {
        return at::[1u32](a) + at::[7u32](a);
    }
    @noupgrade
    constructor() {}
}
"""
    with pytest.raises(LeoCompileError) as info:
        compile_source(source, "main.leo")
    (diag,) = info.value.diagnostics
    text = str(info.value)
    assert text.startswith("main.leo:2:14: index 7 is out of bounds for `[u8; 4]`")
    assert "main.leo:6:32: note: in `at::[7u32]`, instantiated here" in text
    assert len(diag.notes) == 1


def test_unit_forms_match() -> None:
    plain = "program t.aleo { fn f(a: u8) { assert(a > 1u8); } @noupgrade constructor() {} }"
    unit = "program t.aleo { fn f(a: u8) -> () { assert(a > 1u8); return (); } @noupgrade constructor() {} }"
    assert _aleo(plain) == _aleo(unit)
