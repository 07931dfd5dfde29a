"""The fixed cost of a transition, measured: an empty function with the same inputs and outputs.

Every Aleo transition pays for the request signature and for hashing its inputs and
outputs, whatever the function computes (about 10,400 constraints for one small input).
To make "model constraints" (total minus overhead) comparable with tools that count
only a model's logic, the workbench synthesizes the keys of a function that has the same
input and output types and visibilities and no logic, and reads its constraint count.
Counts are cached in `<key cache>/overhead.json` by signature and aleo-sdk version.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from workbench.atomic import write_json_atomic
from workbench.snarkvm.keycache import cache_dir

_FUNCTION = re.compile(r"^function (\w+):\s*$")
_INPUT = re.compile(r"^\s*input r\d+ as (.+)\.(private|public);\s*$")
_OUTPUT = re.compile(r"^\s*output \S+ as (.+)\.(private|public);\s*$")
_ARRAY = re.compile(r"^\[(.+); (\d+)u32\]$")


def signature(aleo_source: str, function: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The (type, visibility) of each input and output of `function` in an Aleo program."""
    inputs: list[tuple[str, str]] = []
    outputs: list[tuple[str, str]] = []
    current = None
    for line in aleo_source.splitlines():
        m = _FUNCTION.match(line)
        if m:
            current = m.group(1)
            continue
        if line and not line[0].isspace():
            current = None
        if current != function:
            continue
        if m := _INPUT.match(line):
            inputs.append((m.group(1), m.group(2)))
        elif m := _OUTPUT.match(line):
            outputs.append((m.group(1), m.group(2)))
    if not inputs and not outputs:
        raise ValueError(f"function {function!r} not found in the program")
    return inputs, outputs


_STRUCT = re.compile(r"^struct (\w+):\s*$")
_MEMBER = re.compile(r"^\s+(\w+) as (.+);\s*$")

Structs = dict[str, list[tuple[str, str]]]  # struct name -> (member, type) in order


def struct_definitions(aleo_source: str) -> Structs:
    """The struct definitions of an Aleo program (members in order)."""
    structs: Structs = {}
    current: list[tuple[str, str]] | None = None
    for line in aleo_source.splitlines():
        m = _STRUCT.match(line)
        if m:
            current = structs.setdefault(m.group(1), [])
            continue
        member = _MEMBER.match(line) if current is not None else None
        if member and current is not None:
            current.append((member.group(1), member.group(2)))
        elif line.strip():
            current = None
    return structs


def zero_literal(aleo_type: str, structs: Structs | None = None) -> str:
    """An Aleo value of `aleo_type` made of zeros (the input values do not change the count)."""
    structs = structs or {}
    m = _ARRAY.match(aleo_type)
    if m:
        return "[" + ", ".join([zero_literal(m.group(1), structs)] * int(m.group(2))) + "]"
    if aleo_type in structs:
        return "{ " + ", ".join(f"{n}: {zero_literal(t, structs)}" for n, t in structs[aleo_type]) + " }"
    return "false" if aleo_type == "boolean" else f"0{aleo_type}"


def _zero(aleo_type: str, lines: list[str], next_reg: list[int], structs: Structs | None = None) -> str:
    """An operand holding a zero value of `aleo_type` (emitting casts for arrays and structs)."""
    structs = structs or {}
    m = _ARRAY.match(aleo_type)
    if m:
        parts = [_zero(m.group(1), lines, next_reg, structs)] * int(m.group(2))
    elif aleo_type in structs:
        parts = [_zero(t, lines, next_reg, structs) for _, t in structs[aleo_type]]
    else:
        return "false" if aleo_type == "boolean" else f"0{aleo_type}"
    reg = f"r{next_reg[0]}"
    next_reg[0] += 1
    lines.append(f"    cast {' '.join(parts)} into {reg} as {aleo_type};")
    return reg


def overhead_program(
    name: str, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]], structs: Structs | None = None
) -> str:
    """An Aleo program whose `main` has these inputs and outputs and computes nothing
    (`structs`: the definitions the signature's struct types need)."""
    structs = structs or {}
    lines = [f"program {name}.aleo;", ""]
    for struct, members in structs.items():
        lines += [f"struct {struct}:", *(f"    {n} as {t};" for n, t in members), ""]
    lines.append("function main:")
    lines += [f"    input r{i} as {t}.{v};" for i, (t, v) in enumerate(inputs)]
    next_reg = [len(inputs)]
    operands = []
    for t, _ in outputs:
        operand = _zero(t, lines, next_reg, structs)
        if operand in operands or not operand.startswith("r"):
            # Outputs must be distinct registers: copy a repeated or literal value.
            reg = f"r{next_reg[0]}"
            next_reg[0] += 1
            lines.append(f"    cast {operand} into {reg} as {t};")
            operand = reg
        operands.append(operand)
    lines += [f"    output {o} as {t}.{v};" for o, (t, v) in zip(operands, outputs)]
    lines += ["", "constructor:", "    assert.eq edition 0u16;", ""]
    return "\n".join(lines)


def _cache_file() -> Path:
    return cache_dir() / "overhead.json"


def measure(aleo_source: str, function: str, sdk_version: str) -> int:
    """Constraints of an empty function with `function`'s signature (cached on disk).

    The empty function's keys are synthesized in a scratch snarkVM process, dropped on
    return: kept in the model's process, they would add to every later stage's memory.
    """
    from aleo import mainnet as avm

    ins, outs = signature(aleo_source, function)
    structs = struct_definitions(aleo_source)
    # Every definition, when any is used: a struct member may itself be a struct.
    used = structs if any(k in t for k in structs for t, _ in ins + outs) else {}
    key = hashlib.sha256(json.dumps([sdk_version, ins, outs] + ([used] if used else [])).encode()).hexdigest()[:24]
    cache = _cache_file()
    try:
        known = json.loads(cache.read_text())
    except (OSError, json.JSONDecodeError):
        known = {}
    if isinstance(known.get(key), int):
        return known[key]
    program = avm.Program.from_source(overhead_program(f"overhead_{key[:16]}", ins, outs, used))
    process = avm.Process.load()
    process.add_program(program)
    main = avm.Identifier.from_string("main")
    auth = process.authorize(avm.PrivateKey.random(), program.id, main, [avm.Value.parse(zero_literal(t, used)) for t, _ in ins])
    process.execute(auth)
    count = int(process.get_verifying_key(program.id, main).num_constraints())
    del process, auth
    known[key] = count
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(cache, known)
    except OSError:
        pass  # a read-only cache only costs a re-measurement next time
    return count
