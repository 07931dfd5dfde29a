"""Fuzz tests of the Leo front end: whatever the text, `compile_source` either returns a
compiled program or raises the project's own error (a `LeoCompileError` whose diagnostics
carry positions inside the source), never an IndexError, RecursionError, lark exception...

Four kinds of input, from shallow to deep:
* arbitrary text (the lexer rejects most of it);
* token soup from Leo's keywords, operators, identifiers and literals (reaches the parser);
* random but well-formed expressions in a program skeleton (reaches the checker, the
  constant folder and the lowering);
* mutations of the golden programs under cases/ (tokens or lines deleted, duplicated,
  swapped or replaced, literals given other values and suffixes).

A failure prints the falsifying source; add it as an `@example` when fixing the bug.
"""

from __future__ import annotations

import functools
import pathlib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.errors import WorkbenchError
from workbench.leo.compiler import RECURSION_LIMIT, LeoCompileError, compile_source
from workbench.leo.interface import ProgramSignature

CASES = pathlib.Path(__file__).parent / "cases"
SOURCES = sorted((p.relative_to(CASES).as_posix(), p.read_text()) for p in CASES.rglob("*.leo"))
FILENAME = "fuzz.leo"

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.lru_cache(maxsize=1)
def _imports() -> tuple[ProgramSignature, ...]:
    """Signatures of the programs the golden cases import, so that mutants of them get
    past the import check."""
    return tuple(compile_source(p.read_text(), f"imports/{p.name}").signature
                 for p in sorted((CASES / "imports").glob("*.leo")))


_POSITION = re.compile(re.escape(FILENAME) + r":\d+:\d+: \S")


def check_compiles_or_reports(source: str) -> None:
    """The property: a compiled program, or a project error that points into the source."""
    try:
        compiled = compile_source(source, FILENAME, _imports())
    except LeoCompileError as err:
        assert err.diagnostics, "a LeoCompileError without diagnostics"
        for d in err.diagnostics:
            assert d.message.strip(), f"an empty diagnostic message: {d!r}"
            assert 0 <= d.span.start <= d.span.end <= len(source), f"span outside the source: {d!r}"
        rendered = str(err)
        assert _POSITION.match(rendered), f"no file:line:col position: {rendered[:200]!r}"
        return
    except WorkbenchError as err:  # another project error: acceptable, but it must say something
        assert str(err).strip()
        return
    assert compiled.program_id.endswith(".aleo")
    assert compiled.aleo.strip()


# ---------------------------------------------------------------- strategies

KEYWORDS = ["program", "fn", "transition", "function", "struct", "record", "const", "let", "return",
            "if", "else", "for", "in", "as", "import", "constructor", "assert", "assert_eq",
            "assert_neq", "public", "private", "constant", "true", "false", "self", "aleo",
            "@noupgrade", "@admin", "@test", "none"]
TYPES = ["u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128", "field", "group",
         "scalar", "bool", "address", "signature", "string"]
PUNCTUATION = ["{", "}", "(", ")", "[", "]", ";", ",", ":", "::", ".", "..", "..=", "->", "=>", "=",
               "?", "@", '"', "//", "/*", "*/", "\n"]
OPERATORS = ["+", "-", "*", "/", "%", "**", "<<", ">>", "&", "|", "^", "!", "&&", "||", "==", "!=",
             "<", "<=", ">", ">=", "+=", "-=", "*=", "/=", "%=", "**=", "<<=", ">>=", "&=", "|=",
             "^=", "&&=", "||="]
IDENTS = ["main", "a", "b", "x", "p", "Point", "S", "_", "__", "aleo", "credits", "p.aleo",
          "shard_sum.aleo::main", "shard_pair.aleo::split", "add_wrapped", "pow", "abs", "inv",
          "square_root", "len", "A" * 40]
SUFFIXES = [""] + TYPES[:13]
SUPPORTED = TYPES[:11] + ["bool"]  # the value types the workbench's subset compiles
OPTIONALS = ["u8?", "bool?", "i16?", "S?", "[u8; 3]?", "[u8?; 2]", "u8??"]

