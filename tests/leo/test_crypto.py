"""Hash and commit core functions (`BHP256::commit_to_field(v, salt)`, `Poseidon2::hash_to_field(v)`, ...)
and the `scalar`, `group` and `address` types they need.

Parsing, checking (errors) and lowering are checked on the compiler alone. The values are
checked against snarkVM's own hashers as aleo-sdk exposes them (`BHP256().commit(bits,
salt)`, `Poseidon2().hash(fields)`): programs with private inputs are evaluated by
`Process.authorize`, which runs the circuit and returns the public outputs without
synthesizing keys (a BHP commitment to private values does not fit the offline setup
beside a transition's fixed cost, see docs/cost-model.md); one with public inputs is
executed in full (slow). tests/leo/cases/crypto.leo runs hashes through full executions.
"""

from __future__ import annotations

import pytest

from workbench.leo import ast_nodes as A
from workbench.leo.compiler import LeoCompileError, compile_source
from workbench.leo.crypto import plaintext_bits, resolve
from workbench.leo.diagnostics import SourceFile
from workbench.leo.ltypes import ArrayType, Prim, StructType
from workbench.leo.parser import parse


def _program(params: str, body: str, ret: str = "field", prelude: str = "") -> str:
    return f"""{prelude}
program t.aleo {{
    fn main({params}) -> public {ret} {{
        {body}
    }}
    @noupgrade constructor() {{}}
}}
"""


def _aleo(source: str) -> str:
    return compile_source(source, "main.leo").aleo


def _error(source: str) -> str:
    with pytest.raises(LeoCompileError) as info:
        compile_source(source, "main.leo")
    return str(info.value)


def _body(aleo: str) -> list[str]:
    """The instruction lines of the first function (no inputs, outputs)."""
    fn = aleo.split("function main:\n", 1)[1].split("\n\n", 1)[0]
    return [ln.strip() for ln in fn.splitlines() if not ln.strip().startswith(("input ", "output "))]


# ---------------------------------------------------------------- parsing


def test_core_function_parses_as_a_path_call() -> None:
    unit = parse(SourceFile("m.leo", _program("x: field, s: scalar", "return BHP256::commit_to_field(x, s);")))
    ret = unit.programs[0].functions[0].body.stmts[0]
    assert isinstance(ret, A.Return) and isinstance(ret.value, A.Call)
    assert ret.value.name == "BHP256::commit_to_field" and len(ret.value.args) == 2


def test_resolve_names() -> None:
    core = resolve("BHP256", "hash_to_field_raw")
    assert not isinstance(core, str) and core.opcode == "hash.bhp256.raw" and core.result == "field"
    assert not isinstance(c := resolve("Pedersen64", "commit_to_group"), str) and c.opcode == "commit.ped64"
    assert not isinstance(c := resolve("SHA3_256", "hash_to_u32"), str) and c.opcode == "hash.sha3_256"
    assert "has no function" in resolve("BHP256", "digest")  # type: ignore[operator]
    assert "has no commitment" in resolve("Poseidon8", "commit_to_field")  # type: ignore[operator]


# ---------------------------------------------------------------- lowering


@pytest.mark.parametrize("params, call, ret, line", [
    ("x: field", "BHP256::hash_to_field(x)", "field", "hash.bhp256 r0 into r1 as field;"),
    ("x: field, s: scalar", "BHP256::commit_to_field(x, s)", "field", "commit.bhp256 r0 r1 into r2 as field;"),
    ("x: u8, s: scalar", "BHP512::commit_to_group(x, s)", "group", "commit.bhp512 r0 r1 into r2 as group;"),
    ("x: [u32; 4], s: scalar", "BHP768::commit_to_address(x, s)", "address",
     "commit.bhp768 r0 r1 into r2 as address;"),
    ("x: i64", "BHP1024::hash_to_scalar(x)", "scalar", "hash.bhp1024 r0 into r1 as scalar;"),
    ("x: [field; 3]", "Poseidon2::hash_to_field(x)", "field", "hash.psd2 r0 into r1 as field;"),
    ("x: bool", "Poseidon4::hash_to_i8(x)", "i8", "hash.psd4 r0 into r1 as i8;"),
    ("x: field", "Poseidon8::hash_to_u128(x)", "u128", "hash.psd8 r0 into r1 as u128;"),
    ("x: u32", "Pedersen64::hash_to_field(x)", "field", "hash.ped64 r0 into r1 as field;"),
    ("x: u64, s: scalar", "Pedersen128::commit_to_field(x, s)", "field", "commit.ped128 r0 r1 into r2 as field;"),
    ("x: u64", "Pedersen64::hash_to_field_raw(x)", "field", "hash.ped64.raw r0 into r1 as field;"),
    ("x: field", "Poseidon2::hash_to_field_raw(x)", "field", "hash.psd2.raw r0 into r1 as field;"),
    ("x: field", "Keccak256::hash_to_field(x)", "field", "hash.keccak256 r0 into r1 as field;"),
    ("x: u8", "SHA3_512::hash_to_u16(x)", "u16", "hash.sha3_512 r0 into r1 as u16;"),
    ("x: field", "BHP256::hash_to_field(5field)", "field", "hash.bhp256 5field into r1 as field;"),
])
def test_lowers_to_one_instruction(params: str, call: str, ret: str, line: str) -> None:
    assert _body(_aleo(_program(params, f"return {call};", ret))) == [line]


