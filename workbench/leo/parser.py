"""Stage 1: Leo source text -> AST.

The grammar lives in ``leo.lark``; lark parses it (LALR, positions propagated) and a
Transformer builds the AST dataclasses. lark's exceptions never leave this module: they
become diagnostics in a LeoCompileError.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from dataclasses import dataclass
from typing import Any

import lark
from lark import Token, Transformer, v_args

from . import ast_nodes as A
from .diagnostics import Diagnostic, LeoCompileError, SourceFile, Span

_NUMBER = re.compile(
    r"(0x[0-9a-fA-F_]+?|0o[0-7_]+|0b[01_]+|[0-9][0-9_]*)"
    r"(i8|i16|i32|i64|i128|u8|u16|u32|u64|u128|field|group|scalar)?"
)

# Friendly names for terminals in "expected ..." messages.
_TERMINAL_NAMES = {
    "IDENT": "an identifier",
    "NUMBER": "a number",
    "STRUCT_START": "a struct literal",
    "EXTERNAL_FN": "a call like `prog.aleo::fn`",
    "STRING": "a string",
    "$END": "end of file",
}


def _span(meta: Any) -> Span:
    if getattr(meta, "empty", True):
        return Span(0, 0)
    return Span(meta.start_pos, meta.end_pos)


def _tspan(tok: Token) -> Span:
    return Span(tok.start_pos, tok.end_pos)


@dataclass
class _Returns:
    outputs: list[A.Output]
    is_tuple: bool


@dataclass
class _ProgramParts:
    program: A.ProgramBlock
    items: list[object]  # structs and constants declared inside the block


@dataclass
class _Pattern:
    names: list[tuple[str, Span]]
    is_tuple: bool


@dataclass
class _ConstParams:
    params: list[A.ConstParam]


@dataclass
class _ConstArgs:
    args: list[A.Expr]


@dataclass
class _StructBody:
    inits: list[A.StructInit]
    base: A.Expr | None


class _ImplParts:
    """The functions of an ``impl`` block, lifted to helpers named ``S::m``."""

    def __init__(self, span, fns):
        self.span = span
        self.fns = fns


@dataclass
class _Exported:
    """An `export`ed struct or constant, until it is known to sit at the top level."""

    export_span: Span
    item: A.StructDecl | A.ConstDecl


_EXPORT_IN_PROGRAM = "`export` is not allowed inside a `program` block; items here are implicitly public"


# Binding strength of binary operators (higher binds tighter), from Leo's documentation.
_PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4,
               "^": 5, "|": 6, "&": 7, "<<": 8, ">>": 8, "+": 9, "-": 9,
               "*": 10, "/": 10, "%": 10, "**": 11}

# Literals far beyond any Leo type (the field modulus has 76 digits, 253 bits) are rejected
# while parsing: `int()` refuses decimal strings of over 4,300 digits (ValueError), and a
# huge hex value would fail the same way when a message prints it in decimal.
_MAX_DIGITS = 100
_MAX_BITS = 333  # about 10**100

_EXPR_TYPES = (A.Expr,)
_TYPE_TYPES = (A.NamedTypeExpr, A.ArrayTypeExpr, A.TupleTypeExpr, A.OptionalTypeExpr)


@v_args(meta=True)
class _ToAst(Transformer):
    """Parse tree -> AST. Method names are the grammar's rule names and aliases."""

    # ---- items
    def start(self, meta, children):
        unit = A.SourceUnit(_span(meta), [], [], [], [])
        lifted: list[object] = []
        for c in children:
            if isinstance(c, _Exported):
                c = c.item
            if isinstance(c, _ProgramParts):
                unit.programs.append(c.program)
                lifted.extend(c.items)
            elif isinstance(c, A.StructDecl):
                unit.structs.append(c)
            elif isinstance(c, A.ConstDecl):
                unit.consts.append(c)
            elif isinstance(c, A.FnDecl):
                unit.helpers.append(c)
            elif isinstance(c, A.ImportDecl):
                unit.imports.append(c)
            elif isinstance(c, _ImplParts):
                unit.helpers.extend(c.fns)
        # Structs and constants declared inside the program block are global all the same.
        unit.structs.extend(x for x in lifted if isinstance(x, A.StructDecl))
        unit.consts.extend(x for x in lifted if isinstance(x, A.ConstDecl))
        return unit

    def import_decl(self, meta, children):
        name, net = children
        return A.ImportDecl(_span(meta), str(name), _tspan(name), str(net), _tspan(net))

    def program_block(self, meta, children):
        name, net, *members = children
        prog = A.ProgramBlock(_span(meta), str(name), _tspan(name), str(net), _tspan(net), [], [])
        parts = _ProgramParts(prog, [])
        for m in members:
            if isinstance(m, _Exported):
                raise _SyntaxProblem(m.export_span, _EXPORT_IN_PROGRAM)
            if isinstance(m, A.FnDecl):
                prog.functions.append(m)
            elif isinstance(m, A.Constructor):
                prog.constructors.append(m)
            else:
                parts.items.append(m)
        return parts

    def exported_item(self, meta, children):
        export, item = children
        item.exported = True
        return _Exported(_tspan(export), item)

    def program_member(self, meta, children):
        *annotations, decl = children
        for a in annotations:
            if isinstance(a, Token):  # EXPORT
                raise _SyntaxProblem(_tspan(a), _EXPORT_IN_PROGRAM)
        decl.annotations = list(annotations)
        if isinstance(decl, A.FnDecl):
            decl.is_entry = True
        return decl

    def impl_block(self, meta, children):
        name, *fns = children
        for fn in fns:
            for k, p in enumerate(fn.params):
                if p.is_self:
                    if k != 0:
                        raise _SyntaxProblem(p.span, "`self` must be the first parameter of a method")
                    p.type_expr = A.NamedTypeExpr(p.span, str(name))
            fn.impl_of, fn.method = str(name), fn.name
            fn.name = f"{name}::{fn.name}"
            fn.is_entry = False
        return _ImplParts(_tspan(name), list(fns))

    def impl_fn(self, meta, children):
        *annotations, decl = children
        decl.annotations = list(annotations)
        return decl

    def self_param(self, meta, children):
        tok = children[0]
        if str(tok) != "self":
            raise _SyntaxProblem(_tspan(tok), f"expected `:` and a type after parameter `{tok}`")
        return A.Param(_span(meta), "self", None, None, A.NamedTypeExpr(_span(meta), ""), True)

    def path_call(self, meta, children):
        owner, name, *rest = children
        args = rest[0] if rest else []
        return A.Call(_span(meta), f"{owner}::{name}", _tspan(name), args, None)

    def helper_fn(self, meta, children):
        *annotations, decl = children
        decl.annotations = [a for a in annotations if isinstance(a, A.Annotation)]
        decl.exported = len(decl.annotations) < len(annotations)
        decl.is_entry = False
        return decl

    def annotation(self, meta, children):
        args = children[1] if len(children) > 1 else []
        return A.Annotation(_span(meta), str(children[0]), args)

    def annotation_args(self, meta, children):
        return list(children)

    def annotation_arg(self, meta, children):
        return (str(children[0]), str(children[1])[1:-1])

    def constructor_decl(self, meta, children):
        return A.Constructor(_span(meta), [], children[0])

    def fn_decl(self, meta, children):
        name = children[0]
        params: list[A.Param] = []
        const_params: list[A.ConstParam] = []
        returns = _Returns([], False)
        body = children[-1]
        for c in children[1:-1]:
            if isinstance(c, list):
                params = c
            elif isinstance(c, _Returns):
                returns = c
            elif isinstance(c, _ConstParams):
                const_params = c.params
        return A.FnDecl(_span(meta), str(name), _tspan(name), params, returns.outputs,
                        returns.is_tuple, body, [], False, const_params)

    def const_params(self, meta, children):
        return _ConstParams(list(children))

    def const_param(self, meta, children):
        name, ty = children
        return A.ConstParam(_span(meta), str(name), _tspan(name), ty)

    def const_args(self, meta, children):
        return _ConstArgs(list(children))

    def params(self, meta, children):
        return list(children)

    def visibility(self, meta, children):
        return children[0]

    def param(self, meta, children):
        vis = children[0] if len(children) == 3 else None
        name, ty = children[-2], children[-1]
        return A.Param(_span(meta), str(name), str(vis) if vis else None,
                       _tspan(vis) if vis else None, ty)

    def _output(self, meta, children) -> A.Output:
        vis = children[0] if len(children) == 2 else None
        return A.Output(_span(meta), str(vis) if vis else None, children[-1])

    def ret_single(self, meta, children):
        return _Returns([self._output(meta, children)], False)

    def ret_item(self, meta, children):
        return self._output(meta, children)

    def ret_tuple(self, meta, children):
        # `-> ()` is the unit type: no outputs, like leaving the return type out.
        return _Returns(list(children), bool(children))

    def struct_decl(self, meta, children):
        name, *rest = children
        const_params = rest.pop(0).params if rest and isinstance(rest[0], _ConstParams) else []
        return A.StructDecl(_span(meta), str(name), _tspan(name), list(rest), const_params)

    def struct_field(self, meta, children):
        return A.StructField(_span(meta), str(children[0]), children[1])

    def const_decl(self, meta, children):
        name = children[0]
        ty = children[1] if len(children) == 3 else None
        return A.ConstDecl(_span(meta), str(name), _tspan(name), ty, children[-1])

    # ---- types
    def named_type(self, meta, children):
        args = children[1].args if len(children) > 1 else None
        return A.NamedTypeExpr(_span(meta), str(children[0]), args)

    def array_type(self, meta, children):
        return A.ArrayTypeExpr(_span(meta), children[0], children[1])

    def optional_type(self, meta, children):
        return A.OptionalTypeExpr(_span(meta), children[0])

    def tuple_type(self, meta, children):
        return A.TupleTypeExpr(_span(meta), list(children))

    # ---- statements
    def block(self, meta, children):
        return A.Block(_span(meta), list(children))

    def pat_name(self, meta, children):
        return _Pattern([(str(children[0]), _tspan(children[0]))], False)

    def pat_tuple(self, meta, children):
        return _Pattern([(str(c), _tspan(c)) for c in children], True)

    def let_stmt(self, meta, children):
        pattern = children[0]
        ty = children[1] if len(children) == 3 else None
        return A.Let(_span(meta), pattern.names, pattern.is_tuple, ty, children[-1])

    def return_stmt(self, meta, children):
        return A.Return(_span(meta), children[0] if children else None)

    def if_stmt(self, meta, children):
        otherwise = children[2] if len(children) == 3 else None
        return A.If(_span(meta), children[0], children[1], otherwise)

    def for_stmt(self, meta, children):
        var = children[0]
        ty = children[1] if len(children) == 6 else None
        start, rng, end, body = children[-4:]
        return A.For(_span(meta), str(var), _tspan(var), ty, start, end, str(rng) == "..=", body)

    def assert_stmt(self, meta, children):
        return A.Assert(_span(meta), "assert", list(children))

    def assert_eq_stmt(self, meta, children):
        return A.Assert(_span(meta), "assert_eq", list(children))

    def assert_neq_stmt(self, meta, children):
        return A.Assert(_span(meta), "assert_neq", list(children))

    def assign_op(self, meta, children):
        return str(children[0])

    def assign_stmt(self, meta, children):
        target, op, value = children
        return A.Assign(_span(meta), target, "=" if op == "=" else op[:-1], value)

    def expr_stmt(self, meta, children):
        return A.ExprStmt(_span(meta), children[0])

    # ---- expressions
    def ternary(self, meta, children):
        return A.Ternary(_span(meta), *children)

    def binary(self, meta, children):
        operands, ops = children[0::2], children[1::2]

        def climb(i: int, min_prec: int) -> tuple[A.Expr, int]:
            # operands[i] starts the sub-expression; ops[k] sits between operands k and k+1.
            left = operands[i]
            while i < len(ops) and _PRECEDENCE[str(ops[i])] >= min_prec:
                op = ops[i]
                prec = _PRECEDENCE[str(op)]
                # `**` is right-associative; everything else associates to the left.
                right, i = climb(i + 1, prec if str(op) == "**" else prec + 1)
                left = A.Binary(left.span.to(right.span), str(op), left, right, _tspan(op))
            return left, i

        return climb(0, 0)[0]

    def unop(self, meta, children):
        op, operand = children
        if str(op) == "-" and isinstance(operand, A.IntLit) and operand.value >= 0:
            # `-128i8` is one literal: negating after range-checking 128i8 would reject it.
            return A.IntLit(_span(meta), "-" + operand.text, -operand.value, operand.suffix)
        return A.Unary(_span(meta), str(op), operand)

    def cast(self, meta, children):
        return A.Cast(_span(meta), children[0], str(children[1]), _tspan(children[1]))

    def method_call(self, meta, children):
        recv, name = children[0], children[1]
        args = children[2] if len(children) > 2 else []
        return A.MethodCall(_span(meta), recv, str(name), _tspan(name), args)

    def member(self, meta, children):
        return A.Member(_span(meta), children[0], str(children[1]), _tspan(children[1]))

    def tuple_index(self, meta, children):
        tok = children[1]
        if not re.fullmatch(r"[0-9]+", str(tok)):
            raise _SyntaxProblem(_tspan(tok), f"expected a tuple index like `.0`, found `.{tok}`")
        digits = str(tok).lstrip("0") or "0"
        if len(digits) > _MAX_DIGITS:
            raise _SyntaxProblem(_tspan(tok), f"tuple index `.{_abbrev(str(tok))}` is out of range")
        return A.TupleIndex(_span(meta), children[0], int(digits))

    def index(self, meta, children):
        return A.Index(_span(meta), children[0], children[1])

    def slice(self, meta, children):
        base, *rest = children
        at = next(i for i, c in enumerate(rest) if isinstance(c, Token) and c.type == "RANGE")
        start = rest[0] if at == 1 else None
        end = rest[at + 1] if at + 1 < len(rest) else None
        return A.Slice(_span(meta), base, start, end, str(rest[at]) == "..=")

    def number(self, meta, children):
        tok = children[0]
        m = _NUMBER.fullmatch(str(tok))
        if m is None:  # the lexer's pattern and this one agree; kept as a guard
            raise _SyntaxProblem(_tspan(tok), f"malformed number `{tok}`")
        digits = m.group(1).replace("_", "")
        base = {"0x": 16, "0o": 8, "0b": 2}.get(digits[:2], 10)
        body = digits[2:] if base != 10 else digits
        if not body:
            raise _SyntaxProblem(_tspan(tok), f"malformed number `{tok}`")
        body = body.lstrip("0") or "0"
        too_big = len(body) > _MAX_DIGITS if base == 10 else int(body, base).bit_length() > _MAX_BITS
        if too_big:
            raise _SyntaxProblem(_tspan(tok), f"`{_abbrev(str(tok))}` is out of range for every Leo type")
        return A.IntLit(_span(meta), str(tok), int(body, base), m.group(2))

    def true_lit(self, meta, children):
        return A.BoolLit(_span(meta), True)

    def false_lit(self, meta, children):
        return A.BoolLit(_span(meta), False)

    def none_lit(self, meta, children):
        return A.NoneLit(_span(meta))

    def var(self, meta, children):
        return A.VarRef(_span(meta), str(children[0]))

    def call(self, meta, children):
        name, *rest = children
        const_args = rest.pop(0).args if rest and isinstance(rest[0], _ConstArgs) else None
        args = rest[0] if rest else []
        return A.Call(_span(meta), str(name), _tspan(name), args, const_args)

    def external_call(self, meta, children):
        tok = children[0]
        program, function = str(tok).split(".aleo::")
        args = children[1] if len(children) > 1 else []
        return A.ExternalCall(_span(meta), program, function, _tspan(tok), args)

    def args(self, meta, children):
        return list(children)

    def tuple_lit(self, meta, children):
        return A.TupleLit(_span(meta), list(children))

    def array_lit(self, meta, children):
        return A.ArrayLit(_span(meta), list(children))

    def repeat_lit(self, meta, children):
        return A.RepeatLit(_span(meta), children[0], children[1])

    def struct_init(self, meta, children):
        name = children[0]
        value = children[1] if len(children) > 1 else A.VarRef(_tspan(name), str(name))
        return A.StructInit(_span(meta), str(name), value)

    def struct_body(self, meta, children):
        inits = [c for c in children if isinstance(c, A.StructInit)]
        bases = [c for c in children if not isinstance(c, A.StructInit)]
        return _StructBody(inits, bases[0] if bases else None)

    def struct_base(self, meta, children):
        dots, base = children
        if str(dots) != "..":
            raise _SyntaxProblem(_tspan(dots), f"expected `..` before the base of a struct update, found `{dots}`")
        return base

    def struct_lit(self, meta, children):
        start, *rest = children
        body = rest[0] if rest else _StructBody([], None)
        name = str(start).rstrip("{ \t\r\n")
        name_span = Span(start.start_pos, start.start_pos + len(name))
        return A.StructLit(_span(meta), name, name_span, body.inits, None, body.base)

    def generic_struct_lit(self, meta, children):
        name, const_args, *rest = children
        body = rest[0] if rest else _StructBody([], None)
        return A.StructLit(_span(meta), str(name), _tspan(name), body.inits, const_args.args, body.base)


