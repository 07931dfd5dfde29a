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
