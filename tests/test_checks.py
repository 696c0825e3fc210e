"""The check framework itself: pass line, failure reports, stubs, student exceptions, registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.exercises.framework import (
    CheckFailed,
    Exercise,
    expect_close,
    expect_equal,
    expect_true,
    fail,
    get_exercise,
    run_checks,
)


def _square_exercise() -> Exercise:
    exercise = Exercise("99.square", "Square a number")

    @exercise.case("square of 3")
    def _(square):
        expect_equal(square(3), 9, what="square(3)", hint="multiply the number by itself")

    @exercise.case("square of an array")
    def _(square):
        expect_close(square(np.array([0.5, -2.0])), np.array([0.25, 4.0]), what="square([0.5, -2])")

    return exercise


def test_pass_line_is_exact_and_single(capsys):
    run_checks(_square_exercise(), lambda x: x * x)
    assert capsys.readouterr().out == "✔ 99.square: 2/2 checks passed\n"


def test_failure_lists_each_failed_case_with_expected_got_and_hint(capsys):
    with pytest.raises(CheckFailed) as info:
        run_checks(_square_exercise(), lambda x: x + x)
    message = str(info.value)
    assert "0/2 checks passed" in message
    assert "square of 3" in message and "expected: 9" in message and "got:      6" in message
    assert "hint:     multiply the number by itself" in message
    assert "square of an array" in message
    assert capsys.readouterr().out == ""
    assert isinstance(info.value, AssertionError)


def test_partial_failure_counts_passed_cases():
    with pytest.raises(CheckFailed, match="1/2 checks passed"):
        run_checks(_square_exercise(), lambda x: 9 if np.isscalar(x) else x)


def test_stub_reports_not_implemented():
    def stub(x):
        raise NotImplementedError("exercise 99.square: replace this line with your code")

    with pytest.raises(CheckFailed, match="not implemented yet"):
        run_checks(_square_exercise(), stub)


def test_exception_in_student_code_names_the_case_and_line():
    def broken(x):
        return x.nonexistent

    with pytest.raises(CheckFailed) as info:
        run_checks(_square_exercise(), broken)
    assert "your code raised AttributeError" in str(info.value)
    assert "square of 3" in str(info.value)
    assert "x.nonexistent" in str(info.value)


def test_expectations():
    expect_equal(torch.tensor([1, 2]), np.array([1, 2]), what="tensor against array")
    expect_equal((3, (1, 2)), [3, [1, 2]], what="nested sequences")
    expect_true(True, what="truth")
    for bad in (lambda: expect_equal(np.array([1, 2]), np.array([1, 2, 3]), what="shape"),
                lambda: expect_equal("a", 1, what="types"),
                lambda: expect_close(np.ones(3), np.ones(2), what="shape"),
                lambda: expect_close("text", 1.0, what="not numbers"),
                lambda: expect_close(np.array([np.nan]), np.array([1.0]), what="nan"),
                lambda: expect_true(0, what="falsy"),
                lambda: fail("always")):
        with pytest.raises(Exception) as info:
            bad()
        assert type(info.value).__name__ == "CaseFailure"


def test_exercise_validation():
    with pytest.raises(ValueError, match="must look like"):
        Exercise("segment_sampling", "no prefix")
    exercise = Exercise("99.empty", "no cases")
    with pytest.raises(ValueError, match="cannot fail"):
        run_checks(exercise, None)
    exercise.case("one")(lambda answer: None)
    with pytest.raises(ValueError, match="already has a case"):
        exercise.case("one")


def test_registry_rejects_unknown_ids():
    with pytest.raises(ValueError, match="unknown exercise id"):
        get_exercise("98.nothing")
    with pytest.raises(TypeError, match="exercise_id"):
        get_exercise(1)
