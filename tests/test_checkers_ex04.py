"""The notebook 04 checkers accept the solutions and reject deliberately wrong versions (typical mistakes)."""

from __future__ import annotations

import numpy as np
import pytest
from attack_kit import LyingInt, delegation_rejected, gains_nothing, noisy, notebook, passes, rejected
from torch import nn

from course_utils import receptive_field as rf  # the notebook imports from this package
from course_utils.exercises import ex04_networks, ex04_recurrence
from course_utils.exercises.ex04_networks import LATE_FUSION, RF_QUIZ
from course_utils.exercises.ex04_recurrence import RF_RECURRENCE
from course_utils.exercises.framework import CheckFailed, check, run_checks


# ----------------------------------------------------------------------------------------------- 04.rf_recurrence
def make_recurrence(grow=None, *, jump_first=False, start=1, jump_step=None, out=None):
    """Build a recurrence; the defaults give the right one, each argument plants one mistake."""
    grow = grow or (lambda size, k, d, j: size + (k - 1) * d * j)
    jump_step = jump_step or (lambda j, s, d: j * s)

    def rf_recurrence(layers):
        if not layers:
            return []
        ndim = len(layers[0][0])
        size, jump, rows = [start] * ndim, [1] * ndim, []
        for kernel, stride, dilation in layers:
            for i in range(ndim):
                if jump_first:
                    jump[i] = jump_step(jump[i], stride[i], dilation[i])
                    size[i] = grow(size[i], kernel[i], dilation[i], jump[i])
                else:
                    size[i] = grow(size[i], kernel[i], dilation[i], jump[i])
                    jump[i] = jump_step(jump[i], stride[i], dilation[i])
            rows.append(out(size, jump) if out else (tuple(size), tuple(jump)))
        return rows
    return rf_recurrence


rf_recurrence = make_recurrence()

_state = {"size": None}


def stateful(layers):  # keeps its running sizes between calls
    if not layers:
        return []
    ndim = len(layers[0][0])
    if _state["size"] is None:
        _state["size"] = [1] * ndim
    size, jump, rows = _state["size"], [1] * ndim, []
    for kernel, stride, dilation in layers:
        for i in range(ndim):
            size[i] += (kernel[i] - 1) * dilation[i] * jump[i]
            jump[i] *= stride[i]
        rows.append((tuple(size), tuple(jump)))
    return rows


def three_dims_only(layers):
    size, jump, rows = [1, 1, 1], [1, 1, 1], []
    for kernel, stride, dilation in layers:
        for i in range(3):
            size[i] += (kernel[i] - 1) * dilation[i] * jump[i]
            jump[i] *= stride[i]
        rows.append((tuple(size), tuple(jump)))
    return rows


def mutating(layers):
    rows = rf_recurrence(layers)
    layers.reverse()
    return rows


def backward_formula(layers):  # r_in = s * r_out + (k - s), used as if it went forwards
    if not layers:
        return []
    ndim = len(layers[0][0])
    size, jump, rows = [1] * ndim, [1] * ndim, []
    for kernel, stride, dilation in layers:
        for i in range(ndim):
            size[i] = size[i] * stride[i] + (dilation[i] * (kernel[i] - 1) + 1 - stride[i])
            jump[i] *= stride[i]
        rows.append((tuple(size), tuple(jump)))
    return rows


def inputs_jump(layers):  # reports the jump before the layer instead of after it
    rows = rf_recurrence(layers)
    before = [tuple(1 for _ in layers[0][0])] + [jump for _, jump in rows[:-1]] if layers else []
    return [(size, jump) for (size, _), jump in zip(rows, before, strict=False)]


def stub(layers):
    raise NotImplementedError("write rf_recurrence")


