"""The check framework itself: pass line, failure reports, stubs, student exceptions, registry; the tripwires
(installed, restored, reached through globals, closures, package attributes, modules, copies and operators),
plain-value conversion, and the capture of what the student's code prints and warns."""

from __future__ import annotations

import importlib
import sys
import types
import warnings

import numpy as np
import pytest
import torch
from attack_kit import notebook

import course_utils
import course_utils.consensus as consensus
from course_utils.exercises import guard
from course_utils.exercises.framework import (
    CheckFailed,
    Exercise,
    close,
    course,
    course_reference,
    expect_close,
    expect_equal,
    expect_true,
    fail,
    forbid,
    get_exercise,
    plain,
    run_checks,
    same,
    snapshot_targets,
    tripwire_targets,
    verify_targets,
)
from course_utils.non_local import block as block_module


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


# ------------------------------------------------------------------------------------------ tripwire mechanics
SCORES = torch.arange(24, dtype=torch.float64).reshape(2, 3, 4)
AVERAGE = SCORES.mean(dim=1)


def _average_exercise(*, substitutes=None) -> Exercise:
    """An exercise whose answer is the average consensus and whose tripwire is the course's avg_consensus."""
    exercise = Exercise("99.average", "Average the snippets",
                        forbidden=[forbid("must average the snippets itself", "course_utils.consensus:avg_consensus",
                                          "course_utils.consensus:AvgConsensus")],
                        substitutes=substitutes or {})

    @exercise.case("the average over the snippets")
    def _(average):
        with course():  # the checker may call the course's own function
            expected = consensus.avg_consensus(SCORES)
        expect_close(average(SCORES.clone()), expected, what="average(scores)")

    return exercise


GENUINE_CODE = consensus.avg_consensus.__code__
GENUINE_FUNCTION = consensus.avg_consensus


def _assert_restored():
    assert consensus.avg_consensus is GENUINE_FUNCTION and GENUINE_FUNCTION.__code__ is GENUINE_CODE
    assert "forward" in vars(consensus.AvgConsensus) and vars(consensus.AvgConsensus)["forward"].__name__ == "forward"
    assert guard.STATE.exercise_id is None and guard.STATE.student_depth == 0 and guard.STATE.course_depth == 0


def _tripped(answer, exercise=None) -> str:
    with pytest.raises(CheckFailed) as info:
        run_checks(exercise or _average_exercise(), answer)
    _assert_restored()
    message = str(info.value)
    assert "99.average must average the snippets itself; it called course_utils.consensus." in message, message
    return message


def test_an_honest_answer_passes_and_everything_is_restored(capsys):
    run_checks(_average_exercise(), lambda s: s.sum(dim=1) / s.shape[1])
    assert capsys.readouterr().out == "✔ 99.average: 1/1 checks passed\n"
    _assert_restored()


@pytest.mark.parametrize("route", ["identity", "module attribute", "package root", "getattr", "importlib",
                                   "partial", "default argument", "closure", "copied code", "class", "subclass"])
def test_every_route_to_the_reference_trips(route):
    import functools

    answers = {
        "identity": consensus.avg_consensus,
        "module attribute": lambda s: consensus.avg_consensus(s),
        "package root": lambda s: course_utils.avg_consensus(s),  # the lazy re-export of course_utils
        "getattr": lambda s: getattr(consensus, "avg_" + "consensus")(s),
        "importlib": lambda s: importlib.import_module("course_utils." + "consensus").avg_consensus(s),
        "partial": functools.partial(consensus.avg_consensus),
        "default argument": lambda s, _mean=consensus.avg_consensus: _mean(s),
        "closure": (lambda mean: lambda s: mean(s))(consensus.avg_consensus),
        "copied code": types.FunctionType(GENUINE_CODE, vars(consensus), "average"),
        "class": lambda s: consensus.AvgConsensus()(s),
        "subclass": lambda s: type("Mine", (consensus.AvgConsensus,), {})()(s),
    }
    _tripped(answers[route])