# Integers around the edges of every width, and far beyond them.
EDGE_INTS = sorted({s * (2**k + d) for k in (0, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 252, 253, 256)
                    for d in (-1, 0, 1) for s in (1, -1)} | {0, 10**76, 10**200})
integers = st.one_of(st.sampled_from(EDGE_INTS), st.integers(-300, 300), st.integers())


@st.composite
def int_literals(draw: st.DrawFn) -> str:
    value = draw(integers)
    form = draw(st.sampled_from(["dec", "dec", "hex", "oct", "bin", "underscored"]))
    sign, mag = ("-" if value < 0 else ""), abs(value)
    digits = {"dec": str(mag), "hex": hex(mag), "oct": oct(mag), "bin": bin(mag),
              "underscored": "_".join(str(mag))}[form]
    return sign + digits + draw(st.sampled_from(SUFFIXES))


# Malformed literals too: the lexer and the parser must reject them with a diagnostic.
literals = st.one_of(
    int_literals(),
    st.sampled_from(["3u8", "-1i8", "-128i8", "128i8", "255u8", "256u8", "0field", "1group",
                     "340282366920938463463374607431768211456u128", "0x", "0xu8", "0b2u8", "0o9",
                     "1_000u32", "1__u8", "007u8", "1e3", "1.5", "0xFFu8", "0XFFu8", '"str"', '""',
                     # longer than int() converts from decimal (4,300 digits), with and without zeros
                     "7" * 4400 + "u8", "7" * 4400, "0" * 4400 + "1u8", "0x" + "f" * 4400 + "field"]),
)
tokens = st.one_of(
    st.sampled_from(KEYWORDS + TYPES + PUNCTUATION + OPERATORS + IDENTS),
    literals,
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
)
token_soup = st.lists(tokens, max_size=60).map(" ".join)

# Text from the characters Leo uses (gets further into the lexer than arbitrary text).
leo_chars = st.text(alphabet="abcfinpu018_xXAS {}()[];:.,+-*/%<>=!&|^?@\"\n\t", max_size=120)

SKELETON = """program fuzz.aleo {{
    struct S {{ x: u8, y: i16 }}
    fn main(a: u8, b: i16, c: i128, d: field, e: bool, s: S, t: [u8; 3], u: u128) -> {ret} {{
        {body}
    }}

    @noupgrade
    constructor() {{}}
}}
"""

VARS = ["a", "b", "c", "d", "e", "s", "t", "u", "s.x", "s.y", "t[0u32]", "t[2u32]", "t[3u32]", "(a, b)"]
METHODS = ["add_wrapped", "sub_wrapped", "mul_wrapped", "div_wrapped", "rem_wrapped", "pow_wrapped",
           "shl_wrapped", "shr_wrapped", "add", "sub", "mul", "div", "rem", "pow", "shl", "shr", "and",
           "or", "xor", "eq", "neq", "lt", "lte", "gt", "gte", "abs", "abs_wrapped", "neg", "not", "mod",
           "nand", "nor", "inv", "square", "square_root", "double", "nope", "unwrap", "unwrap_or"]
BINOPS = [op for op in OPERATORS if not op.endswith("=") or op in ("==", "!=", "<=", ">=")]
BINOPS.remove("!")


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(BINOPS), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "!"]), inner).map("".join),
        st.tuples(inner, st.sampled_from(SUPPORTED + ["scalar"])).map(lambda t: f"({t[0]} as {t[1]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(inner, st.sampled_from(METHODS), st.lists(inner, max_size=2))
        .map(lambda t: f"{t[0]}.{t[1]}({', '.join(t[2])})"),
        st.lists(inner, min_size=1, max_size=4).map(lambda xs: f"[{', '.join(xs)}]"),
        st.tuples(inner, inner).map(lambda t: f"[{t[0]}; {t[1]}]"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(inner, st.sampled_from(["0", "1", "5", "x", "y", "z"])).map(lambda t: f"{t[0]}.{t[1]}"),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: f"({', '.join(xs)})"),
        st.tuples(inner, inner).map(lambda t: f"S {{ x: {t[0]}, y: {t[1]} }}"),
    )


