"""Reference tripwires: while a check runs, what implements the answer cannot be called by the student's code.

An exercise declares its rules once (``forbid(reason, "module:qualname", ..., ops=(...))``). While its check runs,
``Tripwires`` replaces every target by a tripwire:

* at its defining location (a module attribute, or a class attribute for a method such as
  ``NonLocalBlock.forward``; a class target stands for its own methods, so instances made earlier and subclasses
  trip too), which also covers ``getattr(module, computed_name)``, ``importlib`` and the lazy package re-exports;
* wherever the same object is bound in a loaded ``course_utils`` module, in ``__main__``, in the globals of the
  student's functions (names bound to it; modules bound there lead to the patched attributes), in their closures and
  default arguments;
* for the course's own Python functions, in the function object itself: its ``__code__`` becomes a tripwire, so a
  reference kept anywhere (the answer itself, a ``functools.partial``, a list) trips as well;
* for library rules (``ops``), at the operator level: a ``TorchFunctionMode`` sees ``aten::logsumexp`` however it
  is reached (``torch.logsumexp``, ``Tensor.logsumexp``, ``torch.ops.aten...``, inside another torch function).

A tripwire lets the call through inside ``course()`` (see ``course_utils.exercises.guard``); otherwise it records the
call and raises ``ForbiddenCall``. Everything is restored when the check ends, also when the student's code raised.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course_utils.exercises.guard import (
    STATE,
    StudentCall,
    Tripwire,
    genuine_copy,
    guard,
    is_course_function,
    operator_guard,
    swap_code,
)
from course_utils.exercises.student_code import filled, student_code

_KEPT_DUNDERS = ("__init__", "__new__", "__call__")


@dataclass(frozen=True)
class Target:
    """What a tripwire replaces: ``module`` and ``qualname`` (``"NonLocalBlock.forward"``); ``kind`` is
    ``"attribute"``, or ``"operator"`` for an ATen operator such as ``aten::logsumexp`` (module ``"aten"``)."""

    module: str
    qualname: str
    kind: str = "attribute"

    @property
    def name(self) -> str:
        """The dotted name a failure message shows, e.g. ``course_utils.non_local.block.NonLocalBlock.forward``."""
        return f"{self.module}::{self.qualname}" if self.kind == "operator" else f"{self.module}.{self.qualname}"


@dataclass(frozen=True)
class Rule:
    """Targets that an exercise's answer must not call, and why (``reason`` completes "<id> ...")."""

    reason: str
    targets: tuple[Target, ...] = ()


def forbid(reason: str, *targets: str, ops: Sequence[str] = ()) -> Rule:
    """Declare a rule: ``forbid("must compute the block's output itself", "course_utils.non_local.block:embed")``.

    Args:
        reason: completes the failure message ``"<exercise id> <reason>; it called <target>"``.
        *targets: ``"module:qualname"`` of functions, methods or classes (a class stands for its own methods).
        ops: ATen operator names such as ``"aten::logsumexp"``, caught however the operator is reached.
    """
    parsed = []
    for spec in targets:
        module, colon, qualname = spec.partition(":")
        if not (colon and module and qualname):
            raise ValueError(f"a target looks like 'package.module:Class.method', got {spec!r}")
        parsed.append(Target(module, qualname))
    for op in ops:
        namespace, colons, name = op.partition("::")
        if not (colons and namespace and name):
            raise ValueError(f"an operator looks like 'aten::logsumexp', got {op!r}")
        parsed.append(Target(namespace, name, "operator"))
    return Rule(reason, tuple(parsed))


def _attribute_tripwire(name: str, reason: str, original: Callable) -> Callable:
    def tripwire(*args: Any, **kwargs: Any) -> Any:
        guard(name, reason)
        return original(*args, **kwargs)

    tripwire.__name__ = getattr(original, "__name__", "tripwire")
    tripwire.__qualname__ = getattr(original, "__qualname__", tripwire.__name__)
    tripwire.__doc__ = getattr(original, "__doc__", None)
    return tripwire


