"""The one Jinja environment every template a user can pass renders in: judge templates, the card
section, report.html and leaderboard.html.

Jinja's ImmutableSandboxedEnvironment already refuses Python internals (`__class__`, `__globals__`,
`mro`, ...), unsafe calls, list/dict mutation and ranges over 100,000 items. It does not bound what
a template may build or how long it may run, so this one adds:

- size: no single value a template makes (a product `'a' * n`, a concatenation `~`/`+`, a
  filter's or a method's result, a `namespace()` field) may exceed MAX_VALUE characters or items,
  and no integer handed to a call, a filter or `*`/`**`/`%` may exceed MAX_VALUE, so nothing huge
  is ever allocated; the rendered text may not exceed MAX_OUTPUT characters;
- depth: a recursive macro stops at Python's recursion limit (caught, not a traceback);
- literals: a template source over MAX_SOURCE characters, or an integer literal Python will not
  parse (over 4,300 digits), is refused when the template is compiled;
- time: a render runs at most RENDER_SECONDS (a SIGALRM timer, where the caller is the main
  thread and no other timer is running; loops are otherwise bounded by the range limit).

Every refusal is a TemplateLimit, which callers turn into their one InputError line.
"""

from __future__ import annotations

import operator
import re
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import jinja2
from jinja2.compiler import CodeGenerator
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

MAX_VALUE = 10_000_000  # characters (or items) of one value a template makes
MAX_OUTPUT = 200_000_000  # characters a render may produce (a report of 10,000 long prompts fits)
MAX_SOURCE = 2_000_000  # characters of a template file
TEMPLATE_BYTES = 4 * MAX_SOURCE  # what is read of a template file at most (UTF-8: 4 bytes a char)
MAX_POWER_BITS = 100_000  # an integer power's size; Python prints at most 4,300 digits anyway
RENDER_SECONDS = 60.0
WIDE = re.compile(r"\d{8,}")  # a field width or precision of 10**7 or more


class TemplateLimit(Exception):
    """A template went past one of the sandbox's bounds."""


class TemplateFailure(Exception):
    """A template that could not be compiled or rendered, in one line (`line N: what`); for a
    variable the template uses but was not given, `undefined` is set."""

    def __init__(self, message: str, undefined: bool = False) -> None:
        super().__init__(message)
        self.undefined = undefined


def failure(err: BaseException) -> TemplateFailure:
    """Any error of compiling or rendering a template, as one line."""
    if isinstance(err, TemplateFailure):
        return err
    if isinstance(err, jinja2.TemplateSyntaxError):
        return TemplateFailure(f"line {err.lineno}: {err.message}")
    if isinstance(err, jinja2.exceptions.SecurityError):
        return TemplateFailure(f"refused by the sandbox: {one_line(err)}")
    if isinstance(err, TemplateLimit):
        return TemplateFailure(f"stopped by the sandbox: {one_line(err)}")
    if isinstance(err, jinja2.UndefinedError):
        return TemplateFailure(one_line(err), undefined=True)
    if isinstance(err, RecursionError):
        return TemplateFailure("stopped by the sandbox: it recursed too deeply (a macro that "
                               "calls itself without end?)")
    if isinstance(err, MemoryError):
        return TemplateFailure("stopped by the sandbox: it ran out of memory")
    return TemplateFailure(f"rendering failed: {type(err).__name__}: {one_line(err)}")


def one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return (text[:200] + "…" if len(text) > 200 else text) or type(err).__name__


def sized(value: Any) -> Any:
    """`value` when it is within MAX_VALUE, else TemplateLimit."""
    if isinstance(value, str | bytes | list | tuple | dict | set) and len(value) > MAX_VALUE:
        raise TemplateLimit(f"a value of {len(value):,} characters or items is over the "
                            f"sandbox's limit of {MAX_VALUE:,}")
    return value


def check_number(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_VALUE:
        raise TemplateLimit(f"the number {shown(value)} is over the sandbox's limit of "
                            f"{MAX_VALUE:,} for sizes, counts and exponents")
    if isinstance(value, float) and abs(value) > MAX_VALUE:
        raise TemplateLimit(f"the number {value:g} is over the sandbox's limit of {MAX_VALUE:,} "
                            "for sizes, counts and exponents")


def shown(number: int) -> str:
    digits = number.bit_length() * 0.30103
    return f"{number:,}" if digits < 30 else f"of about {digits:.0f} digits"


def size_of(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple) else 0


def bounded_binop(op: str, left: Any, right: Any) -> Any:
    """`*`, `**`, `%` and `+` with their result's size known before it is computed."""
    if op == "*":
        for count, seq in ((left, right), (right, left)):
            if isinstance(count, int) and isinstance(seq, str | bytes | list | tuple):
                if size_of(seq) * max(count, 0) > MAX_VALUE:
                    raise TemplateLimit(f"a value of {shown(size_of(seq) * count)} characters "
                                        f"or items is over the sandbox's limit of {MAX_VALUE:,}")
                return sized(seq * count)
    if op == "**":
        check_number(right)
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0 \
                and abs(left).bit_length() * right > MAX_POWER_BITS:
            raise TemplateLimit("a power over the sandbox's limit (a number of over "
                                f"{MAX_POWER_BITS:,} bits)")
    if op == "%" and isinstance(left, str):
        values = right if isinstance(right, tuple) else (right,)
        for value in values:
            check_number(value)
        check_width(left)
    if op == "+" and size_of(left) + size_of(right) > MAX_VALUE:
        raise TemplateLimit(f"a value of {size_of(left) + size_of(right):,} characters or items "
                            f"is over the sandbox's limit of {MAX_VALUE:,}")
    return sized(BINOPS[op](left, right))


BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
}