def test_names_bound_in_the_students_globals_trip_and_are_restored():
    namespace = notebook("""
        from course_utils.consensus import avg_consensus as mean_of
        import course_utils.consensus as c

        def by_name(scores):
            return mean_of(scores)

        def by_module(scores):
            return c.avg_consensus(scores)
    """)
    for answer in (namespace["by_name"], namespace["by_module"]):
        _tripped(answer)
    assert namespace["mean_of"] is GENUINE_FUNCTION


def test_a_materialised_package_attribute_trips_and_is_restored(monkeypatch):
    package = sys.modules["course_utils.non_local"]
    monkeypatch.setitem(vars(package), "pairwise_weights", block_module.pairwise_weights)
    exercise = Exercise("99.weights", "weights", forbidden=[forbid(
        "must compute the weights itself", "course_utils.non_local.block:pairwise_weights")])
    exercise.case("weights")(lambda answer: answer(torch.ones(1, 2, 3), torch.ones(1, 3, 2), "dot"))
    with pytest.raises(CheckFailed, match="it called course_utils.non_local.block.pairwise_weights"):
        run_checks(exercise, lambda t, p, m: vars(package)["pairwise_weights"](t, p, m))
    assert vars(package)["pairwise_weights"] is block_module.pairwise_weights
    assert block_module.pairwise_weights.__code__.co_name == "pairwise_weights"


def test_a_swallowed_tripwire_still_fails_the_case():
    def sneaky(scores):
        try:
            return consensus.avg_consensus(scores)
        except Exception:
            return scores.mean(dim=1)

    _tripped(sneaky)


def test_restored_after_the_students_code_raises_or_is_interrupted():
    with pytest.raises(CheckFailed, match="your code raised ZeroDivisionError"):
        run_checks(_average_exercise(), lambda s: 1 / 0)
    _assert_restored()

    def interrupted(scores):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_checks(_average_exercise(), interrupted)
    _assert_restored()
    with pytest.raises(CheckFailed, match="not implemented yet"):
        run_checks(_average_exercise(), lambda s: (_ for _ in ()).throw(NotImplementedError()))
    _assert_restored()


def test_course_unlocks_nothing_for_the_students_code():
    def helper(scores):  # a checker-style helper that unlocks: harmless when the student's code calls it
        with course():
            return consensus.avg_consensus(scores)

    _tripped(lambda s: helper(s))
    _tripped(helper)  # handed in as the answer itself: the cases receive it marked as the student's


def test_a_method_of_a_fixture_trips():
    exercise = Exercise("99.forward", "forward", forbidden=[forbid(
        "must compute the block's output itself", "course_utils.non_local.block:NonLocalBlock.forward")])
    block = block_module.NonLocalBlock(2, mode="dot").double()
    x = torch.ones(1, 2, 1, 2, 2, dtype=torch.float64)
    exercise.case("forward")(lambda answer: expect_close(answer(block, x), x, what="z"))
    for answer in (lambda b, x: b(x), lambda b, x: b.forward(x), lambda b, x: torch.nn.Module.__call__(b, x),
                   block.forward.__func__):
        with pytest.raises(CheckFailed, match="NonLocalBlock.forward"):
            run_checks(exercise, answer)
    assert vars(block_module.NonLocalBlock)["forward"].__code__.co_name == "forward"
    assert same(block(x), x)  # the block works again


