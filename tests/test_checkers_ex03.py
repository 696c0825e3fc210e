"""The checkers of notebook 03 accept student-style solutions and reject deliberately wrong versions.

The wrong versions are the typical student mistakes for inflation (a number in the id labels each), plus others.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from attack_kit import (
    LyingFloat,
    LyingTensor,
    delegation_rejected,
    gains_nothing,
    noisy,
    notebook,
    passes,
    rejected,
)
from torch import nn

from course_utils import inflation as inflation_package  # the notebook's own import
from course_utils.exercises import ex03_inflate_model
from course_utils.exercises.framework import CheckFailed, check, get_exercise
from course_utils.inflation import fixed_point
from course_utils.inflation import inflate as inflation
from course_utils.inflation.fixed_point import boring_video, boring_video_difference


# ------------------------------------------------------------------------------------------- 03.inflate_conv
def inflate_conv_variant(conv2d, time_kernel, *, divisor="kt", axis_last=False, bias_div=False, view=False,
                         in_place=False, time_padding="half", padding_mode="zeros", stride="spatial",
                         dilation=True, groups=True, padding=True, init="mean", same_dtype=True):
    """A student-style inflate_conv; the default keywords give the solution, each other value one mistake."""
    kt = time_kernel
    kh, kw = conv2d.kernel_size
    w2 = conv2d.weight.data
    div = {"kt": kt, "kt_kh_kw": kt * kh * kw, "in_channels": conv2d.in_channels, "sqrt": kt ** 0.5, "none": 1}
    pad_t = {"half": kt // 2, "zero": 0, "kt": kt, "one": 1}[time_padding]
    kernel = (kh, kw, kt) if axis_last else (kt, kh, kw)
    strides = {"spatial": (1, *conv2d.stride), "all": (conv2d.stride[0],) * 3, "none": (1, 1, 1)}[stride]
    spatial_padding = tuple(conv2d.padding) if padding else (0, 0)
    padding3 = (*spatial_padding, pad_t) if axis_last else (pad_t, *spatial_padding)
    conv3d = nn.Conv3d(conv2d.in_channels, conv2d.out_channels, kernel, stride=strides, padding=padding3,
                       dilation=(1, *conv2d.dilation) if dilation else 1,
                       groups=conv2d.groups if groups else 1, bias=conv2d.bias is not None,
                       padding_mode=padding_mode,
                       dtype=w2.dtype if same_dtype else torch.float32)
    if in_place:
        weight = w2.div_(div[divisor]).unsqueeze(2).expand(-1, -1, kt, -1, -1)
    elif axis_last:
        weight = w2.unsqueeze(-1).repeat(1, 1, 1, 1, kt) / div[divisor]
    elif init == "center":
        weight = torch.zeros_like(conv3d.weight)
        weight[:, :, kt // 2] = w2
    else:
        weight = w2.unsqueeze(2).repeat(1, 1, kt, 1, 1) / div[divisor]
    if view:
        conv3d.weight = nn.Parameter((w2 / div[divisor]).unsqueeze(2).expand(-1, -1, kt, -1, -1))
    else:
        with torch.no_grad():
            conv3d.weight.copy_(weight)
    if conv2d.bias is not None:
        with torch.no_grad():
            conv3d.bias.copy_(conv2d.bias / (kt if bias_div else 1))
    return conv3d


def test_inflate_conv_accepts_the_solution(capsys):
    check("03.inflate_conv", inflate_conv_variant)
    assert capsys.readouterr().out == "✔ 03.inflate_conv: 7/7 checks passed\n"


WRONG_CONVS = {
    "32_forgot_divide_by_kt": dict(divisor="none"),
    "33_divide_by_kt_kh_kw": dict(divisor="kt_kh_kw"),
    "33_divide_by_in_channels": dict(divisor="in_channels"),
    "33_divide_by_sqrt_kt": dict(divisor="sqrt"),
    "34_time_axis_last": dict(axis_last=True),
    "36_bias_divided_by_kt": dict(bias_div=True),
    "expand_view_shares_slices": dict(view=True),
    "in_place_division_changes_the_2d_layer": dict(in_place=True),
    "no_time_padding": dict(time_padding="zero"),
    "time_padding_kt": dict(time_padding="kt"),
    "time_padding_always_one": dict(time_padding="one"),
    "replicate_padding_everywhere": dict(padding_mode="replicate"),
    "stride_applied_to_time": dict(stride="all"),
    "stride_forgotten": dict(stride="none"),
    "dilation_forgotten": dict(dilation=False),
    "spatial_padding_forgotten": dict(padding=False),
    "center_init_instead_of_mean": dict(init="center"),
    "float32_weights": dict(same_dtype=False),
}


@pytest.mark.parametrize("mistake", sorted(WRONG_CONVS))
def test_inflate_conv_rejects(mistake, capsys):
    options = WRONG_CONVS[mistake]

    def wrong(conv2d, time_kernel):
        return inflate_conv_variant(conv2d, time_kernel, **options)

    with pytest.raises(CheckFailed):
        check("03.inflate_conv", wrong)
    assert capsys.readouterr().out == ""


def test_inflate_conv_rejects_groups_forgotten():
    def wrong(conv2d, time_kernel):
        if conv2d.groups == 1:
            return inflate_conv_variant(conv2d, time_kernel)
        # a student who ignores groups builds a dense kernel and fills it from the grouped one: channels mix
        conv3d = nn.Conv3d(conv2d.in_channels, conv2d.out_channels, (time_kernel, *conv2d.kernel_size),
                           stride=(1, *conv2d.stride), padding=(time_kernel // 2, *conv2d.padding),
                           dilation=(1, *conv2d.dilation), dtype=conv2d.weight.dtype)
        with torch.no_grad():
            w = conv2d.weight.unsqueeze(2).repeat(1, 1, time_kernel, 1, 1) / time_kernel  # (O, C/g, Kt, kh, kw)
            conv3d.weight.copy_(w.repeat(1, conv2d.groups, 1, 1, 1))  # (O, C, Kt, kh, kw)
            conv3d.bias.copy_(conv2d.bias)
        return conv3d

    with pytest.raises(CheckFailed, match="groups"):
        check("03.inflate_conv", wrong)


def test_inflate_conv_failure_messages_name_the_mistake():
    with pytest.raises(CheckFailed, match="divide by Kt"):
        check("03.inflate_conv", lambda c, kt: inflate_conv_variant(c, kt, divisor="none"))
    with pytest.raises(CheckFailed, match="do not divide it by Kt"):
        check("03.inflate_conv", lambda c, kt: inflate_conv_variant(c, kt, bias_div=True))
    with pytest.raises(CheckFailed, match="expand"):
        check("03.inflate_conv", lambda c, kt: inflate_conv_variant(c, kt, view=True))


def test_inflate_conv_stub_is_not_implemented():
    def stub(conv2d, time_kernel):
        raise NotImplementedError("exercise 03.inflate_conv")

    with pytest.raises(CheckFailed, match="not implemented yet"):
        check("03.inflate_conv", stub)


# ------------------------------------------------------------------------------------------ 03.inflate_model
def inflate_bn_variant(bn2d, *, stats=True, options=True, counter=True, fresh=False):
    """A student-style BatchNorm inflation; the defaults copy everything."""
    kwargs = dict(eps=bn2d.eps, momentum=bn2d.momentum, affine=bn2d.affine,
                  track_running_stats=bn2d.track_running_stats) if options else {}
    bn3d = nn.BatchNorm3d(bn2d.num_features, dtype=torch.float64, **kwargs)
    if fresh:
        return bn3d
    with torch.no_grad():
        if bn2d.affine and bn3d.affine:
            bn3d.weight.copy_(bn2d.weight)
            bn3d.bias.copy_(bn2d.bias)
        if stats and bn2d.track_running_stats and bn3d.track_running_stats:
            bn3d.running_mean.copy_(bn2d.running_mean)
            bn3d.running_var.copy_(bn2d.running_var)
            if counter:
                bn3d.num_batches_tracked.copy_(bn2d.num_batches_tracked)
    return bn3d


def inflate_model_variant(model2d, *, time_kernel=3, time_padding_mode="zeros", deep_copy=True, recurse=True,
                          pools=True, bn=None, callable_ok=True, pass_mode=True, head="keep"):
    """A student-style inflate_model; the default keywords give the solution, each other value one mistake."""
    bn = bn or {}
    model = copy.deepcopy(model2d) if deep_copy else model2d

    def kernel(name, layer):
        if not callable(time_kernel):
            return time_kernel
        return time_kernel(name, layer) if callable_ok else time_kernel(layer, name)

    def walk(module, prefix):
        for child_name, child in list(module.named_children()):
            name = f"{prefix}.{child_name}" if prefix else child_name
            if isinstance(child, nn.Conv2d):
                mode = time_padding_mode if pass_mode else "zeros"
                new = inflation.inflate_conv(child, kernel(name, child), time_padding_mode=mode)
            elif isinstance(child, nn.BatchNorm2d):
                new = inflate_bn_variant(child, **bn)
            elif pools and isinstance(child, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
                new = inflation.inflate_pool(child)
            elif isinstance(child, nn.Linear) and head == "fresh":
                new = nn.Linear(child.in_features, child.out_features, dtype=torch.float64)
            else:
                if recurse:
                    walk(child, name)
                continue
            setattr(module, child_name, new)

    walk(model, "")
    return model


def test_inflate_model_accepts_the_solution(capsys):
    check("03.inflate_model", inflate_model_variant)
    assert capsys.readouterr().out == "✔ 03.inflate_model: 8/8 checks passed\n"


WRONG_MODELS = {
    "no_deep_copy_changes_the_2d_model": dict(deep_copy=False),
    "top_level_only": dict(recurse=False),
    "pooling_left_2d": dict(pools=False),
    "37_bn_without_running_stats": dict(bn=dict(stats=False)),
    "37_bn_reinitialised": dict(bn=dict(fresh=True)),
    "bn_without_eps_and_momentum": dict(bn=dict(options=False)),
    "bn_without_num_batches_tracked": dict(bn=dict(counter=False)),
    "time_kernel_function_called_with_swapped_arguments": dict(callable_ok=False),
    "time_padding_mode_ignored": dict(pass_mode=False),
    "head_reinitialised": dict(head="fresh"),
}


@pytest.mark.parametrize("mistake", sorted(WRONG_MODELS))
def test_inflate_model_rejects(mistake, capsys):
    options = WRONG_MODELS[mistake]

    def wrong(model2d, *, time_kernel=3, time_padding_mode="zeros"):
        return inflate_model_variant(model2d, time_kernel=time_kernel, time_padding_mode=time_padding_mode,
                                     **options)

    with pytest.raises(CheckFailed):
        check("03.inflate_model", wrong)
    assert capsys.readouterr().out == ""


def test_inflate_model_rejects_replicate_by_default():
    def wrong(model2d, *, time_kernel=3, time_padding_mode="replicate"):
        return inflate_model_variant(model2d, time_kernel=time_kernel, time_padding_mode=time_padding_mode)

    with pytest.raises(CheckFailed, match="default"):
        check("03.inflate_model", wrong)


def test_inflate_model_rejects_a_callable_time_kernel_that_is_ignored():
    def wrong(model2d, *, time_kernel=3, time_padding_mode="zeros"):
        kt = 3 if callable(time_kernel) else time_kernel
        return inflate_model_variant(model2d, time_kernel=kt, time_padding_mode=time_padding_mode)

    with pytest.raises(CheckFailed, match="time_kernel"):
        check("03.inflate_model", wrong)


def test_inflate_model_bn_message_mentions_running_statistics():
    def wrong(model2d, *, time_kernel=3, time_padding_mode="zeros"):
        return inflate_model_variant(model2d, time_kernel=time_kernel, time_padding_mode=time_padding_mode,
                                     bn=dict(stats=False))

    with pytest.raises(CheckFailed, match="running statistics"):
        check("03.inflate_model", wrong)


# ------------------------------------------------------------------------------------- 03.boring_video_check
def boring_video_check_variant(model2d, model3d, images, num_frames, *, eval_mode=True, reduce="max",
                               frames="all", first_video=False, signed=False, average_frames=False, as_float=True,
                               wrong_frames=False):
    """A student-style boring_video_check; the default keywords give the solution, each other value one mistake."""
    if eval_mode:
        model2d.eval()
        model3d.eval()
    with torch.no_grad():
        out2 = model2d(images)
        out3 = model3d(boring_video(images, num_frames + 1 if wrong_frames else num_frames))
    if out3.dim() == out2.dim() + 1:
        if average_frames:
            out3 = out3.mean(2)
        else:
            out2 = out2.unsqueeze(2)
            if frames == "border":
                out3 = out3[:, :, [0, -1]]
            elif frames == "interior":
                out3 = out3[:, :, 1:-1]
    diff = out3 - out2
    if first_video:
        diff = diff[:1]
    if not signed:
        diff = diff.abs()
    value = diff.max() if reduce == "max" else diff.mean()
    return value.item() if as_float else value


def test_boring_video_check_accepts_the_solution(capsys):
    check("03.boring_video_check", boring_video_check_variant)
    assert capsys.readouterr().out == "✔ 03.boring_video_check: 4/4 checks passed\n"


WRONG_CHECKS = {
    "mean_instead_of_max": dict(reduce="mean"),
    "train_mode_outputs": dict(eval_mode=False),
    "border_frames_only": dict(frames="border"),
    "interior_frames_only": dict(frames="interior"),
    "first_video_only": dict(first_video=True),
    "signed_difference": dict(signed=True),
    "frames_averaged_before_comparing": dict(average_frames=True),
    "returns_a_tensor": dict(as_float=False),
    "wrong_number_of_frames": dict(wrong_frames=True),
}


@pytest.mark.parametrize("mistake", sorted(WRONG_CHECKS))
def test_boring_video_check_rejects(mistake, capsys):
    options = WRONG_CHECKS[mistake]

    def wrong(model2d, model3d, images, num_frames):
        return boring_video_check_variant(model2d, model3d, images, num_frames, **options)

    with pytest.raises(CheckFailed):
        check("03.boring_video_check", wrong)
    assert capsys.readouterr().out == ""


def test_boring_video_check_train_mode_message_says_eval():
    def wrong(model2d, model3d, images, num_frames):
        return boring_video_check_variant(model2d, model3d, images, num_frames, eval_mode=False)

    with pytest.raises(CheckFailed, match=r"eval\(\)"):
        check("03.boring_video_check", wrong)


# ---------------------------------------------------------------- the course's references, delegation, lying objects
@pytest.mark.parametrize(("exercise_id", "reference"), [("03.inflate_conv", inflation.inflate_conv),
                                                        ("03.inflate_model", inflation.inflate_model),
                                                        ("03.boring_video_check", boring_video_difference)])
def test_the_course_reference_meets_every_case_without_tripwires(exercise_id, reference):
    for case in get_exercise(exercise_id).cases:  # the cases alone, outside run_checks: no tripwire is installed
        case.run(reference)


INFLATE_CONV_DELEGATIONS = {
    "the reference itself": (inflation.inflate_conv, "inflate.inflate_conv"),
    "the notebook's `inflation` package": (lambda c, kt: inflation_package.inflate_conv(c, kt), "inflate_conv"),
    "the course's weight inflation": (lambda c, kt: _conv_from_weight(c, kt), "inflate.inflate_weight"),
    "a one-layer inflate_model": (lambda c, kt: inflation_package.inflate_model(nn.Sequential(c), time_kernel=kt)[0],
                                  "inflate.inflate_model"),
    "getattr with a computed name": (lambda c, kt: getattr(inflation_package, "inflate_" + "conv")(c, kt),
                                     "inflate_conv"),
}


def _conv_from_weight(conv2d, time_kernel):
    conv3d = inflate_conv_variant(conv2d, time_kernel)
    with torch.no_grad():
        conv3d.weight.copy_(inflation_package.inflate_weight(conv2d.weight.detach(), time_kernel))
    return conv3d


@pytest.mark.parametrize("name", sorted(INFLATE_CONV_DELEGATIONS))
def test_inflate_conv_delegation_scores_zero(name):
    answer, called = INFLATE_CONV_DELEGATIONS[name]
    delegation_rejected("03.inflate_conv", answer, called=called)


def _model_with_course_batchnorm(model2d, *, time_kernel=3, time_padding_mode="zeros"):
    model = copy.deepcopy(model2d)
    for name, child in list(model.named_children()):
        if isinstance(child, nn.BatchNorm2d):
            setattr(model, name, inflation_package.inflate_batchnorm(child))
    return inflate_model_variant(model, time_kernel=time_kernel, time_padding_mode=time_padding_mode)


@pytest.mark.parametrize("answer", [inflation.inflate_model,
                                    lambda m, **kw: inflation_package.inflate_model(m, **kw),
                                    _model_with_course_batchnorm], ids=["reference", "lambda", "batchnorm"])
def test_inflate_model_delegation_scores_zero(answer):
    rejected("03.inflate_model", answer, match="03.inflate_model must walk the network and inflate its layers itself; "
                                               "it called course_utils.inflation.inflate.inflate_")


BORING_DELEGATIONS = {
    "the reference itself": boring_video_difference,
    "the per-frame version": lambda m2, m3, x, t: float(
        fixed_point.per_frame_difference(m2, m3, x, t, relative=False).max()),
    "the notebook's import": lambda m2, m3, x, t: inflation_package.boring_video_difference(m2, m3, x, t),
    "the checker's own helper": lambda m2, m3, x, t: ex03_inflate_model._fixed_point_gap(m2, m3, x, t).abs()
    .max().item(),
}


@pytest.mark.parametrize("name", sorted(BORING_DELEGATIONS))
def test_boring_video_check_delegation_scores_zero(name):
    delegation_rejected("03.boring_video_check", BORING_DELEGATIONS[name], called="fixed_point.")


def test_lying_objects_gain_nothing():
    gains_nothing("03.boring_video_check", lambda m2, m3, x, t: LyingFloat(0.5), lambda m2, m3, x, t: 0.5)

    def lying_conv(conv2d, time_kernel):
        conv3d = inflate_conv_variant(conv2d, time_kernel, divisor="none")
        conv3d.weight = nn.Parameter(conv3d.weight.detach().as_subclass(LyingTensor))
        return conv3d

    gains_nothing("03.inflate_conv", lying_conv, lambda c, kt: inflate_conv_variant(c, kt, divisor="none"))


def test_honest_variants_pass():
    passes("03.inflate_conv", noisy(inflate_conv_variant))
    passes("03.inflate_model", noisy(inflate_model_variant))
    passes("03.boring_video_check", noisy(boring_video_check_variant))

    def with_a_torch_warning(model2d, model3d, images, num_frames):
        value = boring_video_check_variant(model2d, model3d, images, num_frames, as_float=False)
        return float(torch.tensor(value))  # UserWarning: copy-constructing a tensor from a tensor

    def as_numpy_scalar(model2d, model3d, images, num_frames):
        return np.float64(boring_video_check_variant(model2d, model3d, images, num_frames))

    passes("03.boring_video_check", with_a_torch_warning)
    passes("03.boring_video_check", as_numpy_scalar)

    def stacked_slices(conv2d, time_kernel):  # the inflated weight built slice by slice
        conv3d = inflate_conv_variant(conv2d, time_kernel)
        with torch.no_grad():
            slices = [conv2d.weight / time_kernel for _ in range(time_kernel)]
            conv3d.weight.copy_(torch.stack(slices, dim=2))
        return conv3d

    passes("03.inflate_conv", stacked_slices)


def test_inflate_model_is_graded_on_its_own_when_it_calls_a_wrong_inflate_conv():
    cells = notebook("""
        import copy
        from torch import nn

        def inflate_conv(conv2d, time_kernel, *, time_padding_mode="zeros"):
            return reference(conv2d, time_kernel, time_padding_mode=time_padding_mode, divisor="none")  # wrong

        def inflate_model(model2d, *, time_kernel=3, time_padding_mode="zeros"):
            return model_variant(model2d, time_kernel=time_kernel, time_padding_mode=time_padding_mode,
                                 convert=inflate_conv)
    """, reference=_wrong_inflate_conv, model_variant=_model_using)
    rejected("03.inflate_conv", cells["inflate_conv"])
    passes("03.inflate_model", cells["inflate_model"])


def _wrong_inflate_conv(conv2d, time_kernel, *, time_padding_mode="zeros", divisor="kt"):
    conv3d = inflation.inflate_conv(conv2d, time_kernel, time_padding_mode=time_padding_mode)
    with torch.no_grad():
        weight = conv3d.weight * (time_kernel if divisor == "none" else 1)
        conv3d.weight.copy_(weight)
    return conv3d


def _model_using(model2d, *, time_kernel, time_padding_mode, convert):
    model = copy.deepcopy(model2d)

    def walk(module, prefix):
        for child_name, child in list(module.named_children()):
            name = f"{prefix}.{child_name}" if prefix else child_name
            if isinstance(child, nn.Conv2d):
                kt = time_kernel(name, child) if callable(time_kernel) else time_kernel
                setattr(module, child_name, convert(child, kt, time_padding_mode=time_padding_mode))
            elif isinstance(child, nn.BatchNorm2d):
                setattr(module, child_name, inflate_bn_variant(child))
            elif isinstance(child, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
                setattr(module, child_name, inflation.inflate_pool(child))
            else:
                walk(child, name)

    walk(model, "")
    return model