def checked_args(args: tuple, kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        check_number(value)


def bounded_filter(function: Callable, name: str) -> Callable:
    """A filter whose size arguments and result stay within the bounds. The filtered value
    itself is data (an answer, a token count) and is not checked; what the filter makes is."""
    passes = hasattr(function, "jinja_pass_arg")

    def run(*args: Any, **kwargs: Any) -> Any:
        value, rest = (args[1], args[2:]) if passes else (args[0], args[1:])
        checked_args(rest, kwargs)
        if name == "format" and isinstance(value, str):
            check_width(value)
        if name == "replace" and len(rest) >= 2:
            check_replace(str(value), str(rest[0]), str(rest[1]), rest[2] if len(rest) > 2
                          else kwargs.get("count"))
        return sized(function(*args, **kwargs))

    if passes:
        run.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    run.__name__ = getattr(function, "__name__", name)
    return run


def check_replace(text: str, old: str, new: str, count: Any) -> None:
    """`replace` may multiply a text's length: its result size is known before it is made."""
    hits = len(text) + 1 if not old else text.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    if len(text) + hits * (len(new) - len(old)) > MAX_VALUE:
        raise TemplateLimit(f"a replace over the sandbox's limit of {MAX_VALUE:,} characters")


def check_width(text: str) -> None:
    """A format string (`%` or `{}`) whose field width or precision would build a huge text."""
    if WIDE.search(text):
        raise TemplateLimit("a format width over the sandbox's limit")


class BoundedNamespace(Namespace):
    """`namespace()`, whose fields may not outgrow the bounds across a loop."""

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, sized(value))


class BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator with every `~` concatenation checked for size."""

    def visit_Concat(self, node: Any, frame: Any) -> None:
        self.write("environment.sized(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with bounds on size, output and time (module docstring)."""

    code_generator_class = BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        options.setdefault("undefined", jinja2.StrictUndefined)
        super().__init__(**options)
        self.filters = {name: bounded_filter(f, name) for name, f in self.filters.items()}
        self.globals["namespace"] = BoundedNamespace
        self.sized = sized
        self.sized_calls = (self.globals["range"], self.globals["lipsum"])

    def add_filters(self, **filters: Callable) -> None:
        self.filters.update({name: bounded_filter(f, name) for name, f in filters.items()})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        return bounded_binop(operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """A call whose size arguments are checked where they are sizes: a text's or a list's
        own methods (`ljust`, `center`, `format`), `range` and `lipsum`; and whose result is."""
        # str.format comes wrapped by the sandbox (functools.update_wrapper keeps __wrapped__)
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        sizes = any(__obj is f for f in __self.sized_calls)
        if sizes or isinstance(owner, str | bytes | list | tuple):
            checked_args(args, kwargs)
            if isinstance(owner, str) and getattr(__obj, "__name__", "") in ("format",
                                                                               "format_map"):
                check_width(owner)
        return sized(super().call(__context, __obj, *args, **kwargs))

    def compile_source(self, source: str) -> jinja2.Template:
        """from_string with the source's own bounds; any failure is a TemplateFailure."""
        return self.from_string(self.parse_source(source))

    def parse_source(self, source: str) -> Any:
        """The template's syntax tree (for `meta`, or for from_string); a TemplateFailure for a
        source that is too long, has a syntax error or a literal Python will not read."""
        if len(source) > MAX_SOURCE:
            raise TemplateFailure(f"the template is {len(source):,} characters, over the limit "
                                  f"of {MAX_SOURCE:,}")
        try:
            return self.parse(source)
        except jinja2.TemplateSyntaxError as err:
            raise failure(err) from None
        except Exception as err:  # noqa: BLE001 - a literal Python will not read, deep nesting
            raise TemplateFailure(f"cannot be compiled: {type(err).__name__}: {one_line(err)}") \
                from None


def render(template: jinja2.Template, variables: Mapping[str, Any]) -> str:
    """The rendered text, within MAX_OUTPUT characters and RENDER_SECONDS; every way a render
    can fail (a limit, the sandbox, an undefined variable, a filter's error) is one
    TemplateFailure."""
    parts, total = [], 0
    try:
        with deadline(RENDER_SECONDS):
            for chunk in template.generate(**variables):
                total += len(chunk)
                if total > MAX_OUTPUT:
                    raise TemplateLimit(f"the rendered text is over the limit of {MAX_OUTPUT:,} "
                                        "characters")
                parts.append(chunk)
    except Exception as err:  # noqa: BLE001 - template code can raise anything; it is one line
        raise failure(err) from None
    return "".join(parts)


class _Expired(BaseException):
    """Raised by the timer; a BaseException so a template's own error handling cannot catch it."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    usable = (threading.current_thread() is threading.main_thread()
              and hasattr(signal, "setitimer")
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Expired:
        raise TemplateFailure(f"stopped by the sandbox: it ran for over {seconds:.0f} s") \
            from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
