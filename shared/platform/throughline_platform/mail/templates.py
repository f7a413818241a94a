"""Mail templates people edit (sales sequences, the invoice mail): Jinja2, sandboxed, checked when saved.

Templates are written by users, not by us, so they run in Jinja2's immutable sandbox: no attribute that starts
with an underscore (no `__class__`, `__globals__`, `mro`), no method that changes a list or a dict, `str.format`
checked the same way, ranges bounded, and here also no string or list multiplied past a bound, so a template can
neither reach Python's internals nor make the process build a gigabyte. HTML parts are autoescaped; subject and
text parts are not (they are not HTML). An undefined variable is an error, never an empty string.

`check(source, variables)` is what saving a template runs: it compiles the template and finds every variable it
names that the context will not have (also `contact.frist_name` when the context says what a contact has), and
raises `TemplateProblem` naming the line (the API answers 422 with it). Rendering raises `TemplateProblem` too.

The context should be plain data (dicts, strings, numbers, dates), never ORM objects: what a template can see is
then exactly what the service put there.
"""

import functools
import operator
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

Part = Literal["subject", "text", "html"]

# What a template may name: each variable, and for a variable holding a mapping, what it holds (nested the same
# way); None where the shape is not checked (a string, a number, a list).
Variables = Mapping[str, "Variables | None"]

# The longest string or list a template may build with `*`, and the largest exponent of `**`.
MAX_REPEAT = 100_000
MAX_EXPONENT = 100


class TemplateProblem(ValueError):
    """A template that does not compile, names what the context will not have, or tried something the sandbox
    refuses. `part` and `line` say where (`line` is None when Jinja2 could not tell)."""

    def __init__(self, message: str, *, part: Part, line: int | None) -> None:
        where = f"{part}, line {line}" if line is not None else part
        super().__init__(f"{where}: {message}")
        self.message = message
        self.part = part
        self.line = line


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "*":
            for sized, times in ((left, right), (right, left)):
                if isinstance(sized, str | list | tuple) and isinstance(times, int) and len(sized) * times > MAX_REPEAT:
                    raise SecurityError(f"a repetition longer than {MAX_REPEAT} is not allowed")
            return operator.mul(left, right)
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"an exponent above {MAX_EXPONENT} is not allowed")
            return operator.pow(left, right)
        return super().call_binop(context, operator_name, left, right)


def _environment(*, html: bool) -> _Sandbox:
    env = _Sandbox(autoescape=html, undefined=StrictUndefined, keep_trailing_newline=True)
    env.globals.pop("lipsum", None)  # filler text has no place in a mail
    return env


_TEXT = _environment(html=False)
_HTML = _environment(html=True)


def _env(part: Part) -> _Sandbox:
    return _HTML if part == "html" else _TEXT


@functools.lru_cache(maxsize=512)
def _compiled(part: Part, source: str) -> Template:
    """A compiled template, kept: the same template renders a whole batch of mails."""
    try:
        return _env(part).from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.message or str(exc), part=part, line=exc.lineno) from None


def check(source: str, variables: Variables, *, part: Part = "html") -> None:
    """Compile `source` and check every variable it reads against `variables`; raise `TemplateProblem` naming the
    first line at fault."""
    env = _env(part)
    try:
        tree = env.parse(source)
        # Runs Jinja2's code generator over the tree: also finds unknown filters and tests.
        unknown = meta.find_undeclared_variables(tree) - set(variables) - set(env.globals)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.message or str(exc), part=part, line=exc.lineno) from None
    problems: list[tuple[int, str]] = []
    for name in _names(tree, "load"):
        if name.name in unknown:
            problems.append((name.lineno, f"unknown variable '{name.name}'"))
    local = {name.name for name in _names(tree, "store", "param")}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        path = _attribute_path(node)
        if path is None or path[0] in local or path[0] not in variables:
            continue
        if not _known_path(variables, path):
            problems.append((node.lineno, f"unknown variable '{'.'.join(path)}'"))
    # Attributes starting with an underscore, on anything (loop variables too), also through the attr filter: the
    # sandbox would refuse them when rendering; saying so when saving is kinder.
    for getattr_node in tree.find_all(nodes.Getattr):
        if getattr_node.attr.startswith("_"):
            problems.append((getattr_node.lineno,
                             f"attribute '{getattr_node.attr}' is not allowed (no names starting with '_')"))
    for applied in tree.find_all(nodes.Filter):
        first = applied.args[0] if applied.name == "attr" and applied.args else None
        attribute = first.value if isinstance(first, nodes.Const) else None
        if isinstance(attribute, str) and attribute.startswith("_"):
            problems.append((applied.lineno, f"attribute '{attribute}' is not allowed (no names starting with '_')"))
    if problems:
        line, message = min(problems)
        raise TemplateProblem(message, part=part, line=line)
    _compiled(part, source)


def _names(tree: nodes.Node, *contexts: str) -> Iterator[nodes.Name]:
    return (name for name in tree.find_all(nodes.Name) if name.ctx in contexts)


def _attribute_path(node: nodes.Node) -> list[str] | None:
    """`contact.name` and `contact['name']` as ["contact", "name"]; None for anything not rooted in a name."""
    path: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            path.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value,
                                                                                                    str):
            path.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name):
            path.append(node.name)
            return path[::-1]
        else:
            return None


def _known_path(variables: Variables, path: list[str]) -> bool:
    shape: Variables | None = variables
    for step in path:
        if shape is None:
            return True  # past what the context describes
        if step not in shape:
            return False
        shape = shape[step]
    return True


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None


@dataclass(frozen=True)
class MailTemplate:
    """A mail's three parts as templates (HTML optional)."""

    subject: str
    text: str
    html: str | None = None

    def parts(self) -> Iterator[tuple[Part, str]]:
        yield "subject", self.subject
        yield "text", self.text
        if self.html is not None:
            yield "html", self.html

    def check(self, variables: Variables) -> None:
        for part, source in self.parts():
            check(source, variables, part=part)

    def render(self, context: Mapping[str, Any]) -> RenderedMail:
        """The three parts rendered with `context`; the subject on one line (line breaks become spaces)."""
        subject = " ".join(_render("subject", self.subject, context).split())
        text = _render("text", self.text, context)
        html = _render("html", self.html, context) if self.html is not None else None
        return RenderedMail(subject=subject, text=text, html=html)


def _render(part: Part, source: str, context: Mapping[str, Any]) -> str:
    template = _compiled(part, source)
    try:
        return template.render(context)
    except TemplateError as exc:  # SecurityError and UndefinedError among them
        raise TemplateProblem(exc.message or str(exc), part=part, line=_template_line(exc.__traceback__)) from None
    except Exception as exc:  # what the template's own expressions raise: 1/0, 'a' + 1, a range past the bound
        raise TemplateProblem(f"{type(exc).__name__}: {exc}", part=part,
                              line=_template_line(exc.__traceback__)) from None


def _template_line(tb: TracebackType | None) -> int | None:
    """The template line an error was raised from: Jinja2 puts the template's frames into the traceback."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line