expressions = st.recursive(
    st.one_of(st.sampled_from(VARS), int_literals(), st.sampled_from(["true", "false", "z", "none"])),
    _extend, max_leaves=12)


@st.composite
def expression_programs(draw: st.DrawFn) -> str:
    """A program skeleton whose body returns, binds or asserts random expressions."""
    ret = draw(st.sampled_from(SUPPORTED + ["S", "[u8; 3]", "(u8, bool)"]))
    stmts = []
    for _ in range(draw(st.integers(1, 3))):
        e = draw(expressions)
        # Templates with `{}` placeholders, filled after the choice (drawing every
        # alternative's parts up front would make generation slow).
        template = draw(st.sampled_from([
            "let v: {t} = {e};", "assert({e});", "assert_eq({e}, {e2});", "const K: u32 = {e};",
            "for i: u32 in {e}..{e2} {{ a += 1u8; }}", "if {e} {{ return {e2}; }}", "a {op} {e};",
        ]))
        stmts.append(template.format(
            e=e, t=draw(st.sampled_from(SUPPORTED + OPTIONALS)) if "{t}" in template else "",
            e2=draw(expressions) if "{e2}" in template else "",
            op=draw(st.sampled_from(["=", "+=", "<<=", "**=", "&&="])) if "{op}" in template else ""))
    stmts.append(f"return {draw(expressions)};")
    return SKELETON.format(ret=ret, body="\n        ".join(stmts))


# Well-typed expressions (mostly): they get past the checker into the constant folder and
# the lowering. Literal-only operands are folded, so overflow and division by zero there
# must become diagnostics.
INT_TYPES = ["u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128"]
TYPED_VARS = {"u8": ["a", "s.x", "t[1u32]"], "i16": ["b", "s.y"], "i128": ["c"], "field": ["d"],
              "bool": ["e"], "u128": ["u"]}


def _bits(ty: str) -> int:
    return int(ty[1:])


