"""Whether the course's references are still the course's own: the check the grader makes before trusting a result.

A tripwire protects a reference from being *called*; it cannot protect the checker from a reference that was
*replaced* before the check (the checker computes its expected values with them). ``target_problems`` therefore
describes every target of an exercise that is not the genuine object: a course function must run code from the file
its module's name points to, under its own name; a library function must come from the library's package; every
one must be the very object ``snapshot`` saw, when it was called. ``framework.verify_targets`` turns the problems
into ``CheckFailed``.
"""

from __future__ import annotations

import importlib.util
import os
import types
from collections.abc import Iterable
from typing import Any

from course_utils.exercises.guard import COURSE_DIR
from course_utils.exercises.tripwires import Rule, resolve
from course_utils.exercises.values import primitive_problems

_SNAPSHOT: dict[str, tuple[object, object]] = {}


def members(rules: Iterable[Rule]) -> list:
    """The attributes (functions, methods, a class's methods) the rules' targets stand for."""
    return [member for rule in rules for target in rule.targets if target.kind == "attribute"
            for member in resolve(target, rule.reason)]


def snapshot(rules: Iterable[Rule]) -> None:
    """Remember the objects (and their code) the targets hold now."""
    for member in members(rules):
        function = _unwrap(member.raw)
        _SNAPSHOT[member.name] = (function, getattr(function, "__code__", None))


def target_problems(rules: Iterable[Rule]) -> list[str]:
    """Describe every target that is not the genuine course or library object, and every replaced primitive."""
    problems = list(primitive_problems())
    try:
        found = members(rules)
    except (ImportError, AttributeError) as error:
        return [*problems, f"a target cannot be found ({error})"]
    for member in found:
        problems.extend(_member_problems(member))
    return problems


def _unwrap(raw: object) -> object:
    return raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw


def _member_problems(member: Any) -> list[str]:
    function, name = _unwrap(member.raw), member.name
    module = member.owner.__module__ if isinstance(member.owner, type) else member.owner.__name__
    qualname = f"{member.owner.__qualname__}.{member.attribute}" if isinstance(member.owner, type) \
        else member.attribute
    snapshot = _SNAPSHOT.get(name)
    if snapshot is not None and (snapshot[0] is not function or snapshot[1] is not getattr(function, "__code__", 0)):
        return [f"{name} was replaced after the kernel started"]
    if isinstance(function, types.FunctionType):
        actual_file = os.path.realpath(function.__code__.co_filename)
        if _expected_file(module, actual_file) != actual_file:
            return [f"{name} runs code from {function.__code__.co_filename}, not from the file of {module}"]
        if function.__qualname__ != qualname or function.__code__.co_name != member.attribute:
            return [f"{name} is not the function defined under that name"]
        return []
    if type(function).__name__ in ("builtin_function_or_method", "method_descriptor", "wrapper_descriptor"):
        builtin_name = str(getattr(function, "__name__", ""))  # torch.special.logsumexp is "special_logsumexp"
        return [] if builtin_name.endswith(member.attribute) else [f"{name} is another builtin ({builtin_name})"]
    return [f"{name} is a {type(function).__name__}, not the function it should be"]


def _expected_file(module: str, actual: str) -> str | None:
    """The file a course module's name points to; for a library, ``actual`` if it lies in the library's package."""
    top = module.split(".")[0]
    if top == "course_utils":
        base = os.path.join(os.path.dirname(COURSE_DIR), *module.split("."))
        return os.path.realpath(base + ".py") if os.path.exists(base + ".py") else \
            os.path.realpath(os.path.join(base, "__init__.py"))
    spec = importlib.util.find_spec(top)
    roots = [os.path.realpath(path) + os.sep for path in (spec.submodule_search_locations or ())] if spec else []
    return actual if roots and actual.startswith(tuple(roots)) else None