WRONG_RECURRENCES = {
    "k-1 without the jump (B.41)": make_recurrence(lambda size, k, d, j: size + (k - 1) * d),
    "jump updated before the size (B.42)": make_recurrence(jump_first=True),
    "dilation ignored (B.44)": make_recurrence(lambda size, k, d, j: size + (k - 1) * j),
    "dilated extent d*k": make_recurrence(lambda size, k, d, j: size + (d * k - 1) * j),
    "k_eff * jump - 1": make_recurrence(lambda size, k, d, j: size + (d * (k - 1) + 1) * j - 1),
    "dilation multiplies the jump": make_recurrence(jump_step=lambda j, s, d: j * s * d),
    "starts from size 0": make_recurrence(start=0),
    "multiplies kernels": make_recurrence(lambda size, k, d, j: size * (d * (k - 1) + 1)),
    "sums kernels": make_recurrence(lambda size, k, d, j: size + d * (k - 1) + 1),
    "backward formula run forwards": lambda layers: backward_formula(layers),
    "float division": make_recurrence(lambda size, k, d, j: size + (k - 1) * d * j / 1),
    "dimensions reversed": make_recurrence(out=lambda size, jump: (tuple(size[::-1]), tuple(jump[::-1]))),
    "returns sizes only": make_recurrence(out=lambda size, jump: tuple(size)),
    "returns the input's jump": lambda layers: inputs_jump(layers),
    "keeps state between calls": stateful,
    "assumes three dimensions": three_dims_only,
    "modifies its argument": mutating,
}


def test_recurrence_solution_passes(capsys):
    run_checks(RF_RECURRENCE, rf_recurrence)
    total = len(RF_RECURRENCE.cases)
    assert capsys.readouterr().out == f"✔ 04.rf_recurrence: {total}/{total} checks passed\n"


@pytest.mark.parametrize("name", list(WRONG_RECURRENCES))
def test_recurrence_mistakes_are_rejected(name):
    _state["size"] = None
    with pytest.raises(CheckFailed) as info:
        run_checks(RF_RECURRENCE, WRONG_RECURRENCES[name])
    assert "not implemented" not in str(info.value)


def test_recurrence_hints_name_the_mistake():
    with pytest.raises(CheckFailed, match="pooling made neighbours 4 pixels apart"):
        run_checks(RF_RECURRENCE, WRONG_RECURRENCES["k-1 without the jump (B.41)"])
    with pytest.raises(CheckFailed, match="jump of the layer's input first"):
        run_checks(RF_RECURRENCE, WRONG_RECURRENCES["jump updated before the size (B.42)"])
    with pytest.raises(CheckFailed, match=r"d \* \(k - 1\) \+ 1"):
        run_checks(RF_RECURRENCE, WRONG_RECURRENCES["dilation ignored (B.44)"])


def test_stub_is_not_implemented():
    with pytest.raises(CheckFailed, match="not implemented yet"):
        check("04.rf_recurrence", stub)