def test_composite_value_is_built_first() -> None:
    src = _program("a: field, b: u32, s: scalar", "return BHP256::commit_to_field(P { a, b }, s);",
                   prelude="struct P { a: field, b: u32 }")
    assert _body(_aleo(src)) == ["cast r0 r1 into r3 as P;", "commit.bhp256 r3 r2 into r4 as field;"]


def test_values_and_salt_as_one_poseidon_input() -> None:
    # The chain-link commitment of docs/cost-model.md: the values with a random field salt.
    src = _program("v: [field; 2], salt: field", "return Poseidon2::hash_to_field([v[0], v[1], salt]);")
    assert _body(_aleo(src)) == ["cast r0[0u32] r0[1u32] r1 into r2 as [field; 3u32];",
                                 "hash.psd2 r2 into r3 as field;"]


def test_identical_hashes_are_computed_once_and_unused_ones_dropped() -> None:
    src = _program("x: field, y: u32", """let unused = Poseidon2::hash_to_field(x);
        let kept = Pedersen64::hash_to_field(y);
        return BHP256::hash_to_field(x) + BHP256::hash_to_field(x);""")
    body = _body(_aleo(src))
    # Poseidon never halts (dropped when unused); Pedersen halts on long inputs (kept).
    assert body == ["hash.ped64 r1 into r2 as field;", "hash.bhp256 r0 into r3 as field;",
                    "add r3 r3 into r4;"]


def test_scalar_group_address_values() -> None:
    src = _program("s: scalar, t: scalar, g: group, a: address, b: address, c: bool",
                   "let u: scalar = c ? s : 7; assert_eq(g, g); assert_neq(a, b); return u == t ? 1u8 : 0u8;",
                   ret="u8")
    assert _body(_aleo(src)) == ["ternary r5 r0 7scalar into r6;", "assert.neq r3 r4;",
                                 "is.eq r6 r1 into r7;", "ternary r7 1u8 0u8 into r8;"]


# ---------------------------------------------------------------- checking


@pytest.mark.parametrize("params, body, ret, message", [
    ("x: field", "return BHP256::hash_to_field(x, x);", "field",
     "`BHP256::hash_to_field` takes 1 argument(s) but 2 were given"),
    ("x: field", "return BHP256::commit_to_field(x);", "field",
     "`BHP256::commit_to_field` takes 2 argument(s) but 1 were given"),
    ("x: field", "return BHP256::hash_to_bool(x);", "field", "`BHP256::hash_to_bool` does not exist"),
    ("x: field, s: scalar", "return BHP256::commit_to_u8(x, s);", "field", "a commit gives `address`, `field`, `group`"),
    ("x: field, s: scalar", "return BHP256::commit_to_field_raw(x, s);", "field", "commitments have no `_raw` form"),
    ("x: field", "return Poseidon2::digest(x);", "field", "`Poseidon2` has no function `digest`"),
    ("x: field", "return BHP256::hash_to_field((x, x));", "field", "cannot take the tuple `(field, field)`"),
    ("x: field", "return BHP256::hash_to_u8(x);", "field", "expected return type `field`, found `u8`"),
    ("x: [u8; 0]", "return Poseidon2::hash_to_field(x);", "field", "cannot take the empty array `[u8; 0]`"),
    ("x: field", "return Pedersen128::hash_to_field(x);", "field",
     "takes at most 128 input bits, but a `field` is 279 bits"),
    ("x: [u8; 2]", "return Pedersen128::hash_to_field(x);", "field", "a `[u8; 2]` is 134 bits"),
    ("x: field", "let s = x as scalar; return x;", "field", "cannot cast to `scalar`"),
    ("s: scalar", "let x = s as field; return x;", "field", "casts of `scalar`, `group` and `address`"),
    ("s: scalar", "return s + s;", "scalar", "`+` is not defined for `scalar`"),
    ("s: scalar", "return s < s;", "bool", "`<` needs integers or `field`, found `scalar`"),
    ("s: scalar", "return 2111115437357092606062206234695386632838870926408408195193685246394721360383scalar;",
     "scalar", "out of range for `scalar`"),
    ("s: scalar", "return 1group;", "group", "`group` literals are outside the supported subset"),
    ("s: scalar", "let a: address? = none; return s;", "scalar", "optional addresses are outside the Leo subset"),
    ("s: scalar", "let a: [address; 2]? = none; return s;", "scalar", "`[address; 2]?` holds an `address`"),
    ("x: field", "return BHP256::hash_to_field::[2u32](x);", "field", "unexpected"),
])
def test_errors(params: str, body: str, ret: str, message: str) -> None:
    assert message in _error(_program(params, body, ret))


