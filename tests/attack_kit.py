"""Shared tools of the checker tests: run a check, and the attacks and honest variants every checker meets.

* ``passes`` / ``rejected`` / ``delegation_rejected`` run ``check`` and assert its verdict;
* ``Lying*`` are objects whose comparisons always say yes (an ``int`` and a ``float`` subclass, a ``torch.Tensor``
  subclass overriding ``__eq__``, ``allclose`` and ``__torch_function__``, a NumPy subclass): a checker that compared
  them as they are would be fooled; they must score 0;
* ``noisy`` and ``Noisy`` wrap a correct answer so that it prints and warns: it must still pass with one line;
* ``notebook`` runs source code in a fresh namespace, as a notebook's cells would (answers that call each other by
  name share these globals).
"""

from __future__ import annotations

import contextlib
import io
import textwrap
import warnings
from typing import Any

import numpy as np
import pytest
import torch

from course_utils.exercises.framework import CheckFailed, check


def passes(exercise_id: str, *answers: Any) -> None:
    """Assert that the check passes and prints exactly its one pass line, whatever the answers printed."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output), warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning that escaped the checker would fail the test
        check(exercise_id, *answers)
    lines = output.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"✔ {exercise_id}: "), output.getvalue()
    total = lines[0].split(": ")[1].split(" ")[0]
    assert total.split("/")[0] == total.split("/")[1]


def rejected(exercise_id: str, *answers: Any, match: str | None = None) -> str:
    """Assert that the check fails (not as "not implemented"); return the message."""
    output = io.StringIO()
    with pytest.raises(CheckFailed) as info, contextlib.redirect_stdout(output):
        check(exercise_id, *answers)
    message = str(info.value)
    assert output.getvalue() == "", output.getvalue()
    assert "not implemented yet" not in message
    assert exercise_id in message
    if match is not None:
        assert match in message, message
    return message


def scores_zero(exercise_id: str, *answers: Any, match: str | None = None) -> str:
    """Assert that the check fails every one of its cases."""
    message = rejected(exercise_id, *answers, match=match)
    assert " 0/" in message.splitlines()[0], message[:2000]
    return message


def gains_nothing(exercise_id: str, liar: Any, honest_twin: Any) -> str:
    """Assert that ``liar`` (wrong values in an object that claims to be right) is rejected and passes no more cases
    than ``honest_twin``, the same wrong values as plain objects."""
    message = rejected(exercise_id, liar)
    assert passed_count(message) == passed_count(rejected(exercise_id, honest_twin)), message[:2000]
    return message


def passed_count(message: str) -> str:
    """The \"k/n\" of a failure message's first line."""
    return message.splitlines()[0].split("): ")[1].split(" ")[0]


def delegation_rejected(exercise_id: str, *answers: Any, called: str) -> str:
    """Assert that the check fails every case, each naming the forbidden call ``called`` (a part of its name)."""
    message = scores_zero(exercise_id, *answers)
    failures = [line for line in message.splitlines() if line.startswith("  • ")]
    assert failures and all("it called" in line for line in failures), message[:2000]
    assert f"{exercise_id} " in failures[0] and called in message, message[:2000]
    return message


class LyingInt(int):
    """An int that equals everything."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = int.__hash__


class LyingFloat(float):
    """A float that equals everything and is close to everything."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __sub__(self, other: object) -> float:
        return 0.0

    __rsub__ = __sub__
    __hash__ = float.__hash__


_AGREEING = {"allclose", "equal", "isclose", "eq", "__eq__", "ne", "__ne__", "array_equal"}


class LyingTensor(torch.Tensor):
    """A tensor whose comparisons (``==``, ``allclose``, ``equal``, ``isclose``) always agree, and whose
    ``__torch_function__`` makes every other result a LyingTensor too."""

    def __eq__(self, other: object) -> torch.Tensor:
        return torch.ones(self.shape, dtype=torch.bool)

    def __ne__(self, other: object) -> torch.Tensor:
        return torch.zeros(self.shape, dtype=torch.bool)

    __hash__ = torch.Tensor.__hash__

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN206
        name = getattr(func, "__name__", "")
        if name in ("allclose", "equal"):
            return True
        if name in ("isclose", "eq", "__eq__"):
            return torch.ones(torch.broadcast_shapes(*(a.shape for a in args if isinstance(a, torch.Tensor))),
                              dtype=torch.bool)
        return super().__torch_function__(func, types, args, kwargs or {})


class LyingArray(np.ndarray):
    """A NumPy array whose ``==`` is all True and that ``np.array_equal``/``np.allclose`` always accept."""

    def __eq__(self, other: object) -> np.ndarray:
        return np.ones(self.shape, dtype=bool)

    def __ne__(self, other: object) -> np.ndarray:
        return np.zeros(self.shape, dtype=bool)

    def __array_function__(self, func, types, args, kwargs):  # noqa: ANN001, ANN204
        if func.__name__ in _AGREEING | {"allclose"}:
            return True
        return super().__array_function__(func, types, args, kwargs)


def lying_tensor(like: torch.Tensor) -> LyingTensor:
    """A LyingTensor of zeros with the shape and dtype of ``like`` (a wrong answer that claims to be right)."""
    return torch.zeros_like(like.detach()).as_subclass(LyingTensor)


def lying_array(like: np.ndarray) -> LyingArray:
    """A LyingArray of zeros with the shape and dtype of ``like``."""
    return np.zeros_like(np.asarray(like)).view(LyingArray)


def noisy(function):
    """A correct answer that prints and warns before answering: it must still pass with exactly one line."""

    def chatty(*args, **kwargs):
        print("debug: called with", len(args), "arguments")
        warnings.warn("a harmless warning from the student's code", UserWarning, stacklevel=2)
        return function(*args, **kwargs)

    chatty.__name__ = getattr(function, "__name__", "chatty")
    return chatty


def notebook(source: str, **names: Any) -> dict[str, Any]:
    """Run ``source`` in a fresh namespace holding ``names`` (like a notebook's globals); return the namespace."""
    namespace: dict[str, Any] = {"__name__": "__main__", **names}
    exec(compile(textwrap.dedent(source), "<notebook cell>", "exec"), namespace)  # noqa: S102
    return namespace