@st.composite
def typed_literals(draw: st.DrawFn, ty: str) -> str:
    if ty == "bool":
        return draw(st.sampled_from(["true", "false"]))
    if ty == "field":
        return f"{draw(st.sampled_from([0, 1, 2, 7, 2**252]) | st.integers(0, 2**252))}field"
    n = _bits(ty)
    lo, hi = (-(2 ** (n - 1)), 2 ** (n - 1) - 1) if ty[0] == "i" else (0, 2**n - 1)
    # In range only: one literal out of range rejects the whole program before folding (the
    # other strategies cover range errors).
    value = draw(st.sampled_from([lo, hi, 0, 1, 2, hi // 2]) | st.integers(lo, hi))
    return f"{value}{ty}"


@st.composite
def typed_expressions(draw: st.DrawFn, ty: str, depth: int = 3) -> str:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if ty in TYPED_VARS and draw(st.booleans()):
            return draw(st.sampled_from(TYPED_VARS[ty]))
        return draw(typed_literals(ty))

    def sub(t: str = ty) -> str:
        return draw(typed_expressions(t, depth - 1))

    choice = draw(st.integers(0, 7))
    if ty == "bool":
        if choice < 3:
            t = draw(st.sampled_from(INT_TYPES + ["field"]))
            return f"({sub(t)} {draw(st.sampled_from(['==', '!=', '<', '<=', '>', '>=']))} {sub(t)})"
        if choice < 5:
            return f"({sub()} {draw(st.sampled_from(['&&', '||', '==', '!=', '&', '|', '^']))} {sub()})"
        if choice < 6:
            return f"!{sub()}"
        return f"({sub('bool')} ? {sub()} : {sub()})"
    if ty == "field":
        ops = ["+", "-", "*", "/", "**"]
        if choice < 4:
            return f"({sub()} {draw(st.sampled_from(ops))} {sub()})"
        if choice < 5:
            return f"{sub()}.{draw(st.sampled_from(['inv', 'square', 'double', 'square_root', 'neg']))}()"
        if choice < 6:
            return f"-{sub()}"
        if choice < 7:
            return f"({sub(draw(st.sampled_from(INT_TYPES + ['bool'])))} as field)"
        return f"({sub('bool')} ? {sub()} : {sub()})"
    # an integer type
    if choice < 3:
        return f"({sub()} {draw(st.sampled_from(['+', '-', '*', '/', '%', '&', '|', '^']))} {sub()})"
    if choice < 4:
        op = draw(st.sampled_from(["**", "<<", ">>"]))
        return f"({sub()} {op} {sub(draw(st.sampled_from(['u8', 'u16', 'u32'])))})"
    if choice < 5:
        m = draw(st.sampled_from(["add_wrapped", "sub_wrapped", "mul_wrapped", "div_wrapped",
                                  "rem_wrapped", "add", "sub", "mul", "div", "rem"]))
        if draw(st.booleans()):
            return f"{sub()}.{m}({sub()})"
        m = draw(st.sampled_from(["pow_wrapped", "shl_wrapped", "shr_wrapped", "pow", "shl", "shr"]))
        return f"{sub()}.{m}({sub(draw(st.sampled_from(['u8', 'u16', 'u32'])))})"
    if choice < 6:
        if ty[0] == "i":
            return draw(st.sampled_from([f"-{sub()}", f"{sub()}.abs()", f"{sub()}.abs_wrapped()", f"!{sub()}"]))
        return f"!{sub()}"
    if choice < 7:
        return f"({sub(draw(st.sampled_from(INT_TYPES + ['field', 'bool'])))} as {ty})"
    return f"({sub('bool')} ? {sub()} : {sub()})"


@st.composite
def typed_programs(draw: st.DrawFn) -> str:
    ret = draw(st.sampled_from(INT_TYPES + ["field", "bool"]))
    stmts = []
    for i in range(draw(st.integers(0, 3))):
        t = draw(st.sampled_from(INT_TYPES + ["field", "bool"]))
        kind = draw(st.integers(0, 6))
        if kind == 0:
            stmts.append(f"let v{i}: {t} = {draw(typed_expressions(t))};")
        elif kind == 1:
            stmts.append(f"const K{i}: {t} = {draw(typed_expressions(t))};")
        elif kind == 2:
            stmts.append(f"assert({draw(typed_expressions('bool'))});")
        elif kind == 3:
            stmts.append(f"assert_eq({draw(typed_expressions(t, 2))}, {draw(typed_expressions(t, 2))});")
        elif kind == 4:
            lo, hi = draw(typed_literals("u8")), draw(typed_literals("u8"))
            stmts.append(f"for i{i}: u8 in {lo}..{hi} {{ a = a.add_wrapped(i{i}); }}")
        elif kind == 5:
            stmts.append(f"if {draw(typed_expressions('bool'))} {{ a += 1u8; }} else {{ b -= 1i16; }}")
        else:
            op = draw(st.sampled_from(["=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^="]))
            stmts.append(f"a {op} {draw(typed_expressions('u8'))};")
    stmts.append(f"return {draw(typed_expressions(ret))};")
    return SKELETON.format(ret=ret, body="\n        ".join(stmts))


# Tokens of a source, with the whitespace between them kept as tokens of their own.
_LEX = re.compile(r"\s+|[A-Za-z0-9_]+|::|\.\.=?|->|[-+*/%<>=!&|^]=|\*\*|<<|>>|&&|\|\||\S")
_LITERAL = re.compile(r"-?[0-9][A-Za-z0-9_]*")


@st.composite
def mutants(draw: st.DrawFn) -> str:
    """A golden program with one to four random edits."""
    _, source = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["token", "token", "literal", "line"]))
        if kind == "line":
            lines = source.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            op = draw(st.sampled_from(["delete", "duplicate", "swap"]))
            if op == "delete":
                del lines[i]
            elif op == "duplicate":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            source = "\n".join(lines)
            continue
        toks = _LEX.findall(source)
        if kind == "literal":
            where = [k for k, t in enumerate(toks) if _LITERAL.fullmatch(t)]
            if where:
                k = draw(st.sampled_from(where))
                toks[k] = draw(literals)
            source = "".join(toks)
            continue
        where = [k for k, t in enumerate(toks) if not t.isspace()]
        k, m = draw(st.sampled_from(where)), draw(st.sampled_from(where))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "replace"]))
        if op == "delete":
            del toks[k]
        elif op == "duplicate":
            toks.insert(m, toks[k] + " ")
        elif op == "swap":
            toks[k], toks[m] = toks[m], toks[k]
        else:
            toks[k] = draw(tokens)
        source = "".join(toks)
    return source


