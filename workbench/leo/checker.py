"""Stage 2: static checks over the AST.

Resolves names and types (recording every expression's type on its node, which is how an
unsuffixed literal learns its type), and enforces Leo's rules and snarkVM's limits: no
shadowing, arity, mutability, return paths, constructor, identifier lengths, the 16/16/32/
2048/31 limits. Properties that only exist after unrolling (constant loop bounds and
indices, overflow in constant operations) are checked by the lowering stage.
"""

from __future__ import annotations

import copy
import hashlib
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Optional

from . import ast_nodes as A
from . import crypto, fold
from .diagnostics import Abort, DiagnosticSink, Span
from .interface import MAX_IMPORTS, ProgramSignature, struct_in
from .ltypes import (BOOL, FIELD, MAGNITUDE_TYPES, OPAQUE_NAMES, PRIMITIVE_NAMES, U32, ArrayType,
                     OptionalType, Prim, StructType, TupleType, Type, fits, is_bool, is_empty, is_field, is_int,
                     is_numeric, is_opaque, is_signed, is_unsigned)

MAX_INPUTS = 16
MAX_OUTPUTS = 16
MAX_STRUCT_MEMBERS = 32
MAX_ARRAY_ELEMENTS = 2048

# Leo 4.3's keywords (its lexer's keyword tokens): never a name, even where this grammar's
# contextual lexer would read one as an identifier (`let none = ..`, `struct u8 {..}`).
LEO_KEYWORDS = frozenset("""
    true false none address bool field group scalar signature string record Final
    i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 if else for in return let const constant fn
    final Fn struct constructor interface impl program import mapping storage network aleo
    script block public private as self assert assert_eq assert_neq
""".split())
MAX_NESTED_ELEMENTS = 2**16  # all the scalars of a nested array type


def _array_elements(t: object) -> int:
    """Scalars in a (nested) array type; 0 for a non-array."""
    return t.length * (_array_elements(t.element) or 1) if isinstance(t, ArrayType) else 0
MAX_ENTRY_FUNCTIONS = 31
MAX_IDENTIFIER = 31
# Function annotations Leo accepts outside test files; both leave the output unchanged here.
INLINE_ANNOTATIONS = ("inline", "no_inline")

UNIT = TupleType(())

# Names snarkVM refuses for functions, structs and members (opcodes and keywords).
ALEO_RESERVED = frozenset("""
abs add and assert cast commit div double gt gte hash inv is lt lte mod mul nand neg nor not or
pow rem shl shr sqrt square sub ternary xor call async await input output function closure
program import struct record mapping finalize constructor as into true false self block
network edition private public constant key value owner signature address boolean field group
scalar string future position branch contains get set remove rand const let fn return
""".split()) | PRIMITIVE_NAMES

# Method forms: name -> (kind, opcode). Kinds say which operand types are allowed.
METHODS: dict[str, tuple[str, str]] = {
    "add_wrapped": ("int2", "add.w"), "sub_wrapped": ("int2", "sub.w"),
    "mul_wrapped": ("int2", "mul.w"), "div_wrapped": ("int2", "div.w"),
    "rem_wrapped": ("int2", "rem.w"), "pow_wrapped": ("mag", "pow.w"),
    "shl_wrapped": ("mag", "shl.w"), "shr_wrapped": ("mag", "shr.w"),
    "add": ("num2", "add"), "sub": ("num2", "sub"), "mul": ("num2", "mul"),
    "div": ("num2", "div"), "rem": ("int2", "rem"), "pow": ("pow", "pow"),
    "shl": ("mag", "shl"), "shr": ("mag", "shr"),
    "and": ("bits2", "and"), "or": ("bits2", "or"), "xor": ("bits2", "xor"),
    "eq": ("eq", "is.eq"), "neq": ("eq", "is.neq"),
    "lt": ("cmp", "lt"), "lte": ("cmp", "lte"), "gt": ("cmp", "gt"), "gte": ("cmp", "gte"),
    "abs": ("signed1", "abs"), "abs_wrapped": ("signed1", "abs.w"),
    "neg": ("neg1", "neg"), "not": ("bits1", "not"),
    "mod": ("unsigned2", "mod"), "nand": ("bool2", "nand"), "nor": ("bool2", "nor"),
    "inv": ("field1", "inv"), "square": ("field1", "square"),
    "square_root": ("field1", "sqrt"), "double": ("field1", "double"),
}

BINARY_OPS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "rem", "**": "pow",
              "<<": "shl", ">>": "shr", "&": "and", "&&": "and", "|": "or", "||": "or",
              "^": "xor", "==": "is.eq", "!=": "is.neq", "<": "lt", "<=": "lte", ">": "gt",
              ">=": "gte"}


@dataclass
class Signature:
    params: list[Type]
    outputs: list[Type]
    returns_tuple: bool

    @property
    def return_type(self) -> Type:
        if not self.outputs:
            return UNIT
        if self.returns_tuple:
            return TupleType(tuple(self.outputs))
        return self.outputs[0]


# The values of a generic's const parameters, in order, each with its type.
ConstValues = tuple[tuple[Prim, "int | bool"], ...]


@dataclass
class Instance:
    """A generic helper checked for one list of const arguments: Leo monomorphizes generics,
    so each instance is checked (and later inlined) as its own copy of the helper."""

    name: str  # as Leo shows it: `sum::[3u32]`
    decl: A.FnDecl  # a copy of the helper; its expressions carry this instance's types
    signature: Signature
    consts: dict[str, tuple[Prim, "int | bool"]]


