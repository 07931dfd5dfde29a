"""Stage 3: checked AST -> straight-line instructions, one list per entry function.

The lowering runs the program symbolically. Every Leo value is a tree whose leaves are
compile-time constants or virtual registers, so that:

* constants fold as they are met (a folded operation that would halt is a compile error);
* loops unroll by binding the loop variable to each constant in turn;
* helper functions inline by running their body on the argument values;
* ``if``/``else`` runs both branches and merges every variable they change with a
  ``ternary`` on the condition (Leo semantics: all checked operations in both branches
  execute); an ``assert`` only binds under its branch's guard, and an early ``return``
  turns into a select on a "has returned" flag;
* composite values (structs, arrays, tuples) stay split into leaves until they must
  exist as one register (an output or a call argument), where a ``cast`` builds them.
  Element assignment with a constant index is then just a replacement of one leaf;
* a call to an imported program becomes one ``call`` instruction (a separate transition).
  snarkVM runs every ``call`` it meets, so one under a run-time condition is an error
  rather than code that silently runs when the condition is false.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from . import ast_nodes as A
from . import fold
from .checker import BINARY_OPS, MAX_ARRAY_ELEMENTS, METHODS, UNIT, CheckedProgram
from .crypto import FAMILIES, CoreCall
from .diagnostics import Abort, Diagnostic, Span
from .interface import MAX_TRANSITIONS
from .ltypes import (BOOL, FIELD_MODULUS, ArrayType, OptionalType, Prim, StructType, TupleType, Type,
                     is_empty, is_field)

MAX_UNROLLED_ITERATIONS = 1 << 20  # guards against a typo like 0u64..1000000000u64


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Const:
    ty: Prim
    value: Union[int, bool]


@dataclass(frozen=True)
class Reg:
    """A virtual register, or a path into a composite input register (``r0[3u32].x``)."""

    ty: Type
    id: int
    path: tuple[str, ...] = ()


@dataclass(frozen=True)
class StructV:
    ty: StructType
    fields: tuple[tuple[str, "Value"], ...]

    def get(self, name: str) -> "Value":
        for n, v in self.fields:
            if n == name:
                return v
        raise KeyError(name)


@dataclass(frozen=True)
class ArrayV:
    ty: ArrayType
    items: tuple["Value", ...]


@dataclass(frozen=True)
class TupleV:
    ty: TupleType
    items: tuple["Value", ...]


Value = Union[Const, Reg, StructV, ArrayV, TupleV]
Scalar = Union[Const, Reg]

TRUE = Const(BOOL, True)
FALSE = Const(BOOL, False)


def type_of(v: Value) -> Type:
    return v.ty


# ---------------------------------------------------------------- instructions


@dataclass
class Instr:
    op: str  # Aleo opcode
    args: tuple[Scalar, ...]
    dest: Optional[int]  # virtual register written, None for asserts
    ty: Optional[Type]  # type of dest (the `as` type of a cast)
    keep: bool  # may halt, so it stays even when its result is unused
    more_dests: tuple[int, ...] = ()  # further registers written (a call with several outputs)


@dataclass
class LoweredFunction:
    name: str
    inputs: list[tuple[Type, str]]  # (type, visibility), registers 0..n-1
    body: list[Instr]
    outputs: list[tuple[Scalar, Type, str]]  # (operand, type, visibility)
    span: Span
    transitions: int = 1  # itself plus those run by its calls to other programs


@dataclass
class LoweredProgram:
    name: str
    structs: dict[str, list[tuple[str, Type]]]
    functions: list[LoweredFunction]
    imports: list[str] = field(default_factory=list)  # program ids, in declaration order


# Operations that can never halt, so unused results may be dropped.
_PURE_INT = {"add.w", "sub.w", "mul.w", "pow.w", "shl.w", "shr.w", "abs.w", "and", "or", "xor",
             "not", "nand", "nor", "is.eq", "is.neq", "lt", "lte", "gt", "gte", "ternary"}
_PURE_FIELD = {"add", "sub", "mul", "neg", "pow", "square", "double"}


def _may_halt(op: str, operand_ty: Optional[Type]) -> bool:
    if op in _PURE_INT:
        return False
    if op.startswith(("hash.", "commit.")):
        # `hash.ped64` halts on an input over 64 bits (the checker refuses those); the others never do.
        family = op.split(".")[1]
        return any(f.halts for f in FAMILIES.values() if f.opcode == family)
    if op == "cast":
        return True
    if isinstance(operand_ty, Prim) and is_field(operand_ty) and op in _PURE_FIELD:
        return False
    return True


# ---------------------------------------------------------------- lowering


@dataclass
class _Frame:
    """State of one (possibly inlined) function body."""

    scopes: list[dict[str, Value]]
    returned: Scalar = FALSE
    ret: Optional[Value] = None

    def snapshot(self) -> "_Frame":
        return _Frame([dict(s) for s in self.scopes], self.returned, self.ret)


class _Lowerer:
    def __init__(self, checked: CheckedProgram) -> None:
        self.checked = checked
        self.structs = checked.structs
        self.globals: dict[str, Value] = {}
        self.instrs: list[Instr] = []
        self.next_reg = 0
        self.memo: dict[tuple, int] = {}
        self.defs: dict[int, Instr] = {}  # virtual register -> the instruction writing it
        self.guard: Scalar = TRUE
        self.frame = _Frame([])
        self.inline_depth = 0
        self.select_depth = 0  # > 0 while lowering a side of a `?:` chosen at run time
        self.transitions = 1  # of the entry function being lowered
        self.reg_types: dict[int, Type] = {}  # composite registers (inputs, call results)

    def fail(self, span: Span, message: str) -> "Abort":
        return Abort(Diagnostic(span, message))

    # ---- instruction emission with folding and common-subexpression reuse
    def emit(self, op: str, args: tuple[Scalar, ...], ty: Type, operand_ty: Optional[Type]) -> Reg:
        key = (op, args, ty)
        if key in self.memo:
            return Reg(ty, self.memo[key])
        dest = self.next_reg
        self.next_reg += 1
        ins = Instr(op, args, dest, ty, _may_halt(op, operand_ty))
        self.instrs.append(ins)
        self.defs[dest] = ins
        self.memo[key] = dest
        return Reg(ty, dest)

    def op2(self, op: str, a: Scalar, b: Scalar, span: Span) -> Scalar:
        ty = a.ty
        assert isinstance(ty, Prim)
        result_ty = BOOL if op in ("is.eq", "is.neq", "lt", "lte", "gt", "gte") else ty
        if isinstance(a, Const) and isinstance(b, Const):
            try:
                return Const(result_ty, fold.binary(op, ty, a.value, b.value))
            except fold.Halt as e:
                raise self.fail(span, f"this constant operation halts: {e}") from None
        if a == b and op in ("is.eq", "is.neq", "lte", "gte", "lt", "gt"):
            # A value compared with itself (`assert_eq(b, c)` after `c = b`).
            return TRUE if op in ("is.eq", "lte", "gte") else FALSE
        # Boolean identities keep guards small (and fold whole branches away).
        if ty == BOOL and op in ("and", "or"):
            unit, zero = (TRUE, FALSE) if op == "and" else (FALSE, TRUE)
            for x, y in ((a, b), (b, a)):
                if x == unit:
                    return y
                if x == zero:
                    return zero
            if a == b:
                return a
        return self.emit(op, (a, b), result_ty, ty)

    def op1(self, op: str, a: Scalar, span: Span) -> Scalar:
        ty = a.ty
        assert isinstance(ty, Prim)
        if op == "not" and isinstance(a, Reg) and not a.path and a.id in self.defs:
            inner = self.defs[a.id]
            if inner.op == "not":  # !!x is x
                return inner.args[0]
        if isinstance(a, Const) and op != "sqrt":
            try:
                return Const(ty, fold.unary(op, ty, a.value))
            except fold.Halt as e:
                raise self.fail(span, f"this constant operation halts: {e}") from None
        return self.emit(op, (a,), ty, ty)

    def not_(self, a: Scalar) -> Scalar:
        return self.op1("not", a, Span(0, 0))

    def and_(self, a: Scalar, b: Scalar) -> Scalar:
        return self.op2("and", a, b, Span(0, 0))

    def or_(self, a: Scalar, b: Scalar) -> Scalar:
        return self.op2("or", a, b, Span(0, 0))

    def select(self, c: Scalar, a: Value, b: Value) -> Value:
        """``c ? a : b`` leaf by leaf (snarkVM's ternary takes primitives only)."""
        if a == b:
            return a
        if isinstance(c, Const):
            return a if c.value else b
        if isinstance(a, StructV) and isinstance(b, StructV):
            return StructV(a.ty, tuple((n, self.select(c, v, b.get(n))) for n, v in a.fields))
        if isinstance(a, ArrayV) and isinstance(b, ArrayV):
            return ArrayV(a.ty, tuple(self.select(c, x, y) for x, y in zip(a.items, b.items)))
        if isinstance(a, TupleV) and isinstance(b, TupleV):
            return TupleV(a.ty, tuple(self.select(c, x, y) for x, y in zip(a.items, b.items)))
        assert isinstance(a, (Const, Reg)) and isinstance(b, (Const, Reg))
        if a == TRUE and b == FALSE:
            return c
        if a == FALSE and b == TRUE:
            return self.not_(c)
        return self.emit("ternary", (c, a, b), a.ty, None)

    def leaves(self, v: Value) -> list[Scalar]:
        if isinstance(v, StructV):
            return [x for _, f in v.fields for x in self.leaves(f)]
        if isinstance(v, (ArrayV, TupleV)):
            return [x for i in v.items for x in self.leaves(i)]
        return [v]

    def equal(self, a: Value, b: Value, span: Span) -> Scalar:
        """``a == b`` for values of any type: leafwise, combined with `and`."""
        result: Scalar = TRUE
        for x, y in zip(self.leaves(a), self.leaves(b)):
            result = self.and_(result, self.op2("is.eq", x, y, span))
        return result

    def materialize(self, v: Value) -> Scalar:
        """One operand for a whole value, building composites with `cast` if needed."""
        if isinstance(v, (Const, Reg)):
            return v
        whole = self._whole_input(v)
        if whole is not None:
            return whole
        if isinstance(v, StructV):
            # Empty members (arrays of length 0) are not part of the Aleo struct.
            parts = tuple(self.materialize(f) for _, f in v.fields if not is_empty(type_of(f)))
        elif isinstance(v, ArrayV):
            parts = tuple(self.materialize(i) for i in v.items)
        else:
            raise TypeError("tuples are never materialized")
        return self.emit("cast", parts, v.ty, None)

    def _whole_input(self, v: Value) -> Optional[Reg]:
        """If ``v`` is exactly an untouched composite input (or part of one), its register path."""
        leaves = self.leaves(v)
        first = leaves[0] if leaves else None
        if not isinstance(first, Reg) or not first.path:
            return None
        prefix = self._common_prefix(v, first)
        if self._type_at(first.id, prefix) != v.ty:
            return None  # a slice of an input array has the leaves of a prefix, not its type
        expected = self.expand(Reg(v.ty, first.id, prefix))
        return Reg(v.ty, first.id, prefix) if expected == v else None

    def _type_at(self, reg: int, path: tuple[str, ...]) -> Optional[Type]:
        """The type of the part of register ``reg`` at ``path`` (``[2u32]``, ``.x``, ...)."""
        t = self.reg_types.get(reg)
        for step in path:
            if isinstance(t, StructType) and step.startswith("."):
                t = dict(self.structs[t.name]).get(step[1:])
            elif isinstance(t, ArrayType) and step.startswith("["):
                t = t.element
            else:
                return None
        return t

    def _common_prefix(self, v: Value, leaf: Reg) -> tuple[str, ...]:
        depth = 0
        node = v
        while isinstance(node, (StructV, ArrayV)):
            depth += 1
            parts = [f for _, f in node.fields] if isinstance(node, StructV) else list(node.items)
            node = next(p for p in parts if self.leaves(p))  # empty members have no leaf
        return leaf.path[: len(leaf.path) - depth]

    def expand(self, r: Reg) -> Value:
        """Split a composite register into leaves addressed by access paths."""
        t = r.ty
        if isinstance(t, StructType):
            return StructV(t, tuple((n, self.expand(Reg(ft, r.id, r.path + (f".{n}",))))
                                    for n, ft in self.structs[t.name]))
        if isinstance(t, ArrayType):
            return ArrayV(t, tuple(self.expand(Reg(t.element, r.id, r.path + (f"[{i}u32]",)))
                                   for i in range(t.length)))
        return r

    # ---- variables
    def lookup(self, name: str) -> Value:
        for scope in reversed(self.frame.scopes):
            if name in scope:
                return scope[name]
        return self.globals[name]

    def rebind(self, name: str, value: Value) -> None:
        for scope in reversed(self.frame.scopes):
            if name in scope:
                scope[name] = value
                return
        raise KeyError(name)

    def active_guard(self) -> Scalar:
        """Condition under which the statement being lowered actually runs."""
        return self.and_(self.guard, self.not_(self.frame.returned))

    # ---- program
    def lower(self) -> LoweredProgram:
        for c in self.checked.consts:
            self.globals[c.name] = self.const_value(c)
        funcs = []
        for fn in self.checked.program.functions:
            funcs.append(self.lower_entry(fn))
        # Ordered last: unrolling may have instantiated more generic structs.
        return LoweredProgram(self.checked.program.name, self.checked.ordered_structs(), funcs,
                              list(self.checked.imports))

    def const_value(self, c: A.ConstDecl) -> Value:
        v = self.expr(c.value)
        if not all(isinstance(x, Const) for x in self.leaves(v)):
            raise self.fail(c.value.span, f"the value of constant `{c.name}` is not known at compile time")
        return v

    def lower_entry(self, fn: A.FnDecl) -> LoweredFunction:
        sig = self.checked.signatures[fn.name]
        self.instrs, self.memo, self.defs, self.guard = [], {}, {}, TRUE
        self.transitions = 1
        params: dict[str, Value] = {}
        inputs = []
        for p, t in zip(fn.params, sig.params):
            if is_empty(t):
                # An empty array is no input at all in Aleo (as Leo compiles it).
                params[p.name] = self.expand(Reg(t, -1))
                continue
            self.reg_types[len(inputs)] = t
            params[p.name] = self.expand(Reg(t, len(inputs)))
            inputs.append((t, p.visibility or "private"))
        self.next_reg = len(inputs)
        self.frame = _Frame([params])
        self.block(fn.body, new_scope=False)
        outputs: list[tuple[Scalar, Type, str]] = []
        if sig.outputs:
            ret = self.frame.ret
            assert ret is not None
            values = list(ret.items) if sig.returns_tuple and isinstance(ret, TupleV) else [ret]
            seen: set[Scalar] = set()
            for v, t, o in zip(values, sig.outputs, fn.outputs):
                if is_empty(t):
                    continue  # dropped, like an empty input
                operand = self.materialize(v)
                if operand in seen:
                    # snarkVM rejects an output repeated verbatim; copy it to a new register.
                    dest = self.next_reg
                    self.next_reg += 1
                    self.instrs.append(Instr("cast", (operand,), dest, t, True))
                    operand = Reg(t, dest)
                seen.add(operand)
                outputs.append((operand, t, o.visibility or "private"))
        return LoweredFunction(fn.name, inputs, self.instrs, outputs, fn.span, self.transitions)

    # ---- statements
    def block(self, b: A.Block, new_scope: bool = True) -> None:
        if new_scope:
            self.frame.scopes.append({})
        for s in b.stmts:
            if self.frame.returned == TRUE:
                break  # everything after an unconditional return is dead
            self.stmt(s)
        if new_scope:
            self.frame.scopes.pop()

    def stmt(self, s: A.Stmt) -> None:
        if isinstance(s, A.Let):
            v = self.expr(s.value)
            if s.is_tuple:
                assert isinstance(v, TupleV)
                for (name, _), item in zip(s.names, v.items):
                    self.frame.scopes[-1][name] = item
            else:
                self.frame.scopes[-1][s.names[0][0]] = v
        elif isinstance(s, A.ConstDecl):
            self.frame.scopes[-1][s.name] = self.const_value(s)
        elif isinstance(s, A.Assign):
            self.assign(s)
        elif isinstance(s, A.Return):
            v = self.expr(s.value) if s.value is not None else TupleV(UNIT, ())
            f = self.frame
            f.ret = v if f.returned == FALSE or f.ret is None else self.select(f.returned, f.ret, v)
            f.returned = TRUE
        elif isinstance(s, A.If):
            self.if_stmt(s)
        elif isinstance(s, A.For):
            self.for_loop(s)
        elif isinstance(s, A.Assert):
            self.assertion(s)
        elif isinstance(s, A.ExprStmt):
            self.expr(s.expr)
        elif isinstance(s, A.Block):
            self.block(s)
        else:
            raise TypeError(s)

    def if_stmt(self, s: A.If) -> None:
        c = self.expr(s.cond)
        assert isinstance(c, (Const, Reg))
        if isinstance(c, Const):
            branch = s.then if c.value else s.otherwise
            if isinstance(branch, A.Block):
                self.block(branch)
            elif isinstance(branch, A.If):
                self.if_stmt(branch)
            return
        outer_guard = self.guard
        before = self.frame.snapshot()
        self.guard = self.and_(outer_guard, c)
        self.block(s.then)
        then_state = self.frame
        self.frame = before.snapshot()
        self.guard = self.and_(outer_guard, self.not_(c))
        if isinstance(s.otherwise, A.Block):
            self.block(s.otherwise)
        elif isinstance(s.otherwise, A.If):
            self.if_stmt(s.otherwise)
        else_state = self.frame
        self.guard = outer_guard
        # Merge: every variable visible before the `if` takes the value of the branch taken.
        merged = _Frame([{} for _ in before.scopes])
        for i, scope in enumerate(before.scopes):
            for name in scope:
                merged.scopes[i][name] = self.select(c, then_state.scopes[i][name], else_state.scopes[i][name])
        merged.returned = self.select(c, then_state.returned, else_state.returned)  # type: ignore[assignment]
        if then_state.ret is None:
            merged.ret = else_state.ret
        elif else_state.ret is None:
            merged.ret = then_state.ret
        else:
            merged.ret = self.select(c, then_state.ret, else_state.ret)
        self.frame = merged

    def for_loop(self, s: A.For) -> None:
        start, end = self.expr(s.start), self.expr(s.end)
        for bound, e in ((start, s.start), (end, s.end)):
            if not isinstance(bound, Const):
                raise self.fail(e.span, "loop bounds must be compile-time constants (literals, constants, or outer loop variables)")
        assert isinstance(start, Const) and isinstance(end, Const)
        stop = int(end.value) + (1 if s.inclusive else 0)
        count = stop - int(start.value)
        if count > MAX_UNROLLED_ITERATIONS:
            raise self.fail(s.span, f"this loop would unroll into {count} iterations; the limit is {MAX_UNROLLED_ITERATIONS}")
        ty = start.ty
        for i in range(int(start.value), stop):
            self.frame.scopes.append({s.var: Const(ty, i)})
            self.block(s.body)
            self.frame.scopes.pop()

    def assertion(self, s: A.Assert) -> None:
        a = b = None
        if s.kind == "assert":
            cond = self.expr(s.args[0])
        else:
            a, b = self.expr(s.args[0]), self.expr(s.args[1])
            cond = self.equal(a, b, s.span)
            if s.kind == "assert_neq":
                cond = self.not_(cond)  # type: ignore[arg-type]
        assert isinstance(cond, (Const, Reg))
        guard = self.active_guard()
        holds = self.or_(cond, self.not_(guard))
        if holds == TRUE:
            return
        # An assertion that always fails still compiles (as Leo does): the function halts
        # whenever it runs, which snarkVM reports at execution.
        if guard == TRUE and isinstance(a, (Const, Reg)) and isinstance(b, (Const, Reg)):
            # Unguarded scalar equality asserts map straight onto the instruction.
            op = "assert.eq" if s.kind == "assert_eq" else "assert.neq"
            self.instrs.append(Instr(op, (a, b), None, None, True))  # type: ignore[arg-type]
            return
        self.instrs.append(Instr("assert.eq", (holds, TRUE), None, None, True))

    def assign(self, s: A.Assign) -> None:
        value = self.expr(s.value)
        steps: list[A.Expr] = []
        node = s.target
        while not isinstance(node, A.VarRef):
            steps.append(node)
            node = node.base  # type: ignore[attr-defined]
        steps.reverse()
        root = self.lookup(node.name)
        keys: list[Union[str, int]] = []
        cur: Value = root
        for st in steps:
            key = self.place_key(st, cur)
            keys.append(key)
            if isinstance(cur, StructV):
                cur = dict(cur.fields)[key]  # type: ignore[index]
            else:
                cur = cur.items[key]  # type: ignore[union-attr,index]
        self.rebind(node.name, self.update(root, keys, value))

    def place_key(self, st: A.Expr, base: Value) -> Union[str, int]:
        if isinstance(st, A.Member):
            return st.name
        if isinstance(st, A.TupleIndex):
            return st.index
        assert isinstance(st, A.Index)
        return self.const_index(st, base)

    def const_index(self, e: A.Index, base: Value) -> int:
        idx = self.expr(e.index)
        if not isinstance(idx, Const):
            raise self.fail(e.index.span, "array index must be a constant after loop unrolling")
        # The value's own type: an array made in a loop may have that iteration's length.
        base_ty = type_of(base)
        assert isinstance(base_ty, ArrayType)
        if not 0 <= int(idx.value) < base_ty.length:
            raise self.fail(e.index.span, f"index {idx.value} is out of bounds for `{base_ty}`")
        return int(idx.value)

    def update(self, v: Value, keys: list[Union[str, int]], new: Value) -> Value:
        if not keys:
            return new
        k, rest = keys[0], keys[1:]
        if isinstance(v, StructV):
            return StructV(v.ty, tuple((n, self.update(f, rest, new) if n == k else f) for n, f in v.fields))
        if isinstance(v, (ArrayV, TupleV)):
            items = list(v.items)
            items[k] = self.update(items[k], rest, new)  # type: ignore[index]
            return type(v)(v.ty, tuple(items))  # type: ignore[arg-type]
        raise TypeError(v)

    # ---- expressions
    def expr(self, e: A.Expr) -> Value:
        v = self._expr(e)
        if e.wrap is not None:
            # A `T` where a `T?` is expected: `some` of it.
            assert isinstance(e.wrap, OptionalType)
            return StructV(e.wrap, (("is_some", TRUE), ("val", v)))
        return v

    def zero(self, t: Type) -> Value:
        """The placeholder `val` of a `none` (Leo fills it with zeros of the type)."""
        if isinstance(t, Prim):
            return Const(t, False if t == BOOL else 0)
        if isinstance(t, ArrayType):
            return ArrayV(t, (self.zero(t.element),) * t.length)
        assert isinstance(t, StructType)
        return StructV(t, tuple((n, self.zero(ft)) for n, ft in self.structs[t.name]))

    def unwrap(self, e: A.MethodCall) -> Value:
        """`x.unwrap()` asserts `x.is_some` (where the statement runs); `x.unwrap_or(d)` selects."""
        opt = self.expr(e.receiver)
        assert isinstance(opt, StructV)
        is_some, val = opt.get("is_some"), opt.get("val")
        assert isinstance(is_some, (Const, Reg))
        if e.method == "unwrap_or":
            return self.select(is_some, val, self.expr(e.args[0]))
        holds = self.or_(is_some, self.not_(self.active_guard()))
        if holds != TRUE:
            # A constant `none` still compiles and halts when run, as an always-failing assert.
            self.instrs.append(Instr("assert.eq", (holds, TRUE), None, None, True))
        return val

    def _expr(self, e: A.Expr) -> Value:
        if isinstance(e, A.NoneLit):
            assert isinstance(e.ty, OptionalType)
            return StructV(e.ty, (("is_some", FALSE), ("val", self.zero(e.ty.inner))))
        if isinstance(e, A.IntLit):
            ty = e.ty
            assert isinstance(ty, Prim)
            value = e.value % FIELD_MODULUS if is_field(ty) else e.value
            return Const(ty, value)
        if isinstance(e, A.BoolLit):
            return Const(BOOL, e.value)
        if isinstance(e, A.VarRef):
            return self.lookup(e.name)
        if isinstance(e, A.Unary):
            a = self.expr(e.operand)
            return self.op1("neg" if e.op == "-" else "not", a, e.span)  # type: ignore[arg-type]
        if isinstance(e, A.Binary):
            a, b = self.expr(e.left), self.expr(e.right)
            if isinstance(a, ArrayV) and isinstance(b, ArrayV):  # `+` concatenates arrays
                items = a.items + b.items
                return ArrayV(ArrayType(a.ty.element, len(items)), items)
            if e.op in ("==", "!="):
                eq = self.equal(a, b, e.span)
                return eq if e.op == "==" else self.not_(eq)
            return self.op2(BINARY_OPS[e.op], a, b, e.span)  # type: ignore[arg-type]
        if isinstance(e, A.Ternary):
            c = self.expr(e.cond)
            if isinstance(c, Const):
                # A constant condition selects at compile time; the other side is never built
                # (this is what lets `i == 0u32 ? x : a[i - 1u32]` unroll).
                return self.expr(e.then if c.value else e.otherwise)
            self.select_depth += 1
            then, otherwise = self.expr(e.then), self.expr(e.otherwise)
            self.select_depth -= 1
            return self.select(c, then, otherwise)  # type: ignore[arg-type]
        if isinstance(e, A.Cast):
            return self.cast(e)
        if isinstance(e, A.Call):
            return self.call(e)
        if isinstance(e, A.ExternalCall):
            return self.external_call(e)
        if isinstance(e, A.MethodCall):
            if e.impl_call is not None:
                return self.call(e.impl_call)
            if e.method in ("unwrap", "unwrap_or"):
                return self.unwrap(e)
            _, op = METHODS[e.method]
            recv = self.expr(e.receiver)
            if not e.args:
                return self.op1(op, recv, e.span)  # type: ignore[arg-type]
            arg = self.expr(e.args[0])
            if op in ("is.eq", "is.neq"):
                eq = self.equal(recv, arg, e.span)
                return eq if op == "is.eq" else self.not_(eq)
            return self.op2(op, recv, arg, e.span)  # type: ignore[arg-type]
        if isinstance(e, A.Member):
            base = self.expr(e.base)
            assert isinstance(base, StructV)
            return base.get(e.name)
        if isinstance(e, A.TupleIndex):
            base = self.expr(e.base)
            assert isinstance(base, TupleV)
            return base.items[e.index]
        if isinstance(e, A.Index):
            base = self.expr(e.base)
            assert isinstance(base, ArrayV)
            return base.items[self.const_index(e, base)]
        if isinstance(e, A.Slice):
            base = self.expr(e.base)
            assert isinstance(base, ArrayV) and isinstance(e.ty, ArrayType)
            lo = int(self.expr(e.start).value) if e.start is not None else 0  # type: ignore[union-attr]
            return ArrayV(e.ty, base.items[lo: lo + e.ty.length])
        if isinstance(e, A.TupleLit):
            items = tuple(self.expr(x) for x in e.elements)
            return TupleV(TupleType(tuple(type_of(i) for i in items)), items)
        if isinstance(e, A.ArrayLit):
            return ArrayV(e.ty, tuple(self.expr(x) for x in e.elements))  # type: ignore[arg-type]
        if isinstance(e, A.RepeatLit):
            item = self.expr(e.element)
            assert isinstance(e.ty, ArrayType)
            count = self.expr(e.count)  # a loop variable gives each iteration its own length
            if isinstance(count, Const) and not isinstance(count.value, bool) and count.value != e.ty.length:
                if count.value > MAX_ARRAY_ELEMENTS:
                    raise self.fail(e.count.span, f"repeat count {count.value} exceeds the limit of "
                                                  f"{MAX_ARRAY_ELEMENTS} elements")
                return ArrayV(ArrayType(type_of(item), count.value), (item,) * count.value)
            return ArrayV(e.ty, (item,) * e.ty.length)
        if isinstance(e, A.StructLit):
            return self.struct_lit(e)
        raise TypeError(e)

    def struct_lit(self, e: A.StructLit) -> Value:
        st = StructType(e.name)
        if e.const_args is not None:
            st = self.checked.struct_instance(e.name, self.const_args(e.const_args), e.span)
        given = {f.name: self.expr(f.value) for f in e.fields}
        if e.base is not None:
            # `..base` supplies every member the literal does not list.
            base = self.expr(e.base)
            assert isinstance(base, StructV)
            return StructV(base.ty, tuple((n, given.get(n, v)) for n, v in base.fields))
        return StructV(st, tuple((n, given[n]) for n, _ in self.structs[st.name]))

    def const_args(self, args: list[A.Expr]) -> tuple[tuple[Prim, int | bool], ...]:
        """The values of a generic's const arguments, now that loops are unrolled."""
        values = []
        for a in args:
            v = self.expr(a)
            if not isinstance(v, Const):
                raise self.fail(a.span, "a const argument must be known at compile time "
                                        "(literals, constants, const parameters and loop variables)")
            values.append((v.ty, v.value))
        return tuple(values)

    def cast(self, e: A.Cast) -> Value:
        a = self.expr(e.operand)
        assert isinstance(a, (Const, Reg)) and isinstance(a.ty, Prim)
        target = Prim(e.target)
        if a.ty == target:
            return a
        if isinstance(a, Const):
            try:
                folded = fold.cast(a.value, a.ty, target)
            except fold.Halt as err:
                raise self.fail(e.span, f"this constant cast halts: {err}") from None
            if folded is not None:
                return Const(target, folded)
        return self.emit("cast", (a,), target, a.ty)

    def core_call(self, e: A.Call) -> Value:
        """`BHP256::hash_to_field(x)` -> `hash.bhp256 r0 into r1 as field;` (`commit.*` takes the
        salt too). The value is one operand: a composite is built with `cast` first. Nothing
        is folded (a hash of constants is still computed by snarkVM)."""
        core = e.core
        assert isinstance(core, CoreCall)
        operands = tuple(self.materialize(self.expr(a)) for a in e.args)
        return self.emit(core.opcode, operands, Prim(core.result), None)

    def call(self, e: A.Call) -> Value:
        if e.core is not None:
            return self.core_call(e)
        fn = self.checked.helpers[e.name]
        consts: dict[str, Value] = {}
        if fn.is_generic:
            # Monomorphization: inline the instance for these values, checked on first use.
            assert e.const_args is not None
            inst = self.checked.instance(e.name, self.const_args(e.const_args), e.span)
            fn = inst.decl
            consts = {n: Const(t, v) for n, (t, v) in inst.consts.items()}
        args = [self.expr(a) for a in e.args]
        self.inline_depth += 1
        if self.inline_depth > 64:
            raise self.fail(e.span, "helper calls are nested more than 64 deep")
        saved_frame, saved_guard = self.frame, self.guard
        # Asserts in the helper hold only where the call itself runs.
        self.guard = self.active_guard()
        self.frame = _Frame([consts, {p.name: v for p, v in zip(fn.params, args)}])
        self.block(fn.body, new_scope=False)
        result = self.frame.ret if self.frame.ret is not None else TupleV(UNIT, ())
        self.frame, self.guard = saved_frame, saved_guard
        self.inline_depth -= 1
        return result


    def external_call(self, e: A.ExternalCall) -> Value:
        """``call prog.aleo/fn args into r..;``: never folded, merged or dropped."""
        values = [self.expr(a) for a in e.args]
        args = tuple(self.materialize(v) for v in values if not is_empty(type_of(v)))
        # The arguments are evaluated first, so errors inside them are reported first.
        where = f"`{e.program_id}::{e.function}`"
        if self.guard != TRUE:
            raise self.fail(e.callee_span, f"the call to {where} is under a condition known only at run time; "
                                           "snarkVM runs every call whichever branch is taken. Call it "
                                           "unconditionally and select its result with `?:`")
        if self.frame.returned != FALSE:
            raise self.fail(e.callee_span, f"the call to {where} follows a `return` taken at run time; "
                                           "snarkVM would run it even after the function has returned. "
                                           "Call it before the `return`")
        if self.select_depth:
            raise self.fail(e.callee_span, f"the call to {where} is a side of a `?:` whose condition is known "
                                           "only at run time; snarkVM runs it whichever side is chosen. "
                                           "Call it before the `?:`")
        sig = self.checked.imports[e.program_id].functions[e.function]
        self.transitions += sig.transitions
        if self.transitions > MAX_TRANSITIONS:
            raise self.fail(e.callee_span, f"with this call one execution would run {self.transitions} transitions; "
                                           f"snarkVM allows {MAX_TRANSITIONS} (the 32nd is the fee)")
        kept = [t for t in sig.outputs if not is_empty(t)]  # the callee has no empty outputs
        dests = list(range(self.next_reg, self.next_reg + len(kept)))
        self.next_reg += len(dests)
        self.instrs.append(Instr(f"call {e.locator}", args, dests[0] if dests else None,
                                 kept[0] if dests else None, True, tuple(dests[1:])))
        self.reg_types.update(zip(dests, kept))
        where = iter(dests)
        results = [self.expand(Reg(t, -1 if is_empty(t) else next(where))) for t in sig.outputs]
        if len(results) == 1:
            return results[0]
        return TupleV(TupleType(sig.outputs), tuple(results))


def lower(checked: CheckedProgram) -> LoweredProgram:
    """Unroll, inline, flatten and fold the checked program; raises Abort on a user error."""
    return _Lowerer(checked).lower()