# ---------------------------------------------------------------- properties


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text(source: str) -> None:
    check_compiles_or_reports(source)


@FUZZ
@given(leo_chars)
def test_text_from_leo_characters(source: str) -> None:
    check_compiles_or_reports(source)


@FUZZ
@given(token_soup)
def test_token_soup(source: str) -> None:
    check_compiles_or_reports(source)


@FUZZ
@given(token_soup)
def test_token_soup_in_a_function_body(body: str) -> None:
    check_compiles_or_reports(SKELETON.format(ret="u8", body=body))


@FUZZ
@given(expression_programs())
def test_random_expressions(source: str) -> None:
    check_compiles_or_reports(source)


@settings(FUZZ, max_examples=200)
@given(typed_programs())
def test_typed_expressions(source: str) -> None:
    check_compiles_or_reports(source)


@settings(FUZZ, max_examples=200)
@given(mutants())
def test_mutated_golden_programs(source: str) -> None:
    check_compiles_or_reports(source)


def test_golden_programs_satisfy_the_property() -> None:
    """The unmutated cases (valid ones and expected errors alike) hold too."""
    for _, source in SOURCES:
        check_compiles_or_reports(source)


# Crashes found by fuzzing and probing the front end, as minimal inputs (all but the hex
# one leaked as a lark VisitError).
REGRESSIONS = {
    # int() refuses decimal strings of more than 4,300 digits (ValueError).
    "huge decimal literal": ("const a: u8 = " + "1" * 4301 + ";", "is out of range for every Leo type"),
    # A hex literal over 10**4300 made str() fail in the checker's "exceeds the limit" message.
    "huge hex array length": ("program p.aleo { struct S { x: [u8; 0x" + "f" * 3600 + "] } }",
                              "is out of range for every Leo type"),
    "huge tuple index": ("const a: u8 = a." + "1" * 4301 + ";", "is out of range"),
    # The stack ran out inside a rule's callback: a RecursionError, wrapped by lark.
    # (each level takes at least one frame, so RECURSION_LIMIT levels are always too deep)
    "deeply nested ternary": ("const a: bool = " + "true ? true : " * RECURSION_LIMIT + "true;", "nested too deeply"),
    # Each length under 2048, but a million registers in all: the compiler ran for minutes.
    "huge nested array input": ("program p.aleo { fn main(x: [[[u8; 100u32]; 100u32]; 100u32]) -> u8 { "
                                "return x[0u32][0u32][0u32]; } @noupgrade constructor() {} }",
                                "an array of 1,000,000 elements in all; the limit is 65,536"),
}


@pytest.mark.parametrize("source, message", list(REGRESSIONS.values()), ids=list(REGRESSIONS))
def test_regressions(source: str, message: str) -> None:
    with pytest.raises(LeoCompileError, match=re.escape(message)) as info:
        compile_source(source, FILENAME)
    assert _POSITION.match(str(info.value))
