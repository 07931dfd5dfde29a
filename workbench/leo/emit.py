"""Stage 4: lowered functions -> Aleo instructions text.

Drops instructions whose results are unused and that cannot halt, then numbers registers
in order without gaps (inputs first), as snarkVM requires. Imports come before the
`program` line (the only ordering Aleo's grammar enforces).
"""

from __future__ import annotations

from .lower import Const, Instr, LoweredFunction, LoweredProgram, Reg, Scalar
from .ltypes import Prim, aleo_type, is_empty

MAX_INSTRUCTIONS = 65_535


def _live_instructions(fn: LoweredFunction) -> list[Instr]:
    live: set[int] = {op.id for op, _, _ in fn.outputs if isinstance(op, Reg)}
    kept: list[Instr] = []
    for ins in reversed(fn.body):
        if ins.keep or (ins.dest is not None and ins.dest in live):
            kept.append(ins)
            live.update(a.id for a in ins.args if isinstance(a, Reg))
    kept.reverse()
    return kept


def _literal(c: Const) -> str:
    if isinstance(c.value, bool):
        return "true" if c.value else "false"
    assert isinstance(c.ty, Prim)
    return f"{c.value}{c.ty.name}"


def emit_function(fn: LoweredFunction) -> tuple[str, int]:
    """Text of one `function` block and its instruction count."""
    body = _live_instructions(fn)
    numbering: dict[int, int] = {}
    for i in range(len(fn.inputs)):
        numbering[i] = i
    for ins in body:
        for d in ((ins.dest,) if ins.dest is not None else ()) + ins.more_dests:
            numbering[d] = len(numbering)

    def operand(a: Scalar) -> str:
        if isinstance(a, Const):
            return _literal(a)
        return f"r{numbering[a.id]}" + "".join(a.path)

    lines = [f"function {fn.name}:"]
    for i, (t, vis) in enumerate(fn.inputs):
        lines.append(f"    input r{i} as {aleo_type(t)}.{vis};")
    for ins in body:
        # Operator and operands; a call to a function without inputs has no operands.
        head = " ".join([ins.op] + [operand(a) for a in ins.args])
        if ins.dest is None:
            lines.append(f"    {head};")
        elif ins.op == "cast" or ins.op.startswith(("hash.", "commit.")):
            # `hash.bhp256 r0 into r1 as field;`: hashes and commits name their result type too.
            assert ins.ty is not None
            lines.append(f"    {head} into r{numbering[ins.dest]} as {aleo_type(ins.ty)};")
        else:  # a call with several outputs writes several registers
            dests = " ".join(f"r{numbering[d]}" for d in (ins.dest,) + ins.more_dests)
            lines.append(f"    {head} into {dests};")
    for op, t, vis in fn.outputs:
        lines.append(f"    output {operand(op)} as {aleo_type(t)}.{vis};")
    return "\n".join(lines) + "\n", len(body)


def emit_program(prog: LoweredProgram) -> tuple[str, dict[str, int]]:
    """The whole `.aleo` file, plus the instruction count of each function."""
    parts = [f"program {prog.name}.aleo;\n"]
    if prog.imports:
        parts.insert(0, "".join(f"import {pid};\n" for pid in prog.imports))
    for name, members in prog.structs.items():
        lines = [f"struct {name}:"] + [f"    {n} as {aleo_type(t)};" for n, t in members if not is_empty(t)]
        parts.append("\n".join(lines) + "\n")
    counts: dict[str, int] = {}
    for fn in prog.functions:
        text, n = emit_function(fn)
        counts[fn.name] = n
        parts.append(text)
    parts.append("constructor:\n    assert.eq edition 0u16;\n")
    return "\n".join(parts), counts