def test_operator_rules_catch_every_route_to_the_operator():
    exercise = Exercise("99.lse", "log-sum-exp", forbidden=[forbid(
        "must write the log-sum-exp itself", "torch:logsumexp", "torch:Tensor.logsumexp",
        ops=("aten::logsumexp",))])
    x = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    expected = torch.logsumexp(x, dim=1)
    exercise.case("lse")(lambda answer: expect_close(answer(x), expected, what="lse"))
    for answer in (lambda t: torch.logsumexp(t, 1), lambda t: t.logsumexp(1),
                   lambda t: torch._C.TensorBase.logsumexp(t, 1), lambda t: torch.ops.aten.logsumexp.default(t, [1]),
                   lambda t: getattr(torch, "logsum" + "exp")(t, 1)):
        with pytest.raises(CheckFailed, match="it called"):
            run_checks(exercise, answer)
    assert torch.logsumexp is torch._C._VariableFunctions.logsumexp and "logsumexp" not in vars(torch.Tensor)

    def by_hand(t):
        logsumexp = t.max(dim=1).values  # a local variable may have any name
        return logsumexp + torch.log(torch.exp(t - logsumexp[:, None]).sum(dim=1))

    run_checks(exercise, by_hand)


def test_checks_do_not_nest():
    inner = _average_exercise()
    exercise = Exercise("99.outer", "outer")
    exercise.case("calls check")(lambda answer: answer())
    with pytest.raises(CheckFailed, match="cannot run while 99.outer is being checked"):
        run_checks(exercise, lambda: run_checks(inner, lambda s: s.mean(1)))
    _assert_restored()


def test_substitutes_are_bound_for_the_check_only():
    namespace = notebook("""
        def wrong_average(scores):
            return scores.sum(dim=1)

        def average(scores):
            return wrong_average(scores)
    """)
    exercise = _average_exercise(substitutes={"wrong_average": lambda s: s.mean(dim=1)})
    run_checks(exercise, namespace["average"])  # graded on its own: the earlier answer is the course's
    assert namespace["wrong_average"](SCORES).shape == (2, 4) and not same(namespace["wrong_average"](SCORES),
                                                                           AVERAGE)


def test_a_course_reference_unlocks_only_where_it_is_a_substitute():
    reference = course_reference(lambda s: consensus.avg_consensus(s), sanitize=lambda s: ((plain(s),), {}))
    namespace = notebook("""
        def average(scores):
            return earlier(scores)
    """, earlier=reference)
    run_checks(_average_exercise(substitutes={"earlier": reference}), namespace["average"])
    _tripped(namespace["average"])  # in a check that does not substitute it, it runs as the student's code


def test_tripwire_targets_and_verification(monkeypatch):
    targets = tripwire_targets(_average_exercise())
    assert [(t.module, t.qualname, t.kind) for t in targets] == [
        ("course_utils.consensus", "avg_consensus", "attribute"), ("course_utils.consensus", "AvgConsensus",
                                                                    "attribute")]
    verify_targets(_average_exercise())
    monkeypatch.setattr(consensus, "avg_consensus", lambda scores: scores.sum(dim=1))
    with pytest.raises(CheckFailed, match="can be trusted.*avg_consensus"):
        run_checks(_average_exercise(), lambda s: s.mean(dim=1))


def test_verification_sees_a_replaced_code_after_a_snapshot(monkeypatch):
    from course_utils.exercises import integrity

    monkeypatch.setattr(integrity, "_SNAPSHOT", {})
    snapshot_targets(["02.pooling_consensus"])
    verify_targets("02.pooling_consensus")
    copy = types.FunctionType(consensus.max_consensus.__code__, vars(consensus), "max_consensus")
    monkeypatch.setattr(consensus, "max_consensus", copy)  # same code, another object
    with pytest.raises(CheckFailed, match="max_consensus was replaced"):
        verify_targets("02.pooling_consensus")