@dataclass
class _Member:
    """One attribute to replace: ``owner.attribute`` (a module or a class) and its raw value."""

    name: str
    reason: str
    owner: Any
    attribute: str
    raw: Any


def resolve(target: Target, reason: str = "") -> list[_Member]:
    """The attributes a target stands for: itself, or a class's own methods. Imports the target's module.

    Raises:
        AttributeError, ImportError: when the target does not exist (a checker's declaration is wrong).
    """
    owner: Any = importlib.import_module(target.module)
    *path, attribute = target.qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    raw = _raw(owner, attribute)
    if isinstance(raw, type):
        methods = [(key, value) for key, value in vars(raw).items()
                   if isinstance(value, (types.FunctionType, staticmethod, classmethod))
                   and (not key.startswith("__") or key in _KEPT_DUNDERS) and key != "extra_repr"]
        return [_Member(f"{target.name}.{key}", reason, raw, key, value) for key, value in methods]
    return [_Member(target.name, reason, owner, attribute, raw)]


def _raw(owner: Any, attribute: str) -> Any:
    """``owner.attribute`` without binding (a class's own or inherited dict entry, a module attribute)."""
    if isinstance(owner, type):
        for klass in owner.__mro__:
            if attribute in vars(klass):
                return vars(klass)[attribute]
        raise AttributeError(f"{owner.__qualname__} has no attribute {attribute!r}")
    return getattr(owner, attribute)


