"""The switch every tripwire consults: which exercise is being checked, who is running, and what tripped.

* ``guard(name, reason)`` is the first thing a tripwire does. It lets the call through when no check runs, or when
  the course is computing (inside ``course()``, the checker's own expected values); otherwise it records the call
  and raises ``ForbiddenCall``.
* While a check runs, the student's functions are marked (``swap_code`` with a ``StudentCall``), so ``course()``
  knows when it is entered from the student's code: it then unlocks nothing. A checker helper that computes an
  expected value can therefore never serve as an oracle, even if the student calls it.
* ``course_reference`` is the one sanctioned way for the student's code to run course code that the current exercise
  forbids: the course's reference for an earlier exercise, on arguments its ``sanitize`` turned into plain values.
* ``swap_code`` replaces a function's ``__code__`` by a small template that hands the call to a handler object, so
  every reference to the function (the answer itself, a ``functools.partial``, a list) goes through it.
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from course_utils.exercises.errors import CaseFailure

COURSE_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # .../course_utils
_HANDLER = "__course_tripwire_handler__"


class ForbiddenCall(CaseFailure):
    """Raised by a tripwire: the student's code called what the exercise asks them to write."""


class _State:
    """Which exercise is being checked, how deep the course and the student's code are, what tripped.

    ``installing`` is True while tripwires are being installed or removed (an audit hook can tell the framework's
    own ``__code__`` assignments from the student's).
    """

    def __init__(self) -> None:
        self.exercise_id: str | None = None
        self.course_depth = 0
        self.student_depth = 0
        self.installing = False
        self.live_references: set[int] = set()
        self.violations: list[ForbiddenCall] = []


STATE = _State()


@contextmanager
def course() -> Iterator[None]:
    """Let tripwires through while the checker computes its own values; entered from the student's code (directly
    or through a checker helper), it unlocks nothing. Use it in a case's own body, around course calls only."""
    if STATE.student_depth:
        yield
        return
    STATE.course_depth += 1
    try:
        yield
    finally:
        STATE.course_depth -= 1


def guard(name: str, reason: str) -> None:
    """Called by every tripwire: record and raise unless no check runs or the course is computing."""
    if STATE.exercise_id is None or (STATE.course_depth and not STATE.student_depth):
        return
    error = ForbiddenCall(f"{STATE.exercise_id} {reason}; it called {name}")
    STATE.violations.append(error)
    raise error


def course_reference(function: Callable, *, sanitize: Callable[..., tuple[tuple, dict]]) -> Callable:
    """Wrap the course's reference for an earlier exercise so the student's code may call it during a later check.

    The wrapper unlocks only while it is a substitute of the exercise being checked (``STATE.live_references``):
    called during any other check, it runs as the student's code and trips like the reference would.

    Args:
        function: the reference; it may call what the later exercise forbids.
        sanitize: ``(*args, **kwargs) -> (args, kwargs)``, run first, as the student's code: it must turn the
            arguments into plain values (``values.plain``) or reject them, so that no code of the student's runs
            while ``function`` does.
    """

    def reference(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = sanitize(*args, **kwargs)
        if id(reference) not in STATE.live_references:
            return function(*args, **kwargs)
        student_depth, STATE.student_depth = STATE.student_depth, 0
        STATE.course_depth += 1
        try:
            return function(*args, **kwargs)
        finally:
            STATE.course_depth -= 1
            STATE.student_depth = student_depth

    reference.__name__ = reference.__qualname__ = getattr(function, "__name__", "reference")
    reference.__doc__ = getattr(function, "__doc__", None)
    return reference


class Tripwire:
    """The body of a code-swapped course function: guard, then run the function's genuine code."""

    __slots__ = ("name", "reason", "genuine")

    def __init__(self, name: str, reason: str, genuine: Callable) -> None:
        self.name, self.reason, self.genuine = name, reason, genuine

    def __call__(self, args: tuple, kwargs: dict) -> Any:
        guard(self.name, self.reason)
        return self.genuine(*args, **kwargs)


class StudentCall:
    """The body of a code-swapped student function: run its genuine code, marked as the student's."""

    __slots__ = ("genuine",)

    def __init__(self, genuine: Callable) -> None:
        self.genuine = genuine

    def __call__(self, args: tuple, kwargs: dict) -> Any:
        STATE.student_depth += 1
        try:
            return self.genuine(*args, **kwargs)
        finally:
            STATE.student_depth -= 1


_FUNCTIONS = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.BuiltinMethodType,
              functools.partial)


