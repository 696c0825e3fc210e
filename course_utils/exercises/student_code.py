"""Finding the student's code behind an answer: the functions a check may run, and the helpers they reach.

Tripwires search these functions' globals, closures and default arguments for references to what an exercise
forbids, and substitutes for earlier answers are bound in their globals.
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Sequence

from course_utils.exercises.guard import COURSE_DIR, is_course_function


@functools.cache
def is_student_file(filename: str) -> bool:
    """Whether code from ``filename`` is the student's: a notebook cell or a script, not the course, not a library."""
    if filename.startswith("<frozen"):
        return False
    if filename.startswith("<"):  # a cell, exec'd text
        return True
    import sysconfig

    paths = {sysconfig.get_paths().get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    outside = (COURSE_DIR, *(os.path.realpath(path) for path in paths if path))
    return not os.path.realpath(filename).startswith(tuple(path + os.sep for path in outside))


def _is_student_function(value: object) -> bool:
    """A Python function defined neither by the course nor by an installed library: the student's own code."""
    return isinstance(value, types.FunctionType) and is_student_file(value.__code__.co_filename)


def _functions_of(answer: object, *, inherited: bool = True) -> list[types.FunctionType]:
    """The Python functions an answer runs: itself, a bound method's function, a partial's, a class's methods
    (with ``inherited``, those of its base classes too)."""
    if isinstance(answer, types.FunctionType):
        return [answer]
    if isinstance(answer, types.MethodType):
        return _functions_of(answer.__func__)
    if isinstance(answer, functools.partial):
        return _functions_of(answer.func)
    klass = answer if isinstance(answer, type) else type(answer)
    functions = []
    for owner in klass.__mro__ if inherited else (klass,):
        for value in vars(owner).values():
            value = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
            value = value.fget if isinstance(value, property) else value
            if isinstance(value, types.FunctionType):
                functions.append(value)
    return functions


def student_code(answers: Sequence[object]) -> tuple[list[types.FunctionType], list[types.FunctionType]]:
    """The student's functions behind ``answers`` and the helpers they reach through globals (functions, and the
    methods of classes), closures and default arguments; and every other Python function reached on the way (a copy
    of a course function kept in the notebook's globals is one of those)."""
    found: dict[int, types.FunctionType] = {}
    reached: dict[int, types.FunctionType] = {}
    scanned: set[int] = set()  # globals dicts and classes already looked through
    pending = [f for answer in answers for f in _functions_of(answer)]
    while pending:
        function = pending.pop()
        if id(function) in found or id(function) in reached:
            continue
        if not _is_student_function(function):
            reached[id(function)] = function
            if is_course_function(function):  # the course's own wrappers stay closed
                continue
            # a library decorator's wrapper (@torch.no_grad()) keeps the student's function in a cell
            cells = [cell.cell_contents for cell in function.__closure__ or () if filled(cell)]
            pending.extend(value for value in cells if isinstance(value, types.FunctionType))
            continue
        found[id(function)] = function
        values = [cell.cell_contents for cell in function.__closure__ or () if filled(cell)]
        values += [*(function.__defaults__ or ()), *(function.__kwdefaults__ or {}).values()]
        if id(function.__globals__) not in scanned:
            scanned.add(id(function.__globals__))
            values += list(function.__globals__.values())
        for value in values:
            if isinstance(value, (types.FunctionType, types.MethodType, functools.partial)):
                pending.extend(_functions_of(value))
            elif isinstance(value, type) and id(value) not in scanned:
                scanned.add(id(value))
                pending.extend(f for f in _functions_of(value, inherited=False) if _is_student_function(f))
    return list(found.values()), list(reached.values())


def filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:  # an empty cell
        return False
    return True