class Tripwires:
    """Install an exercise's tripwires (and its substitutes for earlier answers) for the length of a ``with``.

    Args:
        exercise_id: named in every failure message.
        rules: the exercise's ``forbid(...)`` declarations.
        answers: the student's answers (functions, classes, callables), whose globals, closures and defaults are
            searched for references to the targets.
        substitutes: ``{name: reference}`` bound in the student's globals while the check runs, so that a later
            exercise calls the course's reference for an earlier one instead of the student's answer.
    """

    def __init__(self, exercise_id: str, rules: Sequence[Rule], answers: Sequence[object],
                 substitutes: Mapping[str, Callable] | None = None) -> None:
        self.exercise_id = exercise_id
        self.rules = tuple(rules)
        self.answers = tuple(answers)
        self.substitutes = dict(substitutes or {})
        self._undo: list[Callable[[], None]] = []
        self._swapped_codes: dict[types.CodeType, tuple[str, str]] = {}

    def __enter__(self) -> Tripwires:
        if STATE.exercise_id is not None:
            raise RuntimeError(f"check({self.exercise_id!r}) cannot run while {STATE.exercise_id} is being checked")
        STATE.installing = True
        try:
            self._install()
        except BaseException:
            self._restore()
            raise
        finally:
            STATE.installing = False
        STATE.exercise_id, STATE.violations, STATE.course_depth, STATE.student_depth = self.exercise_id, [], 0, 0
        STATE.live_references = {id(reference) for reference in self.substitutes.values()}
        return self

    def __exit__(self, *exc_info: object) -> None:
        STATE.exercise_id, STATE.live_references = None, set()
        STATE.installing = True
        try:
            self._restore()
        finally:
            STATE.installing = False

    @property
    def violations(self) -> list:
        """The ``ForbiddenCall`` errors raised since the list was last cleared (a case may swallow them)."""
        return STATE.violations

    def _install(self) -> None:
        student, reached = student_code(self.answers)
        scopes = list({id(f.__globals__): f.__globals__ for f in student}.values())
        for scope in scopes:
            for name, reference in self.substitutes.items():
                if name in scope:
                    self._set_item(scope, name, reference)
        replacements: dict[int, tuple[Any, Callable]] = {}
        ops: dict[str, str] = {}
        for rule in self.rules:
            for target in rule.targets:
                if target.kind == "operator":
                    ops[target.name] = rule.reason
                    continue
                for member in resolve(target, rule.reason):
                    self._replace_member(member, replacements)
        modules = [m for name, m in list(sys.modules.items())
                   if isinstance(m, types.ModuleType) and (name == "__main__" or name.startswith("course_utils"))]
        for scope in list({id(d): d for d in [*(vars(m) for m in modules), *scopes]}.values()):
            for key, value in list(scope.items()):
                entry = replacements.get(id(value))
                if entry is not None and entry[0] is value:
                    self._set_item(scope, key, entry[1])
        for function in student:
            self._replace_in_function(function, replacements)
        for function in reached:  # a copy of a course function: FunctionType(course_function.__code__, ...)
            swapped = self._swapped_codes.get(function.__code__)
            if swapped is not None:
                self._swap(function, Tripwire(*swapped, genuine_copy(function)))
        for function in student:  # the student's code runs marked as such: course() unlocks nothing there
            self._swap(function, StudentCall(genuine_copy(function)))
        if ops:
            self._guard_operators(ops)

    def _replace_member(self, member: _Member, replacements: dict[int, tuple[Any, Callable]]) -> None:
        raw = member.raw
        function = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        tripwire = _attribute_tripwire(member.name, member.reason, function)
        replacement = type(raw)(tripwire) if isinstance(raw, (staticmethod, classmethod)) else tripwire
        self._set_attribute(member.owner, member.attribute, replacement)
        if id(function) in replacements:
            return
        replacements[id(function)] = (function, tripwire)
        if is_course_function(function):
            self._swap(function, Tripwire(member.name, member.reason, genuine_copy(function)))

    def _swap(self, function: types.FunctionType, handler: Tripwire | StudentCall) -> None:
        genuine_code = swap_code(function, handler)
        if genuine_code is not None:
            if isinstance(handler, Tripwire):
                self._swapped_codes[genuine_code] = (handler.name, handler.reason)
            self._undo.append(lambda: setattr(function, "__code__", genuine_code))

    def _replace_in_function(self, function: types.FunctionType,
                             replacements: dict[int, tuple[Any, Callable]]) -> None:
        def swapped(value: Any) -> Any:
            entry = replacements.get(id(value))
            return entry[1] if entry is not None and entry[0] is value else value

        for cell in function.__closure__ or ():
            if filled(cell) and swapped(cell.cell_contents) is not cell.cell_contents:
                previous = cell.cell_contents
                cell.cell_contents = swapped(previous)
                self._undo.append(lambda cell=cell, previous=previous: setattr(cell, "cell_contents", previous))
        defaults = function.__defaults__ or ()
        if any(swapped(value) is not value for value in defaults):
            function.__defaults__ = tuple(swapped(value) for value in defaults)
            self._undo.append(lambda: setattr(function, "__defaults__", defaults))
        keyword_defaults = function.__kwdefaults__ or {}
        if any(swapped(value) is not value for value in keyword_defaults.values()):
            function.__kwdefaults__ = {key: swapped(value) for key, value in keyword_defaults.items()}
            self._undo.append(lambda: setattr(function, "__kwdefaults__", dict(keyword_defaults)))

    def _guard_operators(self, ops: dict[str, str]) -> None:
        mode = operator_guard(ops)
        mode.__enter__()
        self._undo.append(lambda: mode.__exit__(None, None, None))

    def _set_attribute(self, owner: Any, attribute: str, value: Any) -> None:
        if isinstance(owner, type):
            had, previous = attribute in vars(owner), vars(owner).get(attribute)
            setattr(owner, attribute, value)
            self._undo.append(lambda: setattr(owner, attribute, previous) if had else delattr(owner, attribute))
        else:
            self._set_item(vars(owner), attribute, value)

    def _set_item(self, scope: dict, key: str, value: Any) -> None:
        had, previous = key in scope, scope.get(key)
        scope[key] = value

        def undo() -> None:
            if had:
                scope[key] = previous
            else:
                scope.pop(key, None)

        self._undo.append(undo)

    def _restore(self) -> None:
        while self._undo:
            self._undo.pop()()