def render_const(t: Prim, v: int | bool) -> str:
    """A const argument as Leo prints it in an instance's name (`4u32`, `true`)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return f"{v}{t.name}"


def instance_name(name: str, values: ConstValues) -> str:
    """`Foo::[2u32, 3u32]`: how Leo names an instance (and hashes it, for structs)."""
    return f"{name}::[{', '.join(render_const(t, v) for t, v in values)}]"


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def leo_struct_name(base: str, display: str) -> str:
    """The Aleo name Leo gives an instance of a generic struct: the base name, `__`, then
    the base-62 form of the first 8 bytes of the SHA-256 of its full name (`Foo::[10u32]`
    becomes `Foo__6h1mBzWS4b`), the base cut so that the whole fits in 31 characters."""
    n = int.from_bytes(hashlib.sha256(display.encode()).digest()[:8], "big")
    digits = ""
    while True:
        digits = _BASE62[n % 62] + digits
        n //= 62
        if n == 0:
            break
    return f"{base[: MAX_IDENTIFIER - 2 - len(digits)]}__{digits}"


def _leo_type_text(t: Type) -> str:
    """`T` as Leo prints it when naming the struct for `T?`: arrays with a `u32` length,
    structs as their path from the program root (`::Foo`)."""
    if isinstance(t, ArrayType):
        return f"[{_leo_type_text(t.element)}; {t.length}u32]"
    if isinstance(t, StructType):
        # Leo names optionals after monomorphization: a generic instance by its full name
        # (`::Foo::[10u32]`), the name its own `Foo__<hash>` is made from. (Not checked
        # against a Leo expectation; plain structs are.)
        return f"::{t.display or t.name}"
    return str(t)


def optional_struct_name(inner: Type) -> str:
    """The Aleo struct Leo lowers `T?` to: Leo names it `"T?"` (quotes included), which is not
    an Aleo identifier, so it is legalized like a generic instance: `Optional__` and the base-62
    SHA-256 prefix of that name (`u8?` is `Optional__8hhrPm4c3KB`)."""
    return leo_struct_name("Optional", f'"{_leo_type_text(inner)}?"')


def contains_optional(t: Optional[Type], structs: Mapping[str, list[tuple[str, Type]]]) -> bool:
    """Whether `t` is, or holds somewhere inside, an optional."""
    if isinstance(t, OptionalType):
        return True
    if isinstance(t, ArrayType):
        return contains_optional(t.element, structs)
    if isinstance(t, TupleType):
        return any(contains_optional(x, structs) for x in t.elements)
    if isinstance(t, StructType):
        return any(contains_optional(x, structs) for _, x in structs.get(t.name, []))
    return False


@dataclass
class CheckedProgram:
    """The AST plus what the checker resolved, ready for lowering."""

    unit: A.SourceUnit
    program: A.ProgramBlock
    structs: dict[str, list[tuple[str, Type]]]  # every concrete struct, generic instances included
    signatures: dict[str, Signature]
    helpers: dict[str, A.FnDecl]
    consts: list[A.ConstDecl]  # global constants in declaration order
    # Imported programs in declaration order, each with the signature it was checked against.
    imports: dict[str, ProgramSignature] = field(default_factory=dict)
    checker: Optional["Checker"] = None  # instantiates generics the lowering meets

    def instance(self, name: str, values: ConstValues, site: Span) -> Instance:
        """The checked instance of generic helper `name`, checking it now if no call seen by
        the checker needed it (const arguments that depend on a loop variable); its errors
        stop the lowering."""
        assert self.checker is not None
        return self.checker.on_demand(lambda: self.checker.instantiate_fn(self.helpers[name], values, site))

    def struct_instance(self, name: str, values: ConstValues, site: Span) -> StructType:
        """The concrete struct for generic struct `name` and these const arguments."""
        assert self.checker is not None
        checker = self.checker
        return checker.on_demand(lambda: checker.instantiate_struct(checker.struct_decls[name], values, site))

    def ordered_structs(self) -> dict[str, list[tuple[str, Type]]]:
        """Every struct, each after the structs it contains (the order Aleo needs)."""
        return order_structs(self.structs)


def order_structs(types: Mapping[str, list[tuple[str, Type]]]) -> dict[str, list[tuple[str, Type]]]:
    """Structs with every struct they contain placed first (cycles are reported elsewhere)."""
    ordered: dict[str, list[tuple[str, Type]]] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered or name in visiting or name not in types:
            return
        visiting.add(name)
        for _, t in types[name]:
            for dep in _structs_used(t):
                visit(dep)
        visiting.discard(name)
        ordered[name] = list(types[name])

    for name in list(types):
        visit(name)
    return ordered


def _structs_used(t: Optional[Type]) -> list[str]:
    if isinstance(t, StructType):
        return [t.name]
    if isinstance(t, ArrayType):
        return _structs_used(t.element)
    if isinstance(t, TupleType):
        return [n for e in t.elements for n in _structs_used(e)]
    return []


def _subexprs(e: A.Expr) -> Iterator[A.Expr]:
    """``e`` and every expression inside it."""
    yield e
    for value in vars(e).values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, A.Expr):
                yield from _subexprs(item)
            elif isinstance(item, A.StructInit):
                yield from _subexprs(item.value)


@dataclass
class _Binding:
    ty: Optional[Type]
    kind: str  # "var", "param", "const", "loop"
    value: Optional[int | bool] = None  # known value of a constant, for array lengths
    sized: bool = False  # an array whose length is a loop variable: it may only be indexed


def _untyped(e: A.Expr) -> bool:
    """An integer literal without suffix (possibly negated or in a ternary): needs context."""
    if isinstance(e, A.IntLit):
        return e.suffix is None
    if isinstance(e, A.Unary) and e.op == "-":
        return _untyped(e.operand)
    if isinstance(e, A.Ternary):
        return _untyped(e.then) and _untyped(e.otherwise)
    return isinstance(e, A.NoneLit)  # `none` takes its type from the other side


class Checker:
    def __init__(self, sink: DiagnosticSink, available: Mapping[str, ProgramSignature]) -> None:
        self.sink = sink
        self.available = available  # signatures of the dependencies, by program id
        self.imported: dict[str, ProgramSignature] = {}
        self.import_decls: dict[str, A.ImportDecl] = {}
        self.struct_types: dict[str, list[tuple[str, Type]]] = {}
        self.optional_structs: set[str] = set()  # the structs `T?` lowers to
        self.struct_decls: dict[str, A.StructDecl] = {}
        self.signatures: dict[str, Signature] = {}
        self.helpers: dict[str, A.FnDecl] = {}
        self.impl_methods: set[str] = set()  # the names of the methods of `impl` blocks
        # Nodes where a loop-sized array may appear: a `let` initializer, an indexed base.
        self.sized_ok: set[int] = set()
        self.entries: dict[str, A.FnDecl] = {}
        self.scopes: list[dict[str, _Binding]] = [{}]
        self.current: Optional[A.FnDecl] = None
        self.current_sig: Optional[Signature] = None
        self.calls: dict[str, set[str]] = {}
        # Generics: the instances checked so far, and the ones being checked (a generic
        # asked for again while its own instance is checked is recursion).
        self.instances: dict[tuple[str, ConstValues], Instance] = {}
        self.instantiating: list[str] = []
        self.struct_instantiating: set[str] = set()
        self.broken_generics: set[str] = set()

    def error(self, span: Span, message: str) -> None:
        self.sink.error(span, message)

    @contextmanager
    def detached(self, consts: dict[str, _Binding]) -> Iterator[None]:
        """Check something outside the current function (a generic instance): only the
        global scope and the given const parameters are visible inside."""
        saved = (self.scopes, self.current, self.current_sig)
        self.scopes = [self.scopes[0], dict(consts)]
        try:
            yield
        finally:
            self.scopes, self.current, self.current_sig = saved

    def noting(self, start: int, site: Span, message: str) -> None:
        """Add a note at ``site`` to every diagnostic recorded since ``start``: an error in a
        generic's definition also points at the instantiation that found it."""
        self.sink.items[start:] = [d.with_note(site, message) for d in self.sink.items[start:]]

    def on_demand(self, make):  # type: ignore[no-untyped-def]
        """Run an instantiation the lowering asked for; its errors become an Abort."""
        saved = self.sink
        self.sink = DiagnosticSink(saved.source)
        try:
            result = make()
        finally:
            found, self.sink = self.sink.items, saved
        if found:
            raise Abort(*found)
        return result

    # ------------------------------------------------------------ names and scopes
    def check_ident(self, name: str, span: Span, what: str) -> None:
        if name in LEO_KEYWORDS:
            self.error(span, f"`{name}` is a keyword in Leo and cannot be used as a {what}")
            return
        if len(name) > MAX_IDENTIFIER:
            self.error(span, f"{what} `{name}` is {len(name)} characters long; the limit is {MAX_IDENTIFIER}")

    def lookup(self, name: str) -> Optional[_Binding]:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def declare(self, name: str, span: Span, binding: _Binding, what: str = "variable") -> None:
        if name == "self":
            if binding.kind != "param":
                self.error(span, f"`self` is a keyword; it cannot name a {what}")
            else:  # a method's receiver (a typed parameter `self: T` is refused with the signature)
                self.scopes[-1][name] = binding
            return
        if name == "_":
            # `let _ = ..`, `let (a, _) = ..`, `for _ in ..`: a wildcard binds nothing.
            if what not in ("variable", "loop variable"):
                self.error(span, f"`_` cannot name a {what}")
            return
        self.check_ident(name, span, what)
        if self.lookup(name) is not None:
            self.error(span, f"`{name}` is already declared; Leo does not allow shadowing")
            return
        self.scopes[-1][name] = binding

    # ------------------------------------------------------------ types
    def resolve_type(self, te: A.TypeExpr) -> Optional[Type]:
        if isinstance(te, A.NamedTypeExpr):
            if te.name in PRIMITIVE_NAMES:
                if te.const_args is not None:
                    self.error(te.span, f"`{te.name}` takes no const arguments")
                return Prim(te.name)
            if te.name in self.struct_decls:
                return self.struct_type_of(self.struct_decls[te.name], te.const_args, te.span)
            if te.name in ("signature", "string"):
                self.error(te.span, f"type `{te.name}` is outside the Leo subset this compiler supports")
            else:
                self.error(te.span, f"unknown type `{te.name}`")
            return None
        if isinstance(te, A.ArrayTypeExpr):
            elem = self.resolve_type(te.element)
            if isinstance(elem, TupleType):
                self.error(te.element.span, "arrays of tuples are not allowed")
                return None
            n = self.const_length(te.length, "array length")
            if elem is None or n is None:
                return None
            total = n * (_array_elements(elem) or 1)
            if total > MAX_NESTED_ELEMENTS:
                # Every element becomes a register; past this no program fits a transition anyway,
                # and expanding it would take the compiler minutes.
                self.error(te.span, f"an array of {total:,} elements in all; the limit is {MAX_NESTED_ELEMENTS:,}")
                return None
            return ArrayType(elem, n)
        if isinstance(te, A.OptionalTypeExpr):
            inner = self.resolve_type(te.inner)
            if inner is None:
                return None
            if isinstance(inner, OptionalType):
                self.error(te.span, f"nested optional `{inner}?` is not allowed")
                return None
            if isinstance(inner, TupleType):
                self.error(te.span, f"a tuple cannot be optional (`{inner}?`)")
                return None
            if self.holds_address(inner):
                # A `none` holds a zero value, and this compiler writes no address literals.
                self.error(te.span, f"`{inner}?` holds an `address`; optional addresses are outside the "
                                    "Leo subset this compiler supports")
                return None
            return self.optional_type(inner)
        if isinstance(te, A.TupleTypeExpr):
            if not te.elements:
                self.error(te.span, "the unit type `()` is only allowed as a return type")
                return None
            elems = [self.resolve_type(t) for t in te.elements]
            if any(e is None for e in elems):
                return None
            return TupleType(tuple(elems))  # type: ignore[arg-type]
        raise TypeError(te)

    def holds_address(self, t: Type) -> bool:
        """Whether a value of ``t`` contains an `address` (directly, or in an array or struct)."""
        if isinstance(t, ArrayType):
            return self.holds_address(t.element)
        if isinstance(t, StructType):
            return any(self.holds_address(mt) for _, mt in self.struct_types.get(t.name, []))
        return t == Prim("address")

    def optional_type(self, inner: Type) -> OptionalType:
        """`inner?`, registering the struct it lowers to (`is_some`, then `val`) on first use."""
        name = optional_struct_name(inner)
        if name not in self.struct_types:
            self.struct_types[name] = [("is_some", BOOL), ("val", inner)]
            self.optional_structs.add(name)
        return OptionalType(name, f"{inner}?", inner)

    # ------------------------------------------------------------ generics
    def struct_type_of(self, decl: A.StructDecl, const_args: Optional[list[A.Expr]], site: Span) -> Optional[StructType]:
        """The struct a name (with its const arguments, if any) stands for."""
        if not decl.is_generic:
            if const_args is not None:
                self.error(site, f"struct `{decl.name}` takes no const arguments")
                return None
            return StructType(decl.name)
        if const_args is None:
            self.error(site, f"struct `{decl.name}` is generic; give its const arguments, as in `{decl.name}::[...]`")
            return None
        values = self.const_args_of(decl.const_params, const_args, site, f"struct `{decl.name}`")
        if values is None:
            return None
        return self.instantiate_struct(decl, values, site)

    def const_param_type(self, p: A.ConstParam) -> Optional[Prim]:
        """A const parameter's type: an integer type, `bool` or `field` (None otherwise)."""
        te = p.type_expr
        if (isinstance(te, A.NamedTypeExpr) and te.const_args is None and te.name in PRIMITIVE_NAMES
                and te.name not in OPAQUE_NAMES):
            return Prim(te.name)
        return None

    def check_const_params(self, params: list[A.ConstParam], what: str) -> None:
        """A generic's parameters, checked once at its definition."""
        seen: set[str] = set()
        for p in params:
            self.check_ident(p.name, p.name_span, "const parameter")
            if p.name in seen:
                self.error(p.name_span, f"const parameter `{p.name}` of {what} is declared twice")
            seen.add(p.name)
            if p.name in self.scopes[0]:
                self.error(p.name_span, f"`{p.name}` is already declared; Leo does not allow shadowing")
            if self.const_param_type(p) is None:
                self.error(p.type_expr.span, f"a const parameter must have an integer type, `bool` or `field`, "
                                             f"not `{type_text(p.type_expr)}`")

    def check_generic_body_names(self, fn: A.FnDecl) -> bool:
        """Names a generic helper's body may not reuse: its const parameters cannot be
        shadowed (by a parameter, `let`, `const` or loop variable) or assigned. Checked once
        at the definition, since the body itself is only checked per instance."""
        consts = {p.name for p in fn.const_params}
        start = len(self.sink.items)
        for p in fn.params:
            if p.name in consts:
                self.error(p.span, f"`{p.name}` is already declared; Leo does not allow shadowing")

        def walk(stmts: list[A.Stmt]) -> None:
            for st in stmts:
                names: list[tuple[str, Span]] = []
                if isinstance(st, A.Let):
                    names = st.names
                elif isinstance(st, A.ConstDecl):
                    names = [(st.name, st.name_span)]
                elif isinstance(st, A.For):
                    names = [(st.var, st.var_span)]
                    walk(st.body.stmts)
                elif isinstance(st, A.Assign):
                    root = st.target
                    while isinstance(root, (A.Member, A.TupleIndex, A.Index)):
                        root = root.base
                    if isinstance(root, A.VarRef) and root.name in consts:
                        self.error(st.target.span, f"cannot assign to const parameter `{root.name}`")
                elif isinstance(st, A.Block):
                    walk(st.stmts)
                elif isinstance(st, A.If):
                    walk(st.then.stmts)
                    if st.otherwise is not None:
                        walk([st.otherwise])
                for name, span in names:
                    if name in consts:
                        self.error(span, f"`{name}` is already declared; Leo does not allow shadowing")

        walk(fn.body.stmts)
        return len(self.sink.items) == start

    def const_args_of(self, params: list[A.ConstParam], args: list[A.Expr], site: Span,
                      what: str) -> Optional[ConstValues]:
        """The values of a generic's const arguments, or None (an error is reported, unless
        an argument depends on a loop that never runs)."""
        if len(args) != len(params):
            self.error(site, f"{what} takes {len(params)} const argument(s), found {len(args)}")
            return None
        values: list[tuple[Prim, int | bool]] = []
        ok = True
        for p, a in zip(params, args):
            t = self.const_param_type(p)
            at = self.expr(a, t)
            if t is None or at is None:
                ok = False
                continue
            if at != t:
                self.error(a.span, f"const parameter `{p.name}` of {what} is `{t}`, found `{at}`")
                ok = False
                continue
            v = self.const_value(a, loose=True)
            if v is None:
                # Only runtime values are an error here; a constant that halts (say `I - 1u32`
                # with I = 0 in a branch the unrolling drops) is left for the lowering.
                if not self.const_shaped(a):
                    self.error(a.span, f"the const argument for `{p.name}` must be known at compile time "
                                       f"(literals, constants, const parameters and loop variables)")
                ok = False
                continue
            values.append((t, v % fold.P if t == FIELD else v))
        return tuple(values) if ok else None

    def const_shaped(self, e: A.Expr) -> bool:
        """Whether ``e`` is built only from literals, constants and loop variables."""
        for sub in _subexprs(e):
            if isinstance(sub, A.VarRef):
                b = self.lookup(sub.name)
                if b is None or b.kind not in ("const", "loop"):
                    return False
            elif not isinstance(sub, (A.IntLit, A.BoolLit, A.Binary, A.Unary, A.Ternary, A.Cast)):
                return False
        return True

    def mentions_loop(self, e: A.Expr) -> bool:
        """Whether ``e`` reads a loop variable (its value is only known once unrolled)."""
        for sub in _subexprs(e):
            if isinstance(sub, A.VarRef):
                b = self.lookup(sub.name)
                if b is not None and b.kind == "loop":
                    return True
        return False

    def const_bindings(self, params: list[A.ConstParam], values: ConstValues) -> dict[str, _Binding]:
        return {p.name: _Binding(t, "const", v) for p, (t, v) in zip(params, values)}

    def instantiate_struct(self, decl: A.StructDecl, values: ConstValues, site: Span) -> Optional[StructType]:
        """The concrete struct `decl::[values]`, resolving its members on first use."""
        display = instance_name(decl.name, values)
        name = leo_struct_name(decl.name, display)
        if name in self.struct_types:
            return StructType(name, display)
        if decl.name in self.struct_instantiating:
            self.error(site, f"struct `{display}` contains itself")
            return None
        self.struct_instantiating.add(decl.name)
        start = len(self.sink.items)
        try:
            with self.detached(self.const_bindings(decl.const_params, values)):
                members = self.struct_members(decl, check_names=False)
        finally:
            self.struct_instantiating.discard(decl.name)
        self.noting(start, site, f"in `{display}`, instantiated here")
        self.struct_types[name] = members
        return StructType(name, display)

    def instantiate_fn(self, fn: A.FnDecl, values: ConstValues, site: Span) -> Instance:
        """Check generic helper `fn` for these const arguments (once per list of values)."""
        key = (fn.name, values)
        if key in self.instances:
            return self.instances[key]
        display = instance_name(fn.name, values)
        decl = copy.deepcopy(fn)  # each instance keeps its own types on its own expressions
        consts = self.const_bindings(fn.const_params, values)
        start = len(self.sink.items)
        if fn.name in self.instantiating:
            self.error(site, f"`{display}` calls itself (directly or indirectly); recursion cannot be inlined")
            with self.detached(consts):
                inst = Instance(display, decl, self.check_signature(decl), {})
            return inst
        self.instantiating.append(fn.name)
        try:
            with self.detached(consts):
                sig = self.check_signature(decl)
                inst = Instance(display, decl, sig, {n: (b.ty, b.value) for n, b in consts.items()})  # type: ignore[misc]
                self.instances[key] = inst
                if fn.name not in self.broken_generics:
                    self.check_body(decl, sig)
        finally:
            self.instantiating.pop()
        self.noting(start, site, f"in `{display}`, instantiated here")
        return inst

    def const_length(self, e: A.Expr, what: str, loose: bool = False) -> Optional[int]:
        """Value of an array length or repeat count; must be known before unrolling.

        ``loose`` (repeat counts) also takes a loop variable, read as its first value here;
        the lowering gives each iteration's array that iteration's length, as Leo does
        after unrolling (`let arr = [0u32; i];`).
        """
        value = self.const_value(e, loose=loose)
        if value is None or isinstance(value, bool):
            self.error(e.span, f"{what} must be a constant integer known at compile time")
            return None
        if value < 0:
            self.error(e.span, f"{what} cannot be negative, found {value}")
            return None
        if value > MAX_ARRAY_ELEMENTS:
            self.error(e.span, f"{what} {value} exceeds the limit of {MAX_ARRAY_ELEMENTS} elements")
            return None
        return value

    def const_value(self, e: A.Expr, loose: bool = False) -> Optional[int | bool]:
        """Evaluate literals, named constants and operations on them; None if not constant.

        ``loose`` also reads a loop variable as its first value: enough to type a generic's
        instance inside the loop (the lowering instantiates the other iterations' own).
        """
        if isinstance(e, A.IntLit):
            return e.value
        if isinstance(e, A.BoolLit):
            return e.value
        if isinstance(e, A.VarRef):
            b = self.lookup(e.name)
            if b is None or not (b.kind == "const" or (loose and b.kind == "loop")):
                return None
            return b.value
        try:
            return self._const_op(e, loose)
        except (fold.Halt, ValueError, KeyError, TypeError, AssertionError):
            return None

    def _const_op(self, e: A.Expr, loose: bool) -> Optional[int | bool]:
        if isinstance(e, A.Binary):
            a, b = self.const_value(e.left, loose), self.const_value(e.right, loose)
            if a is None or b is None:
                return None
            if e.op in ("==", "!="):
                return (a == b) if e.op == "==" else (a != b)
            ty = _operand_type(e.left, a)
            if ty != _operand_type(e.right, b) and e.op not in ("**", "<<", ">>"):
                return None
            return fold.binary(BINARY_OPS[e.op], ty, a, b)
        if isinstance(e, A.Unary):
            a = self.const_value(e.operand, loose)
            if a is None:
                return None
            return fold.unary("neg" if e.op == "-" else "not", _operand_type(e.operand, a), a)
        if isinstance(e, A.Ternary):
            c = self.const_value(e.cond, loose)
            if not isinstance(c, bool):
                return None
            return self.const_value(e.then if c else e.otherwise, loose)
        if isinstance(e, A.Cast) and e.target in PRIMITIVE_NAMES and e.target not in OPAQUE_NAMES:
            a = self.const_value(e.operand, loose)
            if a is None:
                return None
            return fold.cast(a, _operand_type(e.operand, a), Prim(e.target))
        return None

    # ------------------------------------------------------------ program
    def check_unit(self, unit: A.SourceUnit) -> Optional[CheckedProgram]:
        if not unit.programs:
            self.error(Span(_unit_start(unit), _unit_start(unit)), "no `program name.aleo { ... }` block found")
            return None
        for extra in unit.programs[1:]:
            self.error(extra.name_span, "only one program block is allowed per file")
        prog = unit.programs[0]
        self.check_program_header(prog)
        self.check_imports(unit.imports, prog)

        # Structs: names first (so members may refer to any struct), then members.
        for s in unit.structs:
            self.check_ident(s.name, s.name_span, "struct name")
            if s.name in self.struct_decls:
                self.error(s.name_span, f"struct `{s.name}` is already declared")
            elif s.name in PRIMITIVE_NAMES:
                self.error(s.name_span, f"`{s.name}` is a type name and cannot name a struct")
            elif s.name.lower() in ALEO_RESERVED:
                self.error(s.name_span, f"`{s.name}` is reserved in Aleo instructions")
            else:
                self.struct_decls[s.name] = s

        # Global constants, in order (a constant may use earlier ones).
        for c in unit.consts:
            self.check_const(c)

        # Generic structs are checked per instance, when their const arguments are known.
        for s in self.struct_decls.values():
            if s.is_generic:
                self.check_const_params(s.const_params, f"struct `{s.name}`")
                self.check_member_names(s)
            else:
                self.struct_types[s.name] = self.struct_members(s)
        self.check_struct_cycles()

        # Signatures. A generic helper has one per instance, made when a call needs it.
        for fn in unit.helpers + prog.functions:
            if fn.name in self.struct_decls:
                # Leo and snarkVM keep one namespace for a program's structs and functions.
                self.error(fn.name_span, f"`{fn.name}` is already declared as a struct")
        self.impl_methods = {fn.method for fn in unit.helpers if fn.method is not None}
        for fn in unit.helpers:
            if fn.impl_of is not None:
                self.check_impl_fn(fn)
            else:
                self.check_ident(fn.name, fn.name_span, "function name")
            if fn.name in self.helpers:
                self.error(fn.name_span, f"function `{fn.name}` is already declared")
                continue
            self.helpers[fn.name] = fn
            self.check_annotations(fn)
            if fn.is_generic:
                self.check_const_params(fn.const_params, f"`{fn.name}`")
                if not self.check_generic_body_names(fn):
                    self.broken_generics.add(fn.name)  # reported once here, not per instance
                if any(a.name == "no_inline" for a in fn.annotations):
                    self.error(fn.name_span, f"`{fn.name}` has const parameters, so it is inlined at every call: "
                                             f"it cannot be `@no_inline`")
            else:
                self.signatures[fn.name] = self.check_signature(fn)
        for fn in prog.functions:
            self.check_ident(fn.name, fn.name_span, "function name")
            if fn.name in self.entries or fn.name in self.helpers:
                self.error(fn.name_span, f"function `{fn.name}` is already declared")
                continue
            if fn.name in ALEO_RESERVED:
                self.error(fn.name_span, f"`{fn.name}` is reserved in Aleo instructions and cannot name an entry function")
            if fn.const_params:
                self.error(fn.const_params[0].span, f"entry function `{fn.name}` cannot have const parameters; "
                                                    f"only helpers outside the program block can be generic")
            self.check_annotations(fn)
            self.entries[fn.name] = fn
            self.signatures[fn.name] = self.check_signature(fn)
        if not prog.functions:
            self.error(prog.name_span, "a program needs at least one entry function")
        if len(prog.functions) > MAX_ENTRY_FUNCTIONS:
            self.error(prog.functions[MAX_ENTRY_FUNCTIONS].name_span,
                       f"a program may have at most {MAX_ENTRY_FUNCTIONS} entry functions, found {len(prog.functions)}")

        self.check_constructor(prog)

        for fn in list(self.helpers.values()) + list(self.entries.values()):
            if not fn.is_generic:
                self.check_body(fn)
        self.check_recursion()

        return CheckedProgram(unit, prog, self.struct_types, self.signatures, self.helpers, unit.consts,
                              self.imported, self)

    def check_imports(self, imports: list[A.ImportDecl], prog: A.ProgramBlock) -> None:
        """Each import names a distinct dependency whose signature the driver supplied."""
        for imp in imports:
            pid = imp.program_id
            if imp.network != "aleo":
                self.error(imp.network_span, f"an imported program name must end in `.aleo`, found `.{imp.network}`")
                continue
            if pid in self.import_decls:
                self.error(imp.span, f"`{pid}` is already imported")
                continue
            self.import_decls[pid] = imp
            if imp.name == prog.name:
                self.error(imp.name_span, "a program cannot import itself")
                continue
            sig = self.available.get(pid)
            if sig is None:
                self.error(imp.name_span, f"`{pid}` is not a dependency of this program; add it to "
                                          f"`dependencies` in program.json (a local project)")
                continue
            self.imported[pid] = sig
        if len(self.import_decls) > MAX_IMPORTS:
            extra = list(self.import_decls.values())[MAX_IMPORTS]
            self.error(extra.span, f"a program may import at most {MAX_IMPORTS} programs, found {len(self.import_decls)}")

    def check_program_header(self, prog: A.ProgramBlock) -> None:
        if prog.network != "aleo":
            self.error(prog.network_span, f"a program name must end in `.aleo`, found `.{prog.network}`")
        name = prog.name
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            self.error(prog.name_span, f"program name `{name}` must start with a lowercase letter and use only a-z, 0-9 and _")
        elif "__" in name:
            self.error(prog.name_span, f"program name `{name}` must not contain `__`")
        elif "aleo" in name:
            self.error(prog.name_span, f"program name `{name}` must not contain `aleo`")
        self.check_ident(name, prog.name_span, "program name")

    def check_constructor(self, prog: A.ProgramBlock) -> None:
        if not prog.constructors:
            self.error(prog.name_span, "program has no constructor; add `@noupgrade constructor() {}` inside the program block")
            return
        for extra in prog.constructors[1:]:
            self.error(extra.span, "a program has exactly one constructor")
        ctor = prog.constructors[0]
        names = [a.name for a in ctor.annotations]
        if names != ["noupgrade"]:
            self.error(ctor.span, "the constructor must be annotated with exactly `@noupgrade` "
                                  "(upgradable programs are outside the supported subset)")
        for a in ctor.annotations:
            if a.args:
                self.error(a.span, "`@noupgrade` takes no arguments")
        if ctor.body.stmts:
            self.error(ctor.body.span, "a `@noupgrade` constructor must have an empty body")

    def check_const(self, c: A.ConstDecl) -> None:
        ty = self.resolve_type(c.type_expr) if c.type_expr is not None else None
        vty = self.expr(c.value, ty)
        if ty is not None and vty is not None and ty != vty:
            self.error(c.value.span, f"constant `{c.name}` is declared `{ty}` but its value has type `{vty}`")
        if ty is None and c.type_expr is None:
            ty = vty
        if contains_optional(ty, self.struct_types):
            # Leo folds optional constants; this compiler's constant folder handles scalars only.
            self.error(c.value.span, f"constant `{c.name}` has an optional type `{ty}`, which is outside "
                                     "the supported subset; use `let`")
        value = self.const_value(c.value)
        self.declare(c.name, c.name_span, _Binding(ty, "const", value), "constant")

    def check_member_names(self, s: A.StructDecl) -> None:
        """Member count and names (types are resolved per struct, or per generic instance)."""
        seen: set[str] = set()
        if not s.fields:
            self.error(s.name_span, f"struct `{s.name}` needs at least one member")
        if len(s.fields) > MAX_STRUCT_MEMBERS:
            self.error(s.fields[MAX_STRUCT_MEMBERS].span,
                       f"struct `{s.name}` has {len(s.fields)} members; the limit is {MAX_STRUCT_MEMBERS}")
        for f in s.fields:
            self.check_ident(f.name, f.span, "member name")
            if f.name in seen:
                self.error(f.span, f"member `{f.name}` is declared twice in struct `{s.name}`")
                continue
            if f.name in ALEO_RESERVED:
                self.error(f.span, f"`{f.name}` is reserved in Aleo instructions and cannot name a struct member")
            seen.add(f.name)

    def struct_members(self, s: A.StructDecl, check_names: bool = True) -> list[tuple[str, Type]]:
        """The members of a struct (or of a generic instance, its parameters in scope)."""
        if check_names:
            self.check_member_names(s)
        seen: set[str] = set()
        members: list[tuple[str, Type]] = []
        for f in s.fields:
            if f.name in seen:
                continue
            seen.add(f.name)
            t = self.resolve_type(f.type_expr)
            if isinstance(t, TupleType):
                self.error(f.type_expr.span, "a struct member cannot be a tuple")
                continue
            if t is not None:
                members.append((f.name, t))
        if members and len(members) == len(s.fields) and all(is_empty(t) for _, t in members):
            # Empty members are dropped from the Aleo struct; nothing would be left.
            self.error(s.name_span, f"struct `{s.name}` has only empty members (arrays of length 0)")
        return members

    def struct_deps(self, name: str) -> Iterator[str]:
        """The declared structs a struct holds, looking through optionals (`r: R?` holds `R`)."""
        for _, t in self.struct_types.get(name, []):
            for dep in _structs_used(t):
                if dep in self.optional_structs:
                    yield from self.struct_deps(dep)
                elif dep in self.struct_decls:  # instances of generics cannot loop
                    yield dep

    def check_struct_cycles(self) -> None:
        """A struct that contains itself (through members or arrays) is an error."""
        state: dict[str, int] = {}

        def visit(name: str) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                self.error(self.struct_decls[name].name_span, f"struct `{name}` contains itself")
                return
            state[name] = 1
            for dep in self.struct_deps(name):
                visit(dep)
            state[name] = 2

        for name, decl in self.struct_decls.items():
            if not decl.is_generic:
                visit(name)

    def check_signature(self, fn: A.FnDecl) -> Signature:
        params: list[Type] = []
        if len(fn.params) > MAX_INPUTS:
            self.error(fn.params[MAX_INPUTS].span,
                       f"function `{fn.name}` has {len(fn.params)} inputs; the limit is {MAX_INPUTS}")
        if len(fn.outputs) > MAX_OUTPUTS:
            self.error(fn.outputs[MAX_OUTPUTS].span,
                       f"function `{fn.name}` has {len(fn.outputs)} outputs; the limit is {MAX_OUTPUTS}")
        for p in fn.params:
            if p.name == "self" and not p.is_self:
                self.error(p.span, "`self` is a keyword: write a method's receiver as plain `self`, first")
            if p.is_self and fn.impl_of is None:
                self.error(p.span, "`self` is only allowed as the first parameter of a method in an `impl` block")
                params.append(None)  # type: ignore[arg-type]
                continue
            if p.visibility is not None and not fn.is_entry:
                self.error(p.visibility_span or p.span, "helper function inputs have no visibility; only entry functions mark inputs `public` or `private`")
            if p.visibility == "constant":
                self.error(p.visibility_span or p.span, "`constant` inputs are not allowed (snarkVM rejects them)")
            t = self.resolve_type(p.type_expr)
            if fn.is_entry and isinstance(t, TupleType):
                self.error(p.type_expr.span, "an entry function input cannot be a tuple")
            elif fn.is_entry and contains_optional(t, self.struct_types):
                # As Leo: snarkVM inputs have no optional; the caller unwraps.
                self.error(p.type_expr.span, f"the input `{p.name}` has type `{t}`, which is or contains an "
                                             "optional; inputs of entry functions cannot be optional")
            params.append(t)  # type: ignore[arg-type]
        outputs: list[Type] = []
        for o in fn.outputs:
            if o.visibility is not None and not fn.is_entry:
                self.error(o.span, "helper function outputs have no visibility")
            if o.visibility == "constant":
                self.error(o.span, "`constant` outputs are not allowed")
            t = self.resolve_type(o.type_expr)
            if fn.is_entry and isinstance(t, TupleType):
                # An entry's outputs are Aleo values; a helper's tuple is only ever split.
                self.error(o.type_expr.span, "an entry function cannot return nested tuples")
            elif fn.is_entry and contains_optional(t, self.struct_types):
                self.error(o.type_expr.span, f"this function has output type `{t}`, which is or contains an "
                                             "optional; outputs of entry functions cannot be optional")
            outputs.append(t)  # type: ignore[arg-type]
        return Signature(params, outputs, fn.returns_tuple)

    def check_annotations(self, fn: A.FnDecl) -> None:
        """Leo's function annotations: `@inline` and `@no_inline` (both accepted and ignored,
        since every helper is inlined), and the test-file-only `@test` / `@should_fail`."""
        seen: set[str] = set()
        for a in fn.annotations:
            if a.name in seen:
                self.error(a.span, f"duplicate annotation `@{a.name}`")
            seen.add(a.name)
            if a.name in ("test", "should_fail"):
                self.error(a.span, f"`@{a.name}` is only allowed in Leo test files (under tests/), not in a program")
            elif a.name not in INLINE_ANNOTATIONS:
                self.error(a.span, f"unknown annotation `@{a.name}`")

    def check_impl_fn(self, fn: A.FnDecl) -> None:
        """A function of ``impl S { ... }``: S is a struct of this program, and a method
        (one with ``self``) may not take the name of a built-in operator method."""
        assert fn.method is not None and fn.impl_of is not None
        self.check_ident(fn.method, fn.name_span, "function name")
        if fn.impl_of not in self.struct_decls:
            self.error(fn.name_span, f"`impl {fn.impl_of}`: no struct named `{fn.impl_of}`")
        elif self.struct_decls[fn.impl_of].is_generic:
            self.error(fn.name_span, f"`impl {fn.impl_of}`: methods of a generic struct are not supported")
        if fn.has_self and fn.method in METHODS:
            self.error(fn.name_span, f"instance method `{fn.method}` collides with a built-in operator; "
                                     f"`value.{fn.method}(..)` would apply the operator. Rename it, or call it "
                                     f"as `{fn.impl_of}::{fn.method}(..)`.")

    def impl_method_call(self, e: A.MethodCall) -> Optional[Type]:
        """``p.m(args)`` where p is a struct with a method ``m``: the call ``S::m(p, args)``."""
        t = self.expr(e.receiver, None)
        if t is None:
            for a in e.args:
                self.expr(a, None)
            return None
        name = f"{t.name}::{e.method}" if isinstance(t, StructType) else None
        fn = self.helpers.get(name) if name else None
        if fn is None:
            self.error(e.method_span, f"`{t}` has no method `{e.method}`")
            for a in e.args:
                self.expr(a, None)
            return None
        if not fn.has_self:
            self.error(e.method_span, f"`{name}` has no `self` parameter: call it as `{name}(..)`, "
                                      f"not on a value")
            for a in e.args:
                self.expr(a, None)
            return None
        e.impl_call = A.Call(e.span, name, e.method_span, [e.receiver] + list(e.args), None)
        return self.call(e.impl_call)

    def check_recursion(self) -> None:
        state: dict[str, int] = {}

        def visit(name: str) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                fn = self.helpers[name]
                self.error(fn.name_span, f"function `{name}` calls itself (directly or indirectly); recursion cannot be inlined")
                state[name] = 2
                return
            state[name] = 1
            for callee in self.calls.get(name, ()):
                if callee in self.helpers:
                    visit(callee)
            state[name] = 2

        for name in self.helpers:
            visit(name)

    # ------------------------------------------------------------ bodies
    def check_body(self, fn: A.FnDecl, sig: Optional[Signature] = None) -> None:
        self.current = fn
        self.calls.setdefault(fn.name, set())
        sig = sig if sig is not None else self.signatures[fn.name]
        self.current_sig = sig
        self.scopes.append({})
        for p, t in zip(fn.params, sig.params):
            self.declare(p.name, p.span, _Binding(t, "param"), "parameter")
        self.block(fn.body, new_scope=False)
        self.scopes.pop()
        if sig.outputs and not _always_returns(fn.body):
            self.error(fn.name_span, f"function `{fn.name}` does not return a value on every path")
        self.current = None
        self.current_sig = None

    def block(self, b: A.Block, new_scope: bool = True) -> None:
        if new_scope:
            self.scopes.append({})
        for i, s in enumerate(b.stmts):
            if i and _always_returns(b.stmts[i - 1]):
                # Leo refuses code no path reaches (after a `return` every path takes).
                self.error(s.span, "unreachable code: every path returns before this statement")
                break
            self.stmt(s)
        if new_scope:
            self.scopes.pop()

    def stmt(self, s: A.Stmt) -> None:
        if isinstance(s, A.Let):
            self.let(s)
        elif isinstance(s, A.ConstDecl):
            self.check_const(s)
        elif isinstance(s, A.Assign):
            self.assign(s)
        elif isinstance(s, A.Return):
            self.ret(s)
        elif isinstance(s, A.If):
            self.cond(s.cond)
            self.block(s.then)
            if isinstance(s.otherwise, A.Block):
                self.block(s.otherwise)
            elif isinstance(s.otherwise, A.If):
                self.stmt(s.otherwise)
        elif isinstance(s, A.For):
            self.for_loop(s)
        elif isinstance(s, A.Assert):
            if s.kind == "assert":
                self.cond(s.args[0])
            else:
                ta, tb = self.pair(s.args[0], s.args[1], None)
                if ta is not None and tb is not None and ta != tb:
                    self.error(s.span, f"`{s.kind}` compares `{ta}` with `{tb}`; both sides need the same type")
        elif isinstance(s, A.ExprStmt):
            if not isinstance(s.expr, (A.Call, A.MethodCall, A.ExternalCall)):
                self.error(s.span, "this expression statement has no effect")
            self.expr(s.expr, None)
        elif isinstance(s, A.Block):
            self.block(s)
        else:
            raise TypeError(s)

    def cond(self, e: A.Expr) -> None:
        t = self.expr(e, BOOL)
        if t is not None and t != BOOL:
            self.error(e.span, f"condition must be `bool`, found `{t}`")

    def let(self, s: A.Let) -> None:
        ty = self.resolve_type(s.type_expr) if s.type_expr is not None else None
        sized = isinstance(s.value, A.RepeatLit) and self.loop_sized(s.value)
        if sized:
            if s.type_expr is not None or s.is_tuple:
                self.error(s.value.span, "an array whose length is a loop variable takes no declared type: "
                                         "write `let name = [x; i];`")
            else:
                self.sized_ok.add(id(s.value))
        vty = self.expr(s.value, ty)
        if ty is not None and vty is not None and ty != vty:
            self.error(s.value.span, f"expected `{ty}`, found `{vty}`")
        final = ty if ty is not None else vty
        if s.is_tuple:
            if final is not None and not (isinstance(final, TupleType) and len(final.elements) == len(s.names)):
                self.error(s.value.span, f"cannot destructure `{final}` into {len(s.names)} names")
                final = None
            for i, (name, span) in enumerate(s.names):
                t = final.elements[i] if isinstance(final, TupleType) else None
                self.declare(name, span, _Binding(t, "var"))
        else:
            name, span = s.names[0]
            if final == UNIT:
                self.error(s.value.span, "this expression has no value (its type is `()`)")
            self.declare(name, span, _Binding(final, "var", sized=sized))

    def loop_sized(self, e: A.RepeatLit) -> bool:
        """A repeat count known only per iteration of an enclosing loop (`[x; i]`)."""
        return self.const_value(e.count) is None and self.const_value(e.count, loose=True) is not None

    def assign(self, s: A.Assign) -> None:
        root = s.target
        while isinstance(root, (A.Member, A.TupleIndex, A.Index)):
            root = root.base
        if not isinstance(root, A.VarRef):
            self.error(s.target.span, "cannot assign to this expression")
            return
        b = self.lookup(root.name)
        if b is not None and b.kind == "const":
            self.error(s.target.span, f"cannot assign to constant `{root.name}`")
        elif b is not None and b.kind == "loop":
            self.error(s.target.span, f"cannot assign to loop variable `{root.name}`")
        tt = self.expr(s.target, None)
        if s.op != "=":
            # Rewrite `a op= b` as `a = a op b`; the lowering evaluates the place as a value.
            s.value = A.Binary(s.span, s.op, s.target, s.value, s.span)
            s.op = "="
        vt = self.expr(s.value, tt)
        if tt is not None and vt is not None and tt != vt:
            self.error(s.value.span, f"expected `{tt}`, found `{vt}`")

    def ret(self, s: A.Return) -> None:
        fn, sig = self.current, self.current_sig
        assert fn is not None and sig is not None
        rt = sig.return_type
        if s.value is None or (isinstance(s.value, A.TupleLit) and not s.value.elements):
            # `return;` and `return ();` both end a function that returns nothing.
            if rt != UNIT:
                self.error(s.span, f"function `{fn.name}` must return a value of type `{rt}`")
            if s.value is not None:
                s.value.ty = UNIT
            return
        if rt == UNIT:
            self.error(s.value.span, f"function `{fn.name}` declares no return type")
            self.expr(s.value, None)
            return
        vt = self.expr(s.value, rt)
        if vt is not None and vt != rt:
            self.error(s.value.span, f"expected return type `{rt}`, found `{vt}`")

    def for_loop(self, s: A.For) -> None:
        ty = self.resolve_type(s.type_expr) if s.type_expr is not None else None
        ts, te = self.pair(s.start, s.end, ty)
        for e, t in ((s.start, ts), (s.end, te)):
            if t is not None and not is_int(t):
                self.error(e.span, f"loop bounds must be integers, found `{t}`")
            elif t is not None and ty is not None and t != ty:
                self.error(e.span, f"loop variable is `{ty}` but this bound is `{t}`")
        if ts is not None and te is not None and ts != te:
            self.error(s.end.span, f"loop bounds have different types `{ts}` and `{te}`")
        # The first value stands for the loop variable where a generic's const argument
        # needs one at this stage (see const_value); a loop that never runs has none.
        first, stop = self.const_value(s.start, loose=True), self.const_value(s.end, loose=True)
        runs = (isinstance(first, int) and isinstance(stop, int) and not isinstance(first, bool)
                and (first < stop or (s.inclusive and first <= stop)))
        self.scopes.append({})
        self.declare(s.var, s.var_span, _Binding(ty or ts, "loop", first if runs else None), "loop variable")
        self.block(s.body)
        self.scopes.pop()
        if _always_returns(s.body):
            # A `return` under a condition is fine; one every iteration reaches is not.
            self.error(s.span, "this loop body always returns; a loop may only return under a condition")

    # ------------------------------------------------------------ expressions
    def pair(self, a: A.Expr, b: A.Expr, expected: Optional[Type],
             wrap: bool = True) -> tuple[Optional[Type], Optional[Type]]:
        """Type two operands that must agree, letting a typed one fix an unsuffixed literal."""
        if _untyped(a) and not _untyped(b):
            tb = self.expr(b, expected, wrap)
            return self.expr(a, tb if tb is not None else expected, wrap), tb
        ta = self.expr(a, expected, wrap)
        return ta, self.expr(b, ta if ta is not None else expected, wrap)

    def expr(self, e: A.Expr, expected: Optional[Type], wrap: bool = True) -> Optional[Type]:
        """Check ``e`` (with ``expected`` as an inference hint) and record its type. Where a
        `T?` is expected, a `T` value is wrapped (Leo's implicit wrapping) unless ``wrap`` is
        off (operands of `==`, which Leo does not coerce)."""
        e.wrap = None  # an expression may be checked twice (array literals); the last check decides
        hint = expected
        if isinstance(expected, OptionalType) and not isinstance(e, (A.NoneLit, A.Ternary)):
            # Operands below see `T`: `let x: u8? = 1 + 2;` types the sum as `u8`, then wraps it.
            hint = expected.inner
        t = self._expr(e, hint)
        e.ty = t  # the type before any wrapping: what the lowering builds first
        if wrap and isinstance(expected, OptionalType) and t is not None and t == expected.inner:
            e.wrap = expected
            return expected
        return t

    def _expr(self, e: A.Expr, expected: Optional[Type]) -> Optional[Type]:
        if isinstance(e, A.IntLit):
            return self.int_lit(e, expected)
        if isinstance(e, A.BoolLit):
            return BOOL
        if isinstance(e, A.NoneLit):
            if isinstance(expected, OptionalType):
                return expected
            if expected is None:
                self.error(e.span, "cannot infer the type of `none`; annotate it, as in `let x: u8? = none;`")
            else:
                self.error(e.span, f"found `none`, but the expected type `{expected}` is not an optional type")
            return None
        if isinstance(e, A.VarRef):
            if e.name == "_":
                self.error(e.span, "`_` is a wildcard pattern, not a value")
                return None
            b = self.lookup(e.name)
            if b is None:
                self.error(e.span, f"unknown variable `{e.name}`")
                return None
            if b.sized and id(e) not in self.sized_ok:
                self.error(e.span, f"the length of `{e.name}` changes with the loop: it can only be indexed "
                                   f"(`{e.name}[j]`)")
            return b.ty
        if isinstance(e, A.Unary):
            t = self.expr(e.operand, expected)
            if t is None:
                return None
            if e.op == "-" and not (is_signed(t) or is_field(t)):
                self.error(e.span, f"unary `-` needs a signed integer or `field`, found `{t}`")
                return None
            if e.op == "!" and not (is_int(t) or is_bool(t)):
                self.error(e.span, f"`!` needs an integer or `bool`, found `{t}`")
                return None
            return t
        if isinstance(e, A.Binary):
            return self.binary(e, expected)
        if isinstance(e, A.Ternary):
            self.cond(e.cond)
            if not isinstance(expected, OptionalType) and (isinstance(e.then, A.NoneLit)
                                                           or isinstance(e.otherwise, A.NoneLit)):
                # Leo does not make `c ? 1u8 : none` a `u8?` by itself: the context must.
                for branch in (e.then, e.otherwise):
                    if isinstance(branch, A.NoneLit):
                        self.expr(branch, None)
                    else:
                        self.expr(branch, expected)
                return None
            ta, tb = self.pair(e.then, e.otherwise, expected)
            if ta is not None and tb is not None and ta != tb:
                self.error(e.span, f"the branches of `?:` have different types `{ta}` and `{tb}`")
                return None
            return ta if ta is not None else tb
        if isinstance(e, A.Cast):
            return self.cast(e)
        if isinstance(e, A.Call):
            return self.call(e)
        if isinstance(e, A.ExternalCall):
            return self.external_call(e)
        if isinstance(e, A.MethodCall):
            return self.method(e, expected)
        if isinstance(e, A.Member):
            bt = self.expr(e.base, None)
            if bt is None:
                return None
            if not isinstance(bt, StructType) or isinstance(bt, OptionalType):
                hint = "; get its value with `.unwrap()` first" if isinstance(bt, OptionalType) else ""
                self.error(e.name_span, f"`{bt}` has no member `{e.name}`{hint}")
                return None
            for name, t in self.struct_types.get(bt.name, []):
                if name == e.name:
                    return t
            self.error(e.name_span, f"struct `{bt.name}` has no member `{e.name}`")
            return None
        if isinstance(e, A.TupleIndex):
            bt = self.expr(e.base, None)
            if bt is None:
                return None
            if not isinstance(bt, TupleType):
                self.error(e.span, f"`.{e.index}` needs a tuple, found `{bt}`")
                return None
            if e.index >= len(bt.elements):
                self.error(e.span, f"tuple index {e.index} is out of range for `{bt}`")
                return None
            return bt.elements[e.index]
        if isinstance(e, A.Index):
            if isinstance(e.base, A.VarRef):
                self.sized_ok.add(id(e.base))
            bt = self.expr(e.base, None)
            it = self.expr(e.index, U32)
            if it is not None and not is_int(it):
                self.error(e.index.span, f"an array index must be an integer, found `{it}`")
            if bt is None:
                return None
            if not isinstance(bt, ArrayType):
                self.error(e.span, f"cannot index into `{bt}`")
                return None
            v = self.const_value(e.index)
            if isinstance(v, int) and not isinstance(v, bool) and not 0 <= v < bt.length:
                self.error(e.index.span, f"index {v} is out of bounds for `{bt}`")
            return bt.element
        if isinstance(e, A.Slice):
            return self.slice(e)
        if isinstance(e, A.TupleLit):
            if not e.elements:
                return UNIT
            hints = expected.elements if isinstance(expected, TupleType) and len(expected.elements) == len(e.elements) else [None] * len(e.elements)
            ts = [self.expr(x, h) for x, h in zip(e.elements, hints)]
            if len(ts) > MAX_OUTPUTS:
                self.error(e.span, f"a tuple has at most {MAX_OUTPUTS} elements")
            if any(t is None for t in ts):
                return None
            for x, t in zip(e.elements, ts):
                if t == UNIT:
                    self.error(x.span, "a tuple cannot hold `()`")
                    return None
            return TupleType(tuple(ts))  # type: ignore[arg-type]
        if isinstance(e, A.ArrayLit):
            return self.array_lit(e, expected)
        if isinstance(e, A.RepeatLit):
            hint = expected.element if isinstance(expected, ArrayType) else None
            et = self.expr(e.element, hint)
            self.expr(e.count, U32)
            n = self.const_length(e.count, "repeat count", loose=True)
            if n is not None and id(e) not in self.sized_ok and self.loop_sized(e):
                self.error(e.count.span, "an array whose length is a loop variable must be bound by `let` "
                                         "and then indexed (`let row = [x; i];`)")
                return None
            if et is None or n is None:
                return None
            return ArrayType(et, n)
        if isinstance(e, A.StructLit):
            return self.struct_lit(e)
        raise TypeError(e)

    def int_lit(self, e: A.IntLit, expected: Optional[Type]) -> Optional[Type]:
        if e.suffix is None:
            if not (isinstance(expected, Prim) and (is_numeric(expected) or expected == Prim("scalar"))):
                if expected is None:
                    self.error(e.span, f"cannot infer the type of `{e.text}`; add a type suffix such as `{e.text}u32`")
                else:
                    self.error(e.span, f"expected `{expected}`, found the integer `{e.text}`")
                return None
            t = expected
        elif e.suffix == "group":
            self.error(e.span, "`group` literals are outside the supported subset")
            return None
        else:
            t = Prim(e.suffix)
        if is_field(t) or t == Prim("scalar"):
            if e.text.lstrip("-")[:2] in ("0x", "0o", "0b"):
                # Leo's parser (suffixed) and type checker (unsuffixed) both refuse these.
                self.error(e.span, f"hex, octal, and binary literals may only be used for integer types; "
                                   f"write `{e.text}` in decimal")
                return t
            if t == Prim("scalar") and not fits(e.value, t):
                self.error(e.span, f"`{e.text}` is out of range for `scalar`")
            elif not abs(e.value) < fold.P:
                self.error(e.span, f"`{e.text}` is out of range for `field`")
        elif not fits(e.value, t):
            self.error(e.span, f"`{e.text}` is out of range for `{t}`")
        return t

    def binary(self, e: A.Binary, expected: Optional[Type]) -> Optional[Type]:
        op = e.op
        if op in ("&&", "||"):
            ta, tb = self.expr(e.left, BOOL), self.expr(e.right, BOOL)
            for x, t in ((e.left, ta), (e.right, tb)):
                if t is not None and t != BOOL:
                    self.error(x.span, f"`{op}` needs `bool` operands, found `{t}`")
            return BOOL
        if op in ("**", "<<", ">>"):
            ta = self.expr(e.left, expected)
            if op == "**" and is_field(ta):
                tb = self.expr(e.right, FIELD)
                if tb is not None and tb != FIELD:
                    self.error(e.right.span, f"a `field` power needs a `field` exponent, found `{tb}`")
                return ta
            tb = self.expr(e.right, None)
            if ta is None or tb is None:
                return ta
            if not is_int(ta):
                self.error(e.left.span, f"`{op}` needs an integer on the left, found `{ta}`")
                return None
            if not (isinstance(tb, Prim) and tb.name in MAGNITUDE_TYPES):
                self.error(e.right.span, f"the right side of `{op}` must be `u8`, `u16` or `u32`, found `{tb}`")
            return ta
        if op in ("==", "!=", "<", "<=", ">", ">="):
            ta, tb = self.pair(e.left, e.right, None, wrap=False)
            if ta is None or tb is None:
                return BOOL
            if ta != tb:
                self.error(e.op_span, f"cannot compare `{ta}` with `{tb}`")
            elif op not in ("==", "!=") and not is_numeric(ta):
                self.error(e.op_span, f"`{op}` needs integers or `field`, found `{ta}`")
            return BOOL
        ta, tb = self.pair(e.left, e.right, expected)
        if ta is None or tb is None:
            return None
        if op == "+" and isinstance(ta, ArrayType) and isinstance(tb, ArrayType):
            return self.concat(e, ta, tb)
        if ta != tb:
            self.error(e.op_span, f"`{op}` needs operands of the same type, found `{ta}` and `{tb}`")
            return None
        ok = {
            "+": is_numeric, "-": is_numeric, "*": is_numeric, "/": is_numeric,
            "%": is_int,
            "&": lambda t: is_int(t) or is_bool(t), "|": lambda t: is_int(t) or is_bool(t),
            "^": lambda t: is_int(t) or is_bool(t),
        }[op](ta)
        if not ok:
            self.error(e.op_span, f"`{op}` is not defined for `{ta}`")
            return None
        return ta

    def concat(self, e: A.Binary, ta: ArrayType, tb: ArrayType) -> Optional[Type]:
        """`a + b` on arrays: the elements of `a`, then those of `b`."""
        if ta.element != tb.element:
            self.error(e.op_span, f"cannot concatenate `{ta}` and `{tb}`: the element types differ")
            return None
        n = ta.length + tb.length
        if n > MAX_ARRAY_ELEMENTS:
            self.error(e.span, f"the concatenation has {n} elements; the limit is {MAX_ARRAY_ELEMENTS}")
            return None
        return ArrayType(ta.element, n)

    def slice(self, e: A.Slice) -> Optional[Type]:
        """`a[s..e]`: bounds known at compile time, within the array, not empty."""
        bt = self.expr(e.base, None)
        bounds = []
        for b in (e.start, e.end):
            if b is None:
                bounds.append(None)
                continue
            t = self.expr(b, U32)
            if t is not None and not is_int(t):
                self.error(b.span, f"a slice bound must be an integer, found `{t}`")
                return None
            v = self.const_value(b)
            if not isinstance(v, int) or isinstance(v, bool):
                self.error(b.span, "a slice bound must be known at compile time")
                return None
            bounds.append(v)
        if bt is None:
            return None
        if not isinstance(bt, ArrayType):
            self.error(e.span, f"cannot slice `{bt}`; only arrays have slices")
            return None
        lo = bounds[0] if bounds[0] is not None else 0
        hi = bounds[1] + (1 if e.inclusive else 0) if bounds[1] is not None else bt.length
        if not 0 <= lo < hi <= bt.length:
            self.error(e.span, f"the slice [{lo}..{hi}) is empty or outside `{bt}`")
            return None
        return ArrayType(bt.element, hi - lo)

    def cast(self, e: A.Cast) -> Optional[Type]:
        t = self.expr(e.operand, None)
        if e.target not in PRIMITIVE_NAMES or e.target in OPAQUE_NAMES:
            self.error(e.target_span, f"cannot cast to `{e.target}`; casts go to integer types, `field` or `bool`")
            return None
        if is_opaque(t):
            self.error(e.operand.span, f"cannot cast `{t}`; casts of `scalar`, `group` and `address` are "
                                       "outside the supported subset")
            return None
        if t is not None and not isinstance(t, Prim):
            self.error(e.operand.span, f"cannot cast `{t}`; only integers, `field` and `bool` can be cast")
            return None
        return Prim(e.target)

    def call(self, e: A.Call) -> Optional[Type]:
        owner, _, name = e.name.partition("::")
        if name and crypto.is_core_owner(owner) and e.name not in self.helpers:
            return self.core_call(e, owner, name)
        fn = self.helpers.get(e.name)
        if fn is None:
            for a in e.args:
                self.expr(a, None)
            if e.name in self.entries:
                self.error(e.name_span, f"entry function `{e.name}` cannot be called; move the shared code into a helper `fn` outside the program block")
            else:
                self.error(e.name_span, f"unknown function `{e.name}`")
            return None
        if self.current is not None:
            self.calls.setdefault(self.current.name, set()).add(e.name)
        if fn.is_generic:
            sig = self.generic_call_signature(fn, e)
            if sig is None:
                return None
        else:
            if e.const_args is not None:
                self.error(e.span, f"function `{e.name}` takes no const arguments")
            sig = self.signatures[e.name]
        if len(e.args) != len(sig.params):
            self.error(e.span, f"function `{e.name}` takes {len(sig.params)} argument(s) but {len(e.args)} were given")
        for a, pt in zip(e.args, sig.params):
            at = self.expr(a, pt)
            if at is not None and pt is not None and at != pt:
                self.error(a.span, f"expected `{pt}`, found `{at}`")
        for a in e.args[len(sig.params):]:
            self.expr(a, None)
        if any(t is None for t in sig.outputs):
            return None
        return sig.return_type

    def core_call(self, e: A.Call, owner: str, name: str) -> Optional[Type]:
        """`BHP256::hash_to_field(x)`, `BHP256::commit_to_field(x, salt)`, `Poseidon2::hash_to_u32(x)`, ...:
        the value is any primitive, array or struct (not a tuple), a commitment's salt is a
        `scalar`, and a Pedersen input must fit its 64 or 128 bits (snarkVM halts otherwise)."""
        core = crypto.resolve(owner, name)
        if isinstance(core, str):
            for a in e.args:
                self.expr(a, None)
            self.error(e.name_span, core)
            return None
        e.core = core
        if e.const_args is not None:
            self.error(e.span, f"`{e.name}` takes no const arguments")
        if len(e.args) != core.arity:
            self.error(e.span, f"`{e.name}` takes {core.arity} argument(s) but {len(e.args)} were given")
            for a in e.args:
                self.expr(a, None)
            return None
        vt = self.expr(e.args[0], None)
        if core.kind == "commit":
            st = self.expr(e.args[1], Prim("scalar"))
            if st is not None and st != Prim("scalar"):
                self.error(e.args[1].span, f"the salt of `{e.name}` must be a `scalar`, found `{st}`")
        result = Prim(core.result)
        if vt is None:
            return result
        if isinstance(vt, TupleType):
            self.error(e.args[0].span, f"`{e.name}` cannot take the tuple `{vt}`; pass a primitive, an array or a struct")
            return result
        if is_empty(vt):
            self.error(e.args[0].span, f"`{e.name}` cannot take the empty array `{vt}`")
            return result
        limit = core.family.max_bits
        if limit is not None:
            bits = crypto.plaintext_bits(vt, self.struct_types, core.raw)
            if bits > limit:
                self.error(e.args[0].span, f"`{e.name}` takes at most {limit} input bits, but a `{vt}` is {bits} "
                                           f"bits as snarkVM hashes it (with its type metadata); snarkVM would "
                                           f"always halt")
        return result

    def generic_call_signature(self, fn: A.FnDecl, e: A.Call) -> Optional[Signature]:
        """The signature of the instance a call of a generic helper asks for, checking that
        instance if it is new (None, with the arguments left unchecked, when it is unknown)."""
        if e.const_args is None:
            self.error(e.name_span, f"`{fn.name}` is generic; call it with its const arguments, "
                                    f"as in `{fn.name}::[...](...)`")
            values = None
        else:
            values = self.const_args_of(fn.const_params, e.const_args, e.span, f"`{fn.name}`")
        if values is None:
            if e.const_args is None or not any(self.const_shaped(a) for a in e.const_args):
                for a in e.args:
                    self.expr(a, None)
            return None
        if any(self.mentions_loop(a) for a in e.const_args):
            return self.trial_instance(fn, values, e.span)
        return self.instantiate_fn(fn, values, e.span).signature

    def trial_instance(self, fn: A.FnDecl, values: ConstValues, site: Span) -> Optional[Signature]:
        """Check the instance a loop's first iteration asks for, only to type the call: the
        lowering instantiates each iteration's own (that iteration may sit in a branch the
        unrolling drops), so an instance with errors is forgotten here and reported there."""
        saved, self.sink = self.sink, DiagnosticSink(self.sink.source)
        try:
            inst = self.instantiate_fn(fn, values, site)
        finally:
            found, self.sink = self.sink.items, saved
        if found:
            self.instances.pop((fn.name, values), None)
            return None
        return inst.signature

    def external_call(self, e: A.ExternalCall) -> Optional[Type]:
        """A call to an imported program's entry function, typed from its signature.

        Whether the call sits under a run-time condition is only known after unrolling,
        so the lowering checks that.
        """
        def skip_args() -> None:
            for a in e.args:
                self.expr(a, None)

        if self.current is None or not self.current.is_entry:
            self.error(e.callee_span, f"`{e.program_id}::{e.function}` is called outside an entry function; "
                                      f"calls to other programs are only allowed in the entry functions of the program block")
            skip_args()
            return None
        pid = e.program_id
        if pid not in self.import_decls:
            self.error(e.callee_span, f"program `{pid}` is not imported; add `import {pid};` at the top of the file")
            skip_args()
            return None
        prog = self.imported.get(pid)
        if prog is None:  # the import itself was reported
            skip_args()
            return None
        sig = prog.functions.get(e.function)
        if sig is None:
            known = ", ".join(f"`{n}`" for n in sorted(prog.functions)) or "none"
            self.error(e.callee_span, f"program `{pid}` has no entry function `{e.function}` (it has: {known})")
            skip_args()
            return None
        for t in sig.inputs + sig.outputs:
            st = struct_in(t)
            if st is not None:
                self.error(e.callee_span, f"`{pid}::{e.function}` takes or returns struct `{st.name}`; "
                                          f"structs of other programs are outside the supported subset")
                skip_args()
                return None
        if len(e.args) != len(sig.inputs):
            self.error(e.span, f"`{pid}::{e.function}` takes {len(sig.inputs)} argument(s) but {len(e.args)} were given")
        for i, (a, pt) in enumerate(zip(e.args, sig.inputs), 1):
            at = self.expr(a, pt)
            if at is not None and at != pt:
                self.error(a.span, f"argument {i} of `{pid}::{e.function}` is `{pt}`, found `{at}`")
        for a in e.args[len(sig.inputs):]:
            self.expr(a, None)
        return sig.return_type

    def method(self, e: A.MethodCall, expected: Optional[Type]) -> Optional[Type]:
        if e.method in ("unwrap", "unwrap_or") and e.method not in self.impl_methods:
            return self.unwrap(e)
        if e.method not in METHODS:
            if e.method in self.impl_methods:
                return self.impl_method_call(e)
            t = self.expr(e.receiver, None)
            for a in e.args:
                self.expr(a, None)
            if isinstance(t, StructType):
                self.error(e.method_span, f"`{t}` has no method `{e.method}`")
                return None
            self.error(e.method_span, f"unknown method `{e.method}`")
            return None
        kind, _ = METHODS[e.method]
        arity = 0 if kind.endswith("1") else 1
        if len(e.args) != arity:
            self.error(e.span, f"`{e.method}` takes {arity} argument(s) but {len(e.args)} were given")
            return None
        if arity == 0:
            t = self.expr(e.receiver, expected)
            if t is None:
                return None
            allowed = {"signed1": is_signed, "neg1": lambda x: is_signed(x) or is_field(x),
                       "bits1": lambda x: is_int(x) or is_bool(x), "field1": is_field}[kind]
            if not allowed(t):
                self.error(e.method_span, f"`{e.method}` is not defined for `{t}`")
                return None
            return t
        arg = e.args[0]
        if kind in ("mag", "pow"):
            t = self.expr(e.receiver, expected)
            if kind == "pow" and is_field(t):
                at = self.expr(arg, FIELD)
                if at is not None and at != FIELD:
                    self.error(arg.span, f"expected `field`, found `{at}`")
                return t
            at = self.expr(arg, None)
            if t is None or at is None:
                return None
            if not is_int(t):
                self.error(e.method_span, f"`{e.method}` is not defined for `{t}`")
                return None
            if not (isinstance(at, Prim) and at.name in MAGNITUDE_TYPES):
                self.error(arg.span, f"the argument of `{e.method}` must be `u8`, `u16` or `u32`, found `{at}`")
            return t
        hint = expected if kind not in ("eq", "cmp") else None
        t, at = self.pair(e.receiver, arg, hint, wrap=kind not in ("eq", "cmp"))
        if t is None or at is None:
            return None
        if t != at:
            self.error(arg.span, f"expected `{t}`, found `{at}`")
            return None
        allowed = {"int2": is_int, "num2": is_numeric, "bits2": lambda x: is_int(x) or is_bool(x),
                   "eq": lambda x: True, "cmp": is_numeric, "unsigned2": is_unsigned,
                   "bool2": is_bool}[kind]
        if kind == "int2" and e.method == "rem":
            allowed = is_int
        if not allowed(t):
            self.error(e.method_span, f"`{e.method}` is not defined for `{t}`")
            return None
        return BOOL if kind in ("eq", "cmp") else t

    def unwrap(self, e: A.MethodCall) -> Optional[Type]:
        """`x.unwrap()` (halts when `x` is `none`) and `x.unwrap_or(d)`: the `T` inside a `T?`."""
        arity = 0 if e.method == "unwrap" else 1
        t = self.expr(e.receiver, None)
        if len(e.args) != arity:
            self.error(e.span, f"`{e.method}` takes {arity} argument(s) but {len(e.args)} were given")
            return None
        if t is None:
            return None
        if not isinstance(t, OptionalType):
            self.error(e.method_span, f"`{e.method}` needs an optional value, found `{t}`")
            for a in e.args:
                self.expr(a, None)
            return None
        if arity:
            at = self.expr(e.args[0], t.inner)
            if at is not None and at != t.inner:
                self.error(e.args[0].span, f"expected `{t.inner}`, found `{at}`")
        return t.inner

    def array_lit(self, e: A.ArrayLit, expected: Optional[Type]) -> Optional[Type]:
        if len(e.elements) > MAX_ARRAY_ELEMENTS:
            self.error(e.span, f"array has {len(e.elements)} elements; the limit is {MAX_ARRAY_ELEMENTS}")
            return None
        hint = expected.element if isinstance(expected, ArrayType) else None
        if not e.elements:
            # `[]` is the empty array of the type the context expects.
            if isinstance(expected, ArrayType) and expected.length == 0:
                return expected
            self.error(e.span, "cannot infer the type of `[]`; annotate it, as in `let a: [u8; 0] = [];`")
            return None
        if hint is None:
            for x in e.elements:
                if not _untyped(x):
                    hint = self.expr(x, None)
                    break
        ts = [self.expr(x, hint) for x in e.elements]
        if any(t is None for t in ts):
            return None
        first = ts[0]
        for x, t in zip(e.elements, ts):
            if t != first:
                self.error(x.span, f"array elements must all have type `{first}`, found `{t}`")
                return None
        return ArrayType(first, len(ts))  # type: ignore[arg-type]

    def struct_lit(self, e: A.StructLit) -> Optional[Type]:
        decl = self.struct_decls.get(e.name)
        st = self.struct_type_of(decl, e.const_args, e.span) if decl is not None else None
        if st is None:
            if decl is None:
                self.error(e.name_span, f"unknown struct `{e.name}`")
            for f in e.fields:
                if not _untyped(f.value):  # a bare literal's type would come from the member
                    self.expr(f.value, None)
            if e.base is not None:
                self.expr(e.base, None)
            return None
        members = dict(self.struct_types.get(st.name, []))
        seen: set[str] = set()
        for f in e.fields:
            if f.name in seen:
                self.error(f.span, f"member `{f.name}` is given twice")
                continue
            seen.add(f.name)
            if f.name not in members:
                self.error(f.span, f"struct `{st}` has no member `{f.name}`")
                self.expr(f.value, None)
                continue
            t = self.expr(f.value, members[f.name])
            if t is not None and t != members[f.name]:
                self.error(f.value.span, f"member `{f.name}` has type `{members[f.name]}`, found `{t}`")
        if e.base is not None:
            # `S { x: 1u8, ..base }`: every member not listed is copied from `base`.
            bt = self.expr(e.base, st)
            if bt is not None and bt != st:
                self.error(e.base.span, f"the base of a struct update must be a `{st}`, found `{bt}`")
            return st
        missing = [m for m in members if m not in seen]
        if missing:
            self.error(e.span, f"missing member(s) {', '.join('`' + m + '`' for m in missing)} in `{st}` literal")
        return st


