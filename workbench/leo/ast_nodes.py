"""AST of the Leo subset: plain dataclasses, each carrying the span it came from.

Expression nodes have a ``ty`` slot that the checker fills in (it is where the type of an
unsuffixed literal, inferred from context, is recorded for the lowering stage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from .diagnostics import Span
from .ltypes import Type

# ---------------------------------------------------------------- type expressions


@dataclass
class NamedTypeExpr:
    span: Span
    name: str
    # `Foo::[4u32]`: the const arguments of a generic struct (None: no `::[...]` written).
    const_args: Optional[list["Expr"]] = None


@dataclass
class ArrayTypeExpr:
    span: Span
    element: "TypeExpr"
    length: "Expr"


@dataclass
class TupleTypeExpr:
    span: Span
    elements: list["TypeExpr"]  # empty for the unit type `()`


@dataclass
class OptionalTypeExpr:
    span: Span
    inner: "TypeExpr"  # `u8?`


TypeExpr = Union[NamedTypeExpr, ArrayTypeExpr, TupleTypeExpr, OptionalTypeExpr]

# ---------------------------------------------------------------- expressions


@dataclass
class Expr:
    span: Span
    # Filled by the checker.
    ty: Optional[Type] = field(default=None, init=False, repr=False, compare=False)
    # Set by the checker when a `T` value stands where a `T?` is expected: the lowering
    # wraps it as `some` of that optional type (Leo's implicit wrapping).
    wrap: Optional[Type] = field(default=None, init=False, repr=False, compare=False)


@dataclass
class IntLit(Expr):
    text: str  # as written, for messages
    value: int  # may be negative after folding a unary minus into the literal
    suffix: Optional[str]  # "u8", "field", ... or None when the type must be inferred


@dataclass
class BoolLit(Expr):
    value: bool


@dataclass
class NoneLit(Expr):
    """`none`: the empty value of the optional type the context expects."""


@dataclass
class VarRef(Expr):
    name: str


@dataclass
class Unary(Expr):
    op: str  # "!" or "-"
    operand: Expr


@dataclass
class Binary(Expr):
    op: str
    left: Expr
    right: Expr
    op_span: Span


@dataclass
class Ternary(Expr):
    cond: Expr
    then: Expr
    otherwise: Expr


@dataclass
class Cast(Expr):
    operand: Expr
    target: str
    target_span: Span


@dataclass
class Call(Expr):
    name: str
    name_span: Span
    args: list[Expr]
    # `f::[4u32](x)`: the const arguments of a generic helper (None: no `::[...]` written).
    const_args: Optional[list[Expr]] = None
    # Set by the checker when this is a hash or commit core function (`crypto.CoreCall`).
    core: Optional[object] = None


@dataclass
class ExternalCall(Expr):
    """``prog.aleo::fn(args)``: a call to an entry function of an imported program."""

    program: str  # without ".aleo"
    function: str
    callee_span: Span  # the whole ``prog.aleo::fn``, where errors about the callee point
    args: list[Expr]

    @property
    def program_id(self) -> str:
        return f"{self.program}.aleo"

    @property
    def locator(self) -> str:
        """How the callee is named in messages and in Aleo (``prog.aleo/fn``)."""
        return f"{self.program}.aleo/{self.function}"


@dataclass
class MethodCall(Expr):
    receiver: Expr
    method: str
    method_span: Span
    args: list[Expr]
    # Set by the checker when the method is a user method of the receiver's struct
    # (`p.sum()` in an `impl`): the call `S::sum(p)` it stands for.
    impl_call: Optional["Call"] = None


@dataclass
class Member(Expr):
    base: Expr
    name: str
    name_span: Span


@dataclass
class TupleIndex(Expr):
    base: Expr
    index: int


@dataclass
class Index(Expr):
    base: Expr
    index: Expr


@dataclass
class Slice(Expr):
    """``a[s..e]``, ``a[s..=e]``, ``a[s..]``, ``a[..e]``, ``a[..]``: a constant range of an array."""

    base: Expr
    start: Optional[Expr]
    end: Optional[Expr]
    inclusive: bool


@dataclass
class TupleLit(Expr):
    elements: list[Expr]  # empty for the unit value `()`


@dataclass
class ArrayLit(Expr):
    elements: list[Expr]


@dataclass
class RepeatLit(Expr):
    element: Expr
    count: Expr


@dataclass
class StructInit:
    span: Span
    name: str
    value: Expr  # `P { x }` is sugar for `P { x: x }`


@dataclass
class StructLit(Expr):
    name: str
    name_span: Span
    fields: list[StructInit]
    const_args: Optional[list[Expr]] = None  # `Foo::[4u32] { ... }`
    base: Optional[Expr] = None  # `P { x: 1u8, ..base }`: the members not listed come from `base`


# ---------------------------------------------------------------- statements


@dataclass
class Stmt:
    span: Span


@dataclass
class Let(Stmt):
    names: list[tuple[str, Span]]  # one name, or several for tuple destructuring
    is_tuple: bool
    type_expr: Optional[TypeExpr]
    value: Expr


@dataclass
class ConstDecl(Stmt):
    name: str
    name_span: Span
    type_expr: Optional[TypeExpr]
    value: Expr
    exported: bool = False


@dataclass
class Assign(Stmt):
    target: Expr  # a place: variable, member, tuple index or array index chain
    op: str  # "=" or the binary operator of a compound assignment ("+", "**", "&&", ...)
    value: Expr


@dataclass
class Return(Stmt):
    value: Optional[Expr]


@dataclass
class If(Stmt):
    cond: Expr
    then: "Block"
    otherwise: Optional[Union["Block", "If"]]


@dataclass
class For(Stmt):
    var: str
    var_span: Span
    type_expr: Optional[TypeExpr]
    start: Expr
    end: Expr
    inclusive: bool
    body: "Block"


@dataclass
class Assert(Stmt):
    kind: str  # "assert", "assert_eq", "assert_neq"
    args: list[Expr]


@dataclass
class ExprStmt(Stmt):
    expr: Expr


@dataclass
class Block(Stmt):
    stmts: list[Stmt]


# ---------------------------------------------------------------- items


@dataclass
class Annotation:
    span: Span
    name: str
    args: list[tuple[str, str]]


@dataclass
class Param:
    span: Span
    name: str
    visibility: Optional[str]
    visibility_span: Optional[Span]
    type_expr: TypeExpr
    is_self: bool = False  # the `self` receiver of a method in an `impl` block


@dataclass
class Output:
    span: Span
    visibility: Optional[str]
    type_expr: TypeExpr


@dataclass
class ConstParam:
    """``N: u32`` in ``fn f::[N: u32]`` or ``struct S::[N: u32]``."""

    span: Span
    name: str
    name_span: Span
    type_expr: TypeExpr


@dataclass
class FnDecl:
    span: Span
    name: str
    name_span: Span
    params: list[Param]
    outputs: list[Output]  # empty for no return type
    returns_tuple: bool  # `-> (a, b)` rather than `-> a`
    body: Block
    annotations: list[Annotation]
    is_entry: bool
    const_params: list[ConstParam] = field(default_factory=list)  # a generic helper's `::[N: u32]`
    exported: bool = False  # `export fn`: only matters across modules, kept for tools
    # A function of an `impl S { ... }` block: named `S::m`, with `impl_of` S and `method` m.
    impl_of: Optional[str] = None
    method: Optional[str] = None

    @property
    def has_self(self) -> bool:
        return bool(self.params) and self.params[0].is_self

    @property
    def is_generic(self) -> bool:
        return bool(self.const_params)


@dataclass
class StructField:
    span: Span
    name: str
    type_expr: TypeExpr


@dataclass
class StructDecl:
    span: Span
    name: str
    name_span: Span
    fields: list[StructField]
    const_params: list[ConstParam] = field(default_factory=list)
    exported: bool = False

    @property
    def is_generic(self) -> bool:
        return bool(self.const_params)


@dataclass
class Constructor:
    span: Span
    annotations: list[Annotation]
    body: Block


@dataclass
class ImportDecl:
    """``import name.aleo;`` at the top level of the file."""

    span: Span
    name: str  # without ".aleo"
    name_span: Span
    network: str
    network_span: Span

    @property
    def program_id(self) -> str:
        return f"{self.name}.{self.network}"


@dataclass
class ProgramBlock:
    span: Span
    name: str  # without ".aleo"
    name_span: Span
    network: str
    network_span: Span
    functions: list[FnDecl]
    constructors: list[Constructor]


@dataclass
class SourceUnit:
    """A whole main.leo: the program block plus top-level items."""

    span: Span
    programs: list[ProgramBlock]
    structs: list[StructDecl]
    consts: list[ConstDecl]
    helpers: list[FnDecl]
    imports: list[ImportDecl] = field(default_factory=list)