def _abbrev(text: str, keep: int = 20) -> str:
    """``text`` shortened to its start and end for a message (a literal may be huge)."""
    return text if len(text) <= 2 * keep + 3 else f"{text[:keep]}...{text[-keep:]}"


class _SyntaxProblem(Exception):
    def __init__(self, span: Span, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message


@functools.lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    grammar = importlib.resources.files("workbench.leo").joinpath("leo.lark").read_text()
    # `cache` keeps lark's grammar analysis between processes (it takes seconds to build).
    return lark.Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False,
                     cache=True)


def _describe_expected(expected: set[str]) -> str:
    parser = _parser()
    names = []
    for name in sorted(expected):
        if name in _TERMINAL_NAMES:
            names.append(_TERMINAL_NAMES[name])
            continue
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            names.append(name.lower())
            continue
        if isinstance(pattern, lark.lexer.PatternStr):
            names.append(f"`{pattern.value}`")
        else:
            names.append(name.lower())
    names = sorted(set(names))
    if len(names) > 8:
        return "one of " + ", ".join(names[:8]) + ", ..."
    return names[0] if len(names) == 1 else "one of " + ", ".join(names)


def parse(source: SourceFile) -> A.SourceUnit:
    """Parse a Leo file into an AST; syntax errors raise LeoCompileError."""
    try:
        tree = _parser().parse(source.text)
    except lark.exceptions.UnexpectedCharacters as e:
        ch = source.text[e.pos_in_stream] if e.pos_in_stream < len(source.text) else "end of file"
        raise LeoCompileError(
            [Diagnostic(Span(e.pos_in_stream, e.pos_in_stream + 1), f"unexpected character `{ch}`")],
            source) from None
    except lark.exceptions.UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            pos = len(source.text)
            diag = Diagnostic(Span(pos, pos), f"unexpected end of file, expected {_describe_expected(e.expected)}")
        else:
            diag = Diagnostic(Span(tok.start_pos, tok.end_pos),
                              f"unexpected `{tok}`, expected {_describe_expected(e.expected)}")
        raise LeoCompileError([diag], source) from None
    except lark.exceptions.UnexpectedEOF:
        pos = len(source.text)
        raise LeoCompileError([Diagnostic(Span(pos, pos), "unexpected end of file")], source) from None
    except lark.exceptions.UnexpectedInput as e:  # any other lark input error
        pos = getattr(e, "pos_in_stream", 0) or 0
        raise LeoCompileError([Diagnostic(Span(pos, pos + 1), "syntax error")], source) from None
    try:
        return _ToAst().transform(tree)
    except lark.exceptions.VisitError as e:
        if isinstance(e.orig_exc, _SyntaxProblem):
            raise LeoCompileError([Diagnostic(e.orig_exc.span, e.orig_exc.message)], source) from None
        if isinstance(e.orig_exc, RecursionError):
            # Deep nesting (a long `else if` chain, nested `?:`) can exhaust the stack inside a
            # rule's callback; lark wraps that, so unwrap it for compile_source to report.
            raise e.orig_exc from None
        raise