def type_text(te: A.TypeExpr) -> str:
    """A type expression as written (for messages about types that do not resolve)."""
    if isinstance(te, A.NamedTypeExpr):
        return te.name + ("::[...]" if te.const_args is not None else "")
    if isinstance(te, A.ArrayTypeExpr):
        return f"[{type_text(te.element)}; ...]"
    if isinstance(te, A.OptionalTypeExpr):
        return type_text(te.inner) + "?"
    return "(" + ", ".join(type_text(t) for t in te.elements) + ")"


def _operand_type(e: A.Expr, value: int | bool) -> Prim:
    """The type to fold a constant operand in: its checked type, else a wide default."""
    if isinstance(e.ty, Prim):
        return e.ty
    return BOOL if isinstance(value, bool) else Prim("i128")


def _unit_start(unit: A.SourceUnit) -> int:
    return unit.span.start


def _always_returns(s: A.Stmt | None) -> bool:
    if isinstance(s, A.Return):
        return True
    if isinstance(s, A.Block):
        return any(_always_returns(x) for x in s.stmts)
    if isinstance(s, A.If):
        return _always_returns(s.then) and s.otherwise is not None and _always_returns(s.otherwise)
    return False


def check(unit: A.SourceUnit, sink: DiagnosticSink,
          imports: Mapping[str, ProgramSignature] | None = None) -> Optional[CheckedProgram]:
    """Run every static check; diagnostics go to ``sink``.

    ``imports`` holds the signatures of the programs this one may import, by program id.
    """
    return Checker(sink, imports or {}).check_unit(unit)