# ----------------------------------------------------------------------------------------- 04.late_fusion_example
def late_fusion(conv=(1, 3, 3), pool=(1, 4, 4), pool_stride=None, padding=1, last=None, channels=6):
    pad = tuple(k // 2 if padding else 0 for k in conv)
    return nn.Sequential(
        nn.Conv3d(3, channels, conv, padding=pad), nn.ReLU(),
        nn.MaxPool3d(pool, stride=pool_stride or pool),
        nn.Conv3d(channels, channels, conv, padding=pad), nn.ReLU(),
        *([nn.AdaptiveAvgPool3d(1)] if last is None else last),
    )


class Wrapped(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = late_fusion()

    def forward(self, x):
        return self.body(x)


GOOD_NETWORKS = {
    "lecture layers": late_fusion,
    "AvgPool3d over the whole clip, nested, no ReLU": lambda: nn.Sequential(
        nn.Sequential(nn.Conv3d(3, 4, (1, 3, 3), padding=(0, 1, 1)), nn.MaxPool3d((1, 4, 4))),
        nn.Conv3d(4, 5, (1, 3, 3), padding=(0, 1, 1)), nn.AvgPool3d((20, 16, 16))),
}
WRONG_NETWORKS = {
    "pool stride 1": lambda: late_fusion(pool_stride=(1, 1, 1)),
    "3x3x3 convolutions mix frames early": lambda: late_fusion(conv=(3, 3, 3)),
    "no padding: the pool drops border pixels": lambda: late_fusion(padding=0),
    "no global pooling": lambda: late_fusion(last=[]),
    "global max pooling": lambda: late_fusion(last=[nn.AdaptiveMaxPool3d(1)]),
    "flatten and linear at the end": lambda: late_fusion(last=[nn.AdaptiveAvgPool3d(1), nn.Flatten(),
                                                               nn.Linear(6, 2)]),
    "2x2 pooling": lambda: late_fusion(pool=(1, 2, 2)),
    "5x5 convolutions": lambda: late_fusion(conv=(1, 5, 5)),
    "temporal pooling early": lambda: late_fusion(pool=(2, 4, 4)),
    "custom module": Wrapped,
    "returns the class": lambda: nn.Sequential,
    "stride-4 convolution instead of pooling": lambda: nn.Sequential(
        nn.Conv3d(3, 4, (1, 3, 3), padding=(0, 1, 1)), nn.Conv3d(4, 4, (1, 4, 4), stride=(1, 4, 4)),
        nn.Conv3d(4, 4, (1, 3, 3), padding=(0, 1, 1)), nn.AdaptiveAvgPool3d(1)),
}


@pytest.mark.parametrize("name", list(GOOD_NETWORKS))
def test_late_fusion_solutions_pass(name, capsys):
    run_checks(LATE_FUSION, GOOD_NETWORKS[name])
    assert capsys.readouterr().out.startswith("✔ 04.late_fusion_example:")


@pytest.mark.parametrize("name", list(WRONG_NETWORKS))
def test_late_fusion_mistakes_are_rejected(name):
    with pytest.raises(CheckFailed) as info:
        run_checks(LATE_FUSION, WRONG_NETWORKS[name])
    assert "not implemented" not in str(info.value)


def test_late_fusion_hints():
    with pytest.raises(CheckFailed, match="pad by 1"):
        run_checks(LATE_FUSION, WRONG_NETWORKS["no padding: the pool drops border pixels"])
    with pytest.raises(CheckFailed, match="temporal kernel 1"):
        run_checks(LATE_FUSION, WRONG_NETWORKS["3x3x3 convolutions mix frames early"])
    with pytest.raises(CheckFailed, match="stride 4"):
        run_checks(LATE_FUSION, WRONG_NETWORKS["pool stride 1"])


# --------------------------------------------------------------------------------------------------- 04.rf_quiz
QUIZ_LAYERS = [((3, 7, 7), (1, 2, 2), (1, 1, 1)), ((1, 3, 3), (1, 2, 2), (1, 1, 1)), ((3, 3, 3), (1, 1, 1), (1, 1, 1)),
               ((2, 2, 2), (2, 2, 2), (1, 1, 1)), ((3, 3, 3), (1, 1, 1), (2, 1, 1))]


def rf_quiz_answers():
    return {"conv2": (5, 19, 19), "conv3": (14, 39, 39), "jump_conv3": (2, 8, 8)}


def quiz_from(recurrence):
    rows = recurrence(QUIZ_LAYERS)
    return lambda: {"conv2": tuple(rows[2][0]), "conv3": tuple(rows[4][0]), "jump_conv3": tuple(rows[4][1])}


def test_quiz_solution_passes(capsys):
    check("04.rf_quiz", rf_quiz_answers)
    assert capsys.readouterr().out == f"✔ 04.rf_quiz: {len(RF_QUIZ.cases)}/{len(RF_QUIZ.cases)} checks passed\n"
    check("04.rf_quiz", quiz_from(rf_recurrence))  # the right recurrence answers the quiz
    check("04.rf_quiz", lambda: {"conv2": [5, 19, 19], "conv3": [14, 39, 39], "jump_conv3": [2, 8, 8]})


@pytest.mark.parametrize("name", [n for n in WRONG_RECURRENCES if n not in (
    "returns sizes only", "keeps state between calls", "modifies its argument", "float division",
    "returns the input's jump", "assumes three dimensions")])  # these are not about a 3D network's numbers
def test_quiz_rejects_answers_from_wrong_recurrences(name):
    _state["size"] = None
    with pytest.raises(CheckFailed):
        check("04.rf_quiz", quiz_from(WRONG_RECURRENCES[name]))


@pytest.mark.parametrize("answer", [
    {"conv2": (19, 19, 5), "conv3": (39, 39, 14), "jump_conv3": (8, 8, 2)},        # (w, h, t)
    {"conv2": (5, 19, 19), "conv3": (10, 39, 39), "jump_conv3": (2, 8, 8)},        # dilation ignored in conv3
    {"conv2": (7, 23, 23), "conv3": (16, 43, 43), "jump_conv3": (2, 8, 8)},        # padding added to the field
    {"conv2": (5, 19, 19), "conv3": (14, 39, 39), "jump_conv3": (4, 8, 8)},        # dilation in the jump
    {"conv2": (5, 19, 19), "conv3": (14, 39, 39)},                                 # key missing
    {"conv2": (5, 19, 19), "conv3": (14, 39, 39), "jump_conv3": (2.0, 8.0, 8.0)},  # floats
    {"conv2": "5x19x19", "conv3": (14, 39, 39), "jump_conv3": (2, 8, 8)},          # a string
    ((5, 19, 19), (14, 39, 39), (2, 8, 8)),                                        # not a dict
])
def test_quiz_rejects_wrong_answers(answer):
    with pytest.raises(CheckFailed):
        check("04.rf_quiz", lambda: answer)


def test_quiz_hints():
    with pytest.raises(CheckFailed, match=r"order \(t, h, w\)"):
        check("04.rf_quiz", lambda: {"conv2": (19, 19, 5), "conv3": (39, 39, 14), "jump_conv3": (8, 8, 2)})
    with pytest.raises(CheckFailed, match="dilation x jump"):
        check("04.rf_quiz", lambda: {"conv2": (5, 19, 19), "conv3": (10, 39, 39), "jump_conv3": (2, 8, 8)})


def test_quiz_markdown_describes_the_checked_network():
    import ast
    import json
    from pathlib import Path

    from course_utils.exercises.ex04_networks import QUIZ_INPUT_SHAPE, quiz_network

    notebook = json.loads((Path(__file__).resolve().parents[1] / "solutions" / "04_receptive_fields.ipynb")
                          .read_text(encoding="utf-8"))
    text = next("".join(cell["source"]) for cell in notebook["cells"]
                if cell["cell_type"] == "markdown" and "| conv1 |" in "".join(cell["source"]))
    assert r"3\times16\times112\times112" in text and QUIZ_INPUT_SHAPE == (3, 16, 112, 112)
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] in ("conv1", "pool1", "conv2", "pool2", "conv3"):
            values = [ast.literal_eval(v) for v in cells[2:]]
            rows[cells[0]] = (cells[1], *(v if isinstance(v, tuple) else (v,) * 3 for v in values))
    net = dict(quiz_network().named_children())
    assert set(rows) == {"conv1", "pool1", "conv2", "pool2", "conv3"}
    for name, (kind, kernel, stride, padding, dilation) in rows.items():
        layer = net[name]

        def triple(v):
            return v if isinstance(v, tuple) else (v,) * 3

        assert type(layer).__name__ == kind
        assert (triple(layer.kernel_size), triple(layer.stride), triple(layer.padding),
                triple(layer.dilation)) == (kernel, stride, padding, dilation), name


# ---------------------------------------------------------------- delegation, lying objects, honest variants
def _measured_recurrence(layers):
    """The recurrence read off the course's receptive_field on an equivalent stack of convolutions."""
    return ex04_recurrence.reference_fields(layers)


def _by_receptive_field(layers):
    if not layers:
        return []
    ndim = len(layers[0][0])
    conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[ndim]
    net = nn.Sequential(*(conv(1, 1, k, stride=s, dilation=d) for k, s, d in layers))
    field = rf.receptive_field(net, (1, *(64,) * ndim))
    return [(row.size, row.jump) for row in field.layers]


@pytest.mark.parametrize("answer", [_measured_recurrence, _by_receptive_field,
                                    lambda layers: getattr(rf, "receptive_" + "field") and _by_receptive_field(layers),
                                    ex04_recurrence.REFERENCE_RF_RECURRENCE],
                         ids=["checker helper", "receptive_field", "getattr", "the substitute outside its check"])
def test_recurrence_delegation_scores_zero(answer):
    message = rejected("04.rf_recurrence", answer, match="04.rf_recurrence must run the recurrence itself; it called "
                                                         "course_utils.receptive_field.analytic.receptive_field")
    assert " 0/" in message.splitlines()[0] or "empty stack" in message


def test_late_fusion_delegation_scores_zero():
    for answer in (rf.late_fusion_net, lambda: rf.late_fusion_net(), lambda: getattr(rf, "late_fusion_" + "net")()):
        delegation_rejected("04.late_fusion_example", answer, called="designs.late_fusion_net")


def _quiz_by_measurement():
    field = rf.receptive_field(ex04_networks.quiz_network(), ex04_networks.QUIZ_INPUT_SHAPE)
    rows = {row.name: row for row in field.layers}
    return {"conv2": rows["conv2"].size, "conv3": rows["conv3"].size, "jump_conv3": rows["conv3"].jump}


@pytest.mark.parametrize("answer", [_quiz_by_measurement, ex04_networks._quiz_expected,
                                    lambda: ex04_networks._quiz_expected(),
                                    lambda: {"conv2": rf.empirical_receptive_field(
                                        ex04_networks.quiz_network()[:4], (3, 16, 112, 112)), "conv3": (14, 39, 39),
                                        "jump_conv3": (2, 8, 8)}],
                         ids=["receptive_field", "checker helper", "checker helper in a lambda", "empirical"])
def test_quiz_delegation_scores_zero(answer):
    delegation_rejected("04.rf_quiz", answer, called="course_utils.receptive_field.")


def test_lying_numbers_gain_nothing():
    gains_nothing("04.rf_quiz", lambda: {key: tuple(LyingInt(0) for _ in range(3))
                                         for key in ("conv2", "conv3", "jump_conv3")},
                  lambda: {key: (0, 0, 0) for key in ("conv2", "conv3", "jump_conv3")})
    liar = make_recurrence(out=lambda size, jump: (tuple(LyingInt(0) for _ in size), tuple(LyingInt(0) for _ in jump)))
    zeros = make_recurrence(out=lambda size, jump: ((0,) * len(size), (0,) * len(jump)))
    gains_nothing("04.rf_recurrence", liar, zeros)


def test_numpy_integers_are_accepted_everywhere():
    as_numpy = make_recurrence(out=lambda size, jump: (tuple(np.int64(v) for v in size),
                                                       tuple(np.int32(v) for v in jump)))
    passes("04.rf_recurrence", as_numpy)
    passes("04.rf_quiz", lambda: {key: tuple(np.int64(v) for v in value) for key, value in rf_quiz_answers().items()})
    passes("04.rf_quiz", lambda: {key: np.array(value) for key, value in rf_quiz_answers().items()})


def test_honest_variants_pass():
    passes("04.rf_recurrence", noisy(rf_recurrence))
    passes("04.late_fusion_example", noisy(late_fusion))
    passes("04.rf_quiz", noisy(rf_quiz_answers))


def test_the_quiz_is_graded_on_its_own_when_it_uses_a_wrong_recurrence():
    cells = notebook("""
        def rf_recurrence(layers):
            size, jump, rows = [1, 1, 1], [1, 1, 1], []
            for kernel, stride, dilation in layers:
                for i in range(3):
                    size[i] += kernel[i] - 1  # wrong: forgets the jump and the dilation
                    jump[i] *= stride[i]
                rows.append((tuple(size), tuple(jump)))
            return rows

        def rf_quiz_answers():
            rows = rf_recurrence(QUIZ_LAYERS)
            return {"conv2": rows[2][0], "conv3": rows[4][0], "jump_conv3": rows[4][1]}
    """, QUIZ_LAYERS=QUIZ_LAYERS)
    rejected("04.rf_recurrence", cells["rf_recurrence"])
    passes("04.rf_quiz", cells["rf_quiz_answers"])


def test_the_course_reference_meets_every_case_without_tripwires():
    for case in RF_RECURRENCE.cases:
        case.run(ex04_recurrence.reference_fields)
    for case in LATE_FUSION.cases:
        case.run(rf.late_fusion_net)