def as_student(answer: Any) -> Any:
    """What the cases receive for ``answer``: a function (or method, builtin, partial) runs marked as the student's
    code, whoever wrote it (a course function handed in as the answer is no exception); classes, modules and other
    objects are passed as they are."""
    if not isinstance(answer, _FUNCTIONS):
        return answer
    call = StudentCall(answer)

    def student_answer(*args: Any, **kwargs: Any) -> Any:
        return call(args, kwargs)

    student_answer.__name__ = str(getattr(answer, "__name__", "your function"))
    student_answer.__qualname__ = str(getattr(answer, "__qualname__", student_answer.__name__))
    student_answer.__doc__ = getattr(answer, "__doc__", None)
    return student_answer


def _templates() -> dict[int, types.CodeType]:
    """Code objects ``(*args, **kwargs) -> handler(args, kwargs)`` with 0 to 3 free variables, ``handler`` being a
    constant that ``swap_code`` replaces (a function's ``__code__`` can only be replaced by a code object with as
    many free variables as the function has closure cells)."""
    a = b = c = None  # noqa: F841  (the free variables of the templates below)

    def zero(*args, **kwargs):
        handler = "__course_tripwire_handler__"
        return handler(args, kwargs)

    def one(*args, **kwargs):
        if False:
            a  # noqa: B018
        handler = "__course_tripwire_handler__"
        return handler(args, kwargs)

    def two(*args, **kwargs):
        if False:
            a, b  # noqa: B018
        handler = "__course_tripwire_handler__"
        return handler(args, kwargs)

    def three(*args, **kwargs):
        if False:
            a, b, c  # noqa: B018
        handler = "__course_tripwire_handler__"
        return handler(args, kwargs)

    return {len(f.__code__.co_freevars): f.__code__ for f in (zero, one, two, three)}


_TEMPLATES = _templates()


def genuine_copy(function: types.FunctionType) -> types.FunctionType:
    """A new function object running ``function``'s current code with its globals, defaults and closure."""
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__kwdefaults__ = dict(function.__kwdefaults__) if function.__kwdefaults__ else None
    copy.__qualname__ = function.__qualname__
    return copy


def swap_code(function: types.FunctionType, handler: Tripwire | StudentCall) -> types.CodeType | None:
    """Make every call of ``function`` a call of ``handler(args, kwargs)``; return the genuine code (to restore it),
    or None when the function has more closure cells than a template has."""
    genuine_code = function.__code__
    template = _TEMPLATES.get(len(genuine_code.co_freevars))
    if template is None:
        return None
    consts = tuple(handler if isinstance(c, str) and c == _HANDLER else c for c in template.co_consts)
    function.__code__ = template.replace(co_consts=consts, co_name=genuine_code.co_name)
    return genuine_code


def is_course_function(value: object) -> bool:
    """Whether ``value`` is a Python function defined in a file of the course package."""
    code = value.__code__ if isinstance(value, types.FunctionType) else None
    return code is not None and os.path.realpath(code.co_filename).startswith(COURSE_DIR + os.sep)


def operator_guard(ops: dict[str, str]) -> Any:
    """A ``TorchFunctionMode`` (enter it to use it) that guards torch operators: ``{"aten::name": reason}``.

    The mode sees every call of torch's API however it was reached: ``torch.logsumexp``, ``Tensor.logsumexp``,
    ``torch._C._VariableFunctions.logsumexp``, ``torch.ops.aten.logsumexp.default``, and the same operator called
    inside another torch function (``torch.distributions``). A function mode rather than a dispatch mode: the latter
    imports TorchDynamo on first use, which takes seconds.
    """
    from torch.overrides import TorchFunctionMode

    class OperatorGuard(TorchFunctionMode):
        def __init__(self, ops: dict[str, str]) -> None:
            super().__init__()
            self.ops = {name.partition("::")[2]: (name, reason) for name, reason in ops.items()}

        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
            name = _operator_name(func)
            if name in self.ops:
                guard(_display_name(func, name), self.ops[name][1])
            return func(*args, **(kwargs or {}))

    return OperatorGuard(ops)


def _operator_name(func: Any) -> str:
    """``logsumexp`` for ``torch.logsumexp``, ``Tensor.logsumexp`` and ``torch.ops.aten.logsumexp.default``."""
    schema = getattr(func, "_schema", None)
    if schema is not None:
        return str(schema.name).partition("::")[2]
    return str(getattr(func, "__name__", ""))


def _display_name(func: Any, name: str) -> str:
    if getattr(func, "_schema", None) is not None:
        return f"torch.ops.aten.{name}"
    owner = getattr(func, "__objclass__", None)
    if owner is not None:
        return f"torch.Tensor.{name}"
    return f"{getattr(func, '__module__', None) or 'torch'}.{name}"