# ------------------------------------------------------------------------------------------ plain values
class _Liar(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class _LyingTensor(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in ("allclose", "equal"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})

    def __eq__(self, other):
        return torch.ones(self.shape, dtype=torch.bool)

    __hash__ = torch.Tensor.__hash__


class _Meta(type):
    def __eq__(cls, other):
        return True

    __hash__ = type.__hash__


def test_plain_strips_every_subclass():
    assert type(plain(_Liar(3))) is int and plain(_Liar(3)) == 3 and not same(_Liar(3), 4)
    assert type(plain(np.int64(7))) is int and type(plain(np.float32(0.5))) is float
    assert type(plain(np.bool_(True))) is bool
    grad_input = torch.ones(3, requires_grad=True)
    lying = (grad_input * 2).as_subclass(_LyingTensor)
    base = plain(lying)
    assert type(base) is torch.Tensor and base.requires_grad
    base.sum().backward()
    assert same(grad_input.grad, torch.full((3,), 2.0))
    assert not same(lying, torch.zeros(3)) and not close(lying, torch.zeros(3))
    array = np.arange(4).view(type("Sub", (np.ndarray,), {"__eq__": lambda self, other: np.ones(4, bool)}))
    assert type(plain(array)) is np.ndarray and not same(array, np.zeros(4))
    assert plain({"a": (np.int64(1), [_Liar(2)])}) == {"a": (1, [2])}
    assert type(plain(torch.Size([2, 3]))) is tuple
    with pytest.raises(Exception) as info:
        plain(_Meta("Odd", (), {})())
    assert type(info.value).__name__ == "CaseFailure"
    with pytest.raises(Exception) as info:  # noqa: B017  (CaseFailure is not importable from the framework API)
        plain(np.array([object()]))
    assert type(info.value).__name__ == "CaseFailure"


def test_comparisons_ignore_patched_library_functions(monkeypatch):
    monkeypatch.setattr(torch, "allclose", lambda *args, **kwargs: True)
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    monkeypatch.setattr(np, "array_equal", lambda *args, **kwargs: True)
    assert not close(torch.zeros(2), torch.ones(2)) and not same(np.zeros(2), np.ones(2))
    with pytest.raises(CheckFailed, match="0/2 checks passed"):
        run_checks(_square_exercise(), lambda x: x * 0)


def test_same_and_close_semantics():
    assert same([1, (2, 3)], (1, [2, 3])) and same(torch.tensor([1, 2]), np.array([1.0, 2.0]))
    assert not same(np.ones(2), np.ones(3)) and not same({"a": 1}, {"a": 1, "b": 2})
    assert close(np.array([1.0, np.inf]), np.array([1.0 + 1e-9, np.inf]))
    assert not close(np.array([np.nan]), np.array([np.nan])) and not close(np.ones(2), np.ones((2, 1)))


# ------------------------------------------------------------------------------------------ captured output
def test_printing_and_warning_answers_pass_with_one_line(capsys):
    def chatty(x):
        print("debug", x)
        warnings.warn("harmless", UserWarning, stacklevel=1)
        sys.stderr.write("to stderr\n")
        return x * x

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_checks(_square_exercise(), chatty)
    captured = capsys.readouterr()
    assert captured.out == "✔ 99.square: 2/2 checks passed\n" and captured.err == ""


def test_a_failing_case_shows_what_the_answer_printed_and_warned():
    def wrong(x):
        print("my intermediate value is", 42)
        warnings.warn("careful", RuntimeWarning, stacklevel=1)
        return x + x

    with pytest.raises(CheckFailed) as info:
        run_checks(_square_exercise(), wrong)
    message = str(info.value)
    assert "your function printed: my intermediate value is 42" in message
    assert "your function warned: RuntimeWarning: careful" in message


def test_long_output_is_trimmed():
    with pytest.raises(CheckFailed) as info:
        run_checks(_square_exercise(), lambda x: print("x" * 5000) or x + x)
    line = next(line for line in str(info.value).splitlines() if "your function printed" in line)
    assert len(line) < 400 and line.endswith("…")


def test_a_decorated_answer_is_still_the_students_code():
    @torch.no_grad()
    def decorated(scores):
        return consensus.avg_consensus(scores)

    _tripped(decorated)

    @torch.no_grad()
    def honest(scores):
        return scores.mean(dim=1)

    run_checks(_average_exercise(), honest)
