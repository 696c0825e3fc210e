"""NonLocalBlock: naive and fast agree (forward and backward), identity at init, equivariance, bad inputs."""

from __future__ import annotations

import pytest
import torch

from course_utils.non_local.block import MODES, NonLocalBlock, embed, pairwise_weights
from course_utils.non_local.fast import attend_fast, concat_attention_sorted


def randomised(block: NonLocalBlock, seed: int) -> NonLocalBlock:
    """Give every parameter (W_z included) and BN statistic a non-zero seeded value; eval mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in block.parameters():
            param.copy_(0.5 * torch.randn(param.shape, generator=generator, dtype=param.dtype))
        if isinstance(block.W_z, torch.nn.Sequential):
            block.W_z[1].running_var.uniform_(0.5, 1.5, generator=generator)
    return block.eval()


def pair(mode: str, dtype: torch.dtype, *, sub_sample: bool, seed: int = 0, channels: int = 8):
    naive = randomised(NonLocalBlock(channels, mode=mode, sub_sample=sub_sample), seed).to(dtype)
    fast = NonLocalBlock(channels, mode=mode, sub_sample=sub_sample, impl="fast").to(dtype).eval()
    fast.load_state_dict(naive.state_dict())
    return naive, fast


def outputs_and_grads(block, x, probe):
    x = x.clone().requires_grad_(True)
    z = block(x)
    grads = torch.autograd.grad((z * probe).sum(), [x, *block.parameters()])
    return z, grads


TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("sub_sample", [False, True], ids=["full", "sub_sampled"])
@pytest.mark.parametrize("mode", MODES)
def test_fast_matches_naive_forward_and_backward(mode, sub_sample, dtype):
    naive, fast = pair(mode, dtype, sub_sample=sub_sample, seed=3)
    generator = torch.Generator().manual_seed(4)
    x = torch.randn(2, 8, 3, 6, 5, generator=generator, dtype=dtype)
    probe = torch.randn(2, 8, 3, 6, 5, generator=generator, dtype=dtype)
    z_naive, grads_naive = outputs_and_grads(naive, x, probe)
    z_fast, grads_fast = outputs_and_grads(fast, x, probe)
    tol = TOLERANCE[dtype]
    torch.testing.assert_close(z_fast, z_naive, atol=tol, rtol=tol)
    # gradients are compared relative to the largest gradient entry: a parameter whose true gradient is 0
    # (phi's bias under a softmax) gets rounding noise of the size of the others' rounding, in both versions
    scale = max(1.0, max(float(grad.abs().max()) for grad in grads_naive))
    for got, expected in zip(grads_fast, grads_naive, strict=False):
        torch.testing.assert_close(got, expected, atol=tol * scale, rtol=tol)


@pytest.mark.parametrize("mode", MODES)
def test_fast_matches_naive_in_train_mode_without_bn(mode):
    naive = randomised(NonLocalBlock(5, 3, mode=mode, bn=False), seed=8).double().train()
    fast = NonLocalBlock(5, 3, mode=mode, bn=False, impl="fast").double()
    fast.load_state_dict(naive.state_dict())
    x = torch.randn(1, 5, 2, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    torch.testing.assert_close(fast(x), naive(x), atol=1e-10, rtol=1e-10)


def test_sorted_concatenation_passes_gradcheck():
    generator = torch.Generator().manual_seed(11)
    theta_x = torch.randn(2, 9, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    phi_x = torch.randn(2, 3, 7, generator=generator, dtype=torch.float64, requires_grad=True)
    g_x = torch.randn(2, 7, 4, generator=generator, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(1, 6, 1, 1, generator=generator, dtype=torch.float64, requires_grad=True)
    bias = torch.tensor([0.2], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(concat_attention_sorted, (theta_x, phi_x, g_x, weight, bias))


def test_chunked_attention_backward_matches_naive_over_several_blocks(monkeypatch):
    from course_utils.non_local import fast as non_local_fast

    monkeypatch.setattr(non_local_fast, "BACKWARD_BLOCK_ELEMENTS", 20)  # 20 // 7 keys = 2 queries per block
    generator = torch.Generator().manual_seed(12)
    theta_x = torch.randn(2, 9, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    phi_x = torch.randn(2, 3, 7, generator=generator, dtype=torch.float64, requires_grad=True)
    g_x = torch.randn(2, 7, 5, generator=generator, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t, p, g: attend_fast(t, p, g, "embedded"), (theta_x, phi_x, g_x))
    probe = torch.randn(2, 9, 5, generator=generator, dtype=torch.float64)
    fast = torch.autograd.grad((attend_fast(theta_x, phi_x, g_x, "embedded") * probe).sum(), (theta_x, phi_x, g_x))
    naive = torch.autograd.grad(((pairwise_weights(theta_x, phi_x, "embedded") @ g_x) * probe).sum(),
                                (theta_x, phi_x, g_x))
    for got, expected in zip(fast, naive, strict=False):
        torch.testing.assert_close(got, expected, atol=1e-12, rtol=1e-10)


def test_sorted_concatenation_handles_ties_and_empty_rows():
    # b = [-1, 0, 0, 2]; a = [0, -2, 5, -10]: ties at b_j == -a_i contribute 0; a = -10 selects no key at all
    theta_x = torch.tensor([[[0.0], [-2.0], [5.0], [-10.0]]], dtype=torch.float64)  # (1, 4, 1)
    phi_x = torch.tensor([[[-1.0, 0.0, 0.0, 2.0]]], dtype=torch.float64)  # (1, 1, 4)
    g_x = torch.tensor([[[1.0], [2.0], [3.0], [4.0]]], dtype=torch.float64)  # (1, 4, 1)
    projection = torch.nn.Conv2d(2, 1, kernel_size=1, bias=False).double()
    with torch.no_grad():
        projection.weight.fill_(1.0)
    expected = torch.matmul(pairwise_weights(theta_x, phi_x, "concatenate", projection), g_x)
    got = attend_fast(theta_x, phi_x, g_x, "concatenate", projection)
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)
    assert got[0, 3, 0] == 0.0


@pytest.mark.parametrize("impl", ["naive", "fast"])
@pytest.mark.parametrize("bn", [True, False])
@pytest.mark.parametrize("mode", MODES)
def test_new_block_is_identity_and_W_z_learns(mode, bn, impl):
    with torch.random.fork_rng():  # seeded: about 1 in 20 random W_f make every concatenation pair negative (no grad)
        torch.manual_seed(0)
        block = NonLocalBlock(4, mode=mode, bn=bn, impl=impl, sub_sample=True)
    x = torch.randn(2, 4, 2, 4, 6, generator=torch.Generator().manual_seed(1))
    z = block(x)
    assert torch.equal(z, x)
    z.pow(2).sum().backward()
    zeroed = block.W_z[1] if bn else block.W_z
    assert zeroed.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("impl", ["naive", "fast"])
@pytest.mark.parametrize("mode", MODES)
def test_permuting_positions_permutes_the_output(mode, impl):
    block = randomised(NonLocalBlock(4, mode=mode, impl=impl), seed=5).double()
    x = torch.randn(1, 4, 2, 3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    order = torch.randperm(30, generator=torch.Generator().manual_seed(7))
    # (B, C, T, H, W) -> (B, C, N), positions reordered, -> (B, C, T, H, W)
    x_permuted = x.reshape(1, 4, -1)[:, :, order].reshape(x.shape)
    z = block(x).reshape(1, 4, -1)  # (B, C, N)
    torch.testing.assert_close(block(x_permuted).reshape(1, 4, -1), z[:, :, order], atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("sub_sample", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_one_input_channel(mode, sub_sample):
    block = NonLocalBlock(1, mode=mode, sub_sample=sub_sample)
    assert block.inter_channels == 1
    x = torch.randn(2, 1, 3, 4, 5)
    assert block(x).shape == (2, 1, 3, 4, 5)


def test_parameter_names_and_counts():
    gaussian = NonLocalBlock(8, mode="gaussian")
    assert not hasattr(gaussian, "theta") and not hasattr(gaussian, "phi")
    names = {name.split(".")[0] for name, _ in NonLocalBlock(8, mode="concatenate").named_parameters()}
    assert names == {"g", "theta", "phi", "W_f", "W_z"}
    assert NonLocalBlock(8).inter_channels == 4 and NonLocalBlock(8, 6).inter_channels == 6


def test_sub_sampling_pools_keys_and_values_only():
    block = NonLocalBlock(6, mode="embedded", sub_sample=True)
    theta_x, phi_x, g_x = embed(block, torch.randn(1, 6, 3, 5, 7))
    assert theta_x.shape == (1, 105, 3) and phi_x.shape == (1, 3, 18) and g_x.shape == (1, 18, 3)
    theta_x, phi_x, g_x = embed(NonLocalBlock(6, mode="gaussian", sub_sample=True), torch.randn(1, 6, 3, 5, 7))
    assert theta_x.shape == (1, 105, 6) and phi_x.shape == (1, 6, 18) and g_x.shape == (1, 18, 3)


@pytest.mark.parametrize("kwargs, error", [
    ({"mode": "cosine"}, ValueError), ({"impl": "cuda"}, ValueError), ({"inter_channels": 0}, ValueError),
    ({"inter_channels": 2.5}, TypeError), ({"sub_sample": 1}, TypeError), ({"bn": None}, TypeError),
])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        NonLocalBlock(4, **kwargs)
    with pytest.raises(ValueError, match="in_channels"):
        NonLocalBlock(0)


def test_bad_inputs():
    block = NonLocalBlock(4, sub_sample=True)
    with pytest.raises(ValueError, match="x must have 5 dimensions"):
        block(torch.randn(1, 4, 8, 8))
    with pytest.raises(ValueError, match="in_channels=4"):
        block(torch.randn(1, 3, 2, 4, 4))
    with pytest.raises(TypeError, match="floating"):
        block(torch.ones(1, 4, 2, 4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="at least 2"):
        block(torch.randn(1, 4, 2, 1, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        block([[1.0]])
    block.impl = "sparse"
    with pytest.raises(ValueError, match="impl"):
        block(torch.randn(1, 4, 2, 4, 4))
    with pytest.raises(ValueError, match="W_f"):
        pairwise_weights(torch.randn(1, 3, 2), torch.randn(1, 2, 3), "concatenate")


# ---------------------------------------------------------------- cost measurement and the affinity widget
def test_naive_intermediate_bytes():
    from course_utils.non_local.cost import naive_intermediate_bytes

    num = 32 * 56 * 56
    assert naive_intermediate_bytes("embedded", (1, 64, 32, 56, 56)) == 2 * num * num * 4
    assert naive_intermediate_bytes("dot", (2, 8, 2, 4, 4), backward=True) == 2 * 32 * 32 * 4 * 4
    assert naive_intermediate_bytes("concatenate", (1, 8, 1, 4, 4), sub_sample=True) == 16 * 4 * (4 * 4 + 2) * 4
    with pytest.raises(ValueError, match="mode"):
        naive_intermediate_bytes("cosine", (1, 8, 1, 4, 4))


def test_compare_costs_measures_a_known_allocation():
    from course_utils.non_local.cost import can_measure_memory, compare_costs

    cpu = torch.device("cpu")
    costs = compare_costs({"big": lambda: torch.ones(16 * 2**20 // 4).add_(1), "small": lambda: torch.ones(8)},
                          cpu, repeats=2, max_seconds=5.0)
    assert costs["big"].runs == 2 and costs["big"].seconds > 0
    if can_measure_memory(cpu):
        assert 15 * 2**20 <= costs["big"].peak_bytes < 40 * 2**20
        assert costs["small"].peak_bytes < 2 * 2**20
    with pytest.raises(ValueError, match="repeats"):
        compare_costs({}, cpu, repeats=0)


def moving_square(num_frames: int = 4, size: int = 12) -> torch.Tensor:
    """A bright 3x3 square moving right by 2 pixels a frame on a dark background, (C, T, H, W) in [0, 1]."""
    video = torch.full((3, num_frames, size, size), 0.2)
    for t in range(num_frames):
        video[:, t, 4:7, 1 + 2 * t:4 + 2 * t] = 0.9
    return video


def test_query_affinities_follow_the_object():
    from course_utils.non_local.widget import centred_features, query_affinities

    weights = query_affinities(centred_features(moving_square()), (1, 5, 4))
    assert weights.shape == (4, 12, 12)
    assert torch.isclose(weights.sum(), torch.tensor(1.0, dtype=torch.float64))
    for t in range(4):  # most of every frame's weight lies on that frame's square
        assert weights[t, 4:7, 1 + 2 * t:4 + 2 * t].sum() > 0.9 * weights[t].sum()
    with pytest.raises(ValueError, match=r"query must lie inside the \(T, H, W\) = \(4, 12, 12\) video, got y=12"):
        query_affinities(centred_features(moving_square()), (0, 12, 0))
    with pytest.raises(ValueError, match="scale"):
        centred_features(moving_square(), scale=0)


def test_affinity_widget_redraws_when_the_query_moves():
    import ipywidgets

    from course_utils.non_local.widget import affinity_widget

    widget = affinity_widget(moving_square(), query=(0, 5, 2))
    sliders, summary, picture = widget.children
    assert isinstance(summary, ipywidgets.Label) and isinstance(picture, ipywidgets.Image)
    assert summary.value.startswith("query (t=0, y=5, x=2)") and bytes(picture.value).startswith(b"\x89PNG")
    before = bytes(picture.value)
    sliders.children[2].value = 9  # move the query onto the background
    assert summary.value.startswith("query (t=0, y=5, x=9)") and bytes(picture.value) != before


def test_affinity_widget_picture_is_legible_and_small():
    import struct

    from course_utils.non_local.widget import affinity_widget

    picture = affinity_widget(moving_square(num_frames=8), query=(0, 5, 2)).children[2]
    png = bytes(picture.value)
    width, height = struct.unpack(">II", png[16:24])  # IHDR: width and height of the PNG
    assert width >= 800 and height >= 250, "an 8-frame strip must be wide enough to read its title and sums"
    assert len(png) < 100_000, "keep the widget's picture modest in bytes"