def test_bit_sizes_match_snarkvm() -> None:
    from aleo.mainnet import Plaintext

    structs = {"P": [("values", ArrayType(Prim("u32"), 3)), ("salt", Prim("field"))]}
    cases = [(Prim("u32"), "3u32"), (Prim("bool"), "true"), (Prim("scalar"), "5scalar"),
             (ArrayType(Prim("field"), 2), "[1field, 2field]"),
             (ArrayType(ArrayType(Prim("i8"), 2), 2), "[[1i8, 2i8], [3i8, 4i8]]"),
             (StructType("P"), "{values: [1u32, 2u32, 3u32], salt: 9field}")]
    for t, literal in cases:
        p = Plaintext.from_string(literal)
        assert plaintext_bits(t, structs) == len(p.to_bits_le()), literal
        assert plaintext_bits(t, structs, raw=True) == len(p.to_bits_raw_le()), literal


# ---------------------------------------------------------------- values, in snarkVM

LINK = """
struct Link { values: [u32; 3], salt: field }
program link.aleo {
    // What one chain link outputs for the values it hands on.
    fn link(private v: [field; 2], private salt: scalar) -> (public field, public field, public group) {
        return (BHP256::commit_to_field(v, salt), BHP256::hash_to_field(v), Pedersen64::commit_to_group(7u32, salt));
    }
    fn poseidon(private values: [u32; 3], private salt: field) -> public field {
        return Poseidon2::hash_to_field(Link { values, salt });
    }
    // The same value hashed in another function gives the same digest.
    fn again(private v: [field; 2]) -> public field {
        return BHP256::hash_to_field([v[0], v[1]]);
    }
    fn scalars(private s: scalar) -> public bool {
        return s == 5scalar;
    }
    @noupgrade constructor() {}
}
"""


@pytest.fixture(scope="module")
def link_program():  # type: ignore[no-untyped-def]
    from aleo.mainnet import Identifier, PrivateKey, Process, Program, Value

    program = Program.from_source(_aleo(LINK))
    process = Process.load()
    process.add_program(program)
    key = PrivateKey.random()

    def outputs(function: str, inputs: list[str]) -> list[str]:
        auth = process.authorize(key, program.id, Identifier.from_string(function), [Value.parse(i) for i in inputs])
        return [o["value"] for o in auth.transitions()[0].outputs()]

    return outputs


def test_commitment_matches_snarkvm_hashers(link_program) -> None:  # type: ignore[no-untyped-def]
    from aleo.mainnet import BHP256, Pedersen64, Plaintext, Poseidon2, Scalar

    v, salt = "[3field, 4field]", "123456789scalar"
    commit, digest, ped = link_program("link", [v, salt])
    bits = Plaintext.from_string(v).to_bits_le()
    assert commit == str(BHP256().commit(bits, Scalar.from_string(salt)))
    assert digest == str(BHP256().hash(bits))
    assert ped == str(Pedersen64().commit_to_group(Plaintext.from_string("7u32").to_bits_le(),
                                                   Scalar.from_string(salt)))
    # Deterministic, hiding (another salt, another commitment), and the hash is the same elsewhere.
    assert link_program("link", [v, salt]) == [commit, digest, ped]
    assert link_program("link", [v, "987654321scalar"])[0] != commit
    assert link_program("again", [v]) == [digest]
    link = "{values: [1u32, 2u32, 3u32], salt: 99field}"
    assert link_program("poseidon", ["[1u32, 2u32, 3u32]", "99field"]) == [
        str(Poseidon2().hash(Plaintext.from_string(link).to_fields()))]
    assert link_program("scalars", ["5scalar"]) == ["true"]
    assert link_program("scalars", ["6scalar"]) == ["false"]


EXECUTED = """
program commits.aleo {
    // Public inputs: the cheapest, so that a BHP commitment fits the offline setup.
    fn link(public x: field, public salt: scalar) -> public field {
        return BHP256::commit_to_field(x, salt);
    }
    fn digest(public x: field) -> public field {
        return BHP256::hash_to_field(x);
    }
    @noupgrade constructor() {}
}
"""


@pytest.mark.slow
def test_commitment_executes_in_snarkvm(snarkvm) -> None:  # type: ignore[no-untyped-def]
    """A full execution (keys synthesized) of commit_to_field and hash_to_field."""
    from aleo.mainnet import BHP256, Plaintext, Scalar

    program = snarkvm.load(_aleo(EXECUTED))
    bits = Plaintext.from_string("42field").to_bits_le()
    expected = str(BHP256().commit(bits, Scalar.from_string("777scalar")))
    assert snarkvm.execute(program, "link", ["42field", "777scalar"]) == [expected]
    assert snarkvm.execute(program, "link", ["42field", "777scalar"]) == [expected]
    assert snarkvm.execute(program, "digest", ["42field"]) == [str(BHP256().hash(bits))]
