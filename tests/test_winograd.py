"""The Winograd route of stride-2 4x4 convs: its transforms, their adjoints, and the route
against the im2col route it replaces (the oracle)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from tinygan import ops, tensor
from tinygan.gan import dcgan
from tinygan.backend import cpu, winograd

# The six transforms, as the array code (winograd.py) and as the CPU backend's numba twins.
ARRAY_CODE = {
    "filter": lambda w: winograd.filter_transform(np, w),
    "filter_adjoint": lambda gu, c: winograd.filter_transform_adjoint(np, gu, c),
    "input": lambda x: winograd.input_transform(np, x),
    "input_adjoint": lambda gv, size: winograd.input_transform_adjoint(np, gv, size),
    "output": lambda m, n, size: winograd.output_transform(np, m, n, size),
    "output_adjoint": lambda gy: winograd.output_transform_adjoint(np, gy),
}
NUMBA = {name: getattr(cpu, f"winograd_{name}") for name in ARRAY_CODE}


@st.composite
def winograd_case(draw, dtype=np.float64, in_channels=st.integers(1, 3)):
    """Random arrays for every transform and its adjoint at one geometry: N and OC 1..3, C from
    ``in_channels``, H, W multiples of 8 up to 24."""
    n, c, oc = draw(st.integers(1, 3)), draw(in_channels), draw(st.integers(1, 3))
    h, w = (8 * draw(st.integers(1, 3)) for _ in range(2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    tiles, uv = n * (h // 8) * (w // 8), winograd.ALPHA ** 2
    shapes = {"x": (n, c, h, w), "w": (oc, c, 4, 4), "m": (uv, oc, tiles),
              "gy": (n, oc, h // 2, w // 2), "gu": (uv, oc, 4 * c), "gv": (uv, 4 * c, tiles)}
    arrays = {k: rng.standard_normal(shape).astype(dtype) for k, shape in shapes.items()}
    return arrays, (n, c, (h, w), (h // 2, w // 2))


def calls(a, geometry):
    """(transform name, its arguments) for each of the six, on the arrays of a winograd_case."""
    n, c, size, out_size = geometry
    return [("filter", (a["w"],)), ("filter_adjoint", (a["gu"], c)), ("input", (a["x"],)),
            ("input_adjoint", (a["gv"], size)), ("output", (a["m"], n, out_size)),
            ("output_adjoint", (a["gy"],))]


@given(st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dtype: st.tuples(st.just(dtype), winograd_case(dtype))))
def test_the_numba_transforms_equal_the_array_code(case):
    dtype, (arrays, geometry) = case
    # The same sums in another order: in float32 a sum of 16 products of values up to ~3 and
    # coefficients up to ~2 rounds by up to ~16 * 6e-8 * 6 = 6e-6 per order; two orders and
    # cancellation reached 1.5e-5 in a drawn case, so 1e-4 (a wrong transform is off by O(1)).
    tolerance = 1e-4 if dtype == np.float32 else 1e-12
    for name, args in calls(arrays, geometry):
        ours, expected = NUMBA[name](*args), ARRAY_CODE[name](*args)
        assert ours.dtype == dtype and ours.shape == expected.shape, name
        np.testing.assert_allclose(ours, expected, rtol=tolerance, atol=tolerance, err_msg=name)


@pytest.mark.parametrize("code", [ARRAY_CODE, NUMBA], ids=["array code", "numba"])
@given(case=winograd_case())
def test_each_adjoint_is_its_transforms_transpose(code, case):
    """<T(a), b> = <a, T^T(b)> for each transform T, on random a and b."""
    a, (n, c, size, out_size) = case
    pairs = [(a["w"], code["filter"](a["w"]), a["gu"], code["filter_adjoint"](a["gu"], c)),
             (a["x"], code["input"](a["x"]), a["gv"], code["input_adjoint"](a["gv"], size)),
             (a["m"], code["output"](a["m"], n, out_size), a["gy"],
              code["output_adjoint"](a["gy"]))]
    for x, t_x, y, t_y in pairs:
        assert np.vdot(t_x, y) == pytest.approx(np.vdot(x, t_y), rel=1e-10, abs=1e-10)


def run_conv(conv, x, w):
    """(y, gx, gw) of conv(x, w, stride 2, padding 1) against a fixed output weighting."""
    xt, wt = tensor(x, requires_grad=True), tensor(w, requires_grad=True)
    y = conv(xt, wt, stride=2, padding=1)
    y.backward(np.cos(np.arange(y.array.size)).reshape(y.shape))
    return y.array, xt.grad.array, wt.grad.array


ROUTE_CHANNELS = st.integers(winograd.MIN_CHANNELS, winograd.MIN_CHANNELS + 2)


@pytest.mark.parametrize("conv", [ops.conv2d, ops.conv_transpose2d])
@given(case=winograd_case(in_channels=ROUTE_CHANNELS))
def test_the_route_equals_the_im2col_route(conv, case):
    a, _ = case
    # conv_transpose2d maps (N, OC, H/2, W/2) to (N, C, H, W) with the same (OC, C, 4, 4) w
    x = a["x"] if conv is ops.conv2d else a["gy"]
    ours = run_conv(conv, x, a["w"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(winograd, "applies", lambda *settings: False)
        oracle = run_conv(conv, x, a["w"])
    for got, expected in zip(ours, oracle):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("image_size, kernel, stride, padding, channels, expected", [
    ((32, 32), (4, 4), (2, 2), (1, 1), 64, True),
    ((8, 16), (4, 4), (2, 2), (1, 1), 16, True),
    ((8, 8), (4, 4), (2, 2), (1, 1), 512, True),
    ((32, 32), (4, 4), (2, 2), (1, 1), 7, False),  # too few channels to pay for the transforms
    ((12, 32), (4, 4), (2, 2), (1, 1), 64, False),  # output rows not whole 4x4 tiles
    ((32, 32), (3, 3), (2, 2), (1, 1), 64, False),
    ((32, 32), (4, 4), (1, 1), (1, 1), 64, False),
    ((32, 32), (4, 4), (2, 2), (0, 0), 64, False),
])
def test_the_route_applies_to_stride_2_4x4_convs_with_padding_1(image_size, kernel, stride,
                                                                padding, channels, expected):
    assert winograd.applies(image_size, kernel, stride, padding, channels) is expected


@pytest.mark.parametrize("threads", [1, 2])
def test_the_route_waits_for_enough_output_tiles_a_thread(threads, library_routes, monkeypatch):
    """At the library's MIN_TILES_PER_THREAD (conftest lowers it for the other tests): a 16x16
    input makes 2x2 output tiles per image, so the first batch to take the route is the one
    with that many tiles per numba thread."""
    monkeypatch.setattr(cpu, "get_num_threads", lambda: threads)
    conv = ((16, 16), (4, 4), (2, 2), (1, 1), 64)
    first = library_routes * threads // 4
    assert winograd.tiles(conv[0], first) == library_routes * threads
    assert not cpu.winograd_applies(*conv, first - 1) and cpu.winograd_applies(*conv, first)


@pytest.mark.parametrize("size", [32, 64])
def test_the_dcgan_s_wide_stride_2_convs_take_the_route(size, monkeypatch):
    """In a whole forward and backward, im2col with stride 2 is left only where 3 colour
    channels go into a conv: D's first layer, and the 64x64 G's last (transposed) one."""
    strided_channels, transformed = [], []
    im2col, winograd_input = cpu.im2col, cpu.winograd_input

    def recording_im2col(x, kernel, stride, padding):
        if tuple(stride) == (2, 2):
            strided_channels.append(x.shape[1])
        return im2col(x, kernel, stride, padding)

    def recording_winograd_input(x):
        transformed.append(x.shape[1])
        return winograd_input(x)
    monkeypatch.setattr(cpu, "im2col", recording_im2col)
    monkeypatch.setattr(cpu, "winograd_input", recording_winograd_input)
    G, D = dcgan.Generator(image_size=size), dcgan.Discriminator(image_size=size)
    z = tensor(np.random.default_rng(0).standard_normal((2, 100, 1, 1)).astype(np.float32))
    D(G(z)).sum().backward()
    assert set(strided_channels) == {3}
    d_wide = {32: [64, 128], 64: [64, 128, 256]}[size]  # D's layers after its first, forward
    assert transformed == d_wide + [64, 128, 256]  # then G's (its gy), backward from the last


@pytest.mark.parametrize("conv, x_shape", [(ops.conv2d, (2, 16, 8, 8)),
                                           (ops.conv_transpose2d, (2, 3, 4, 4))])
@pytest.mark.parametrize("frozen, transform", [("x", "winograd_input_adjoint"),
                                               ("w", "winograd_filter_adjoint")])
def test_the_route_skips_the_gradient_nobody_asked_for(conv, x_shape, frozen, transform,
                                                       monkeypatch):
    rng = np.random.default_rng(0)
    x = tensor(rng.standard_normal(x_shape), requires_grad=frozen != "x")
    w = tensor(rng.standard_normal((3, 16, 4, 4)), requires_grad=frozen != "w")
    y = conv(x, w, stride=2, padding=1)
    if conv is ops.conv_transpose2d and frozen == "x":
        transform = "winograd_output"  # its input gradient is conv2d's forward
    monkeypatch.setattr(cpu, transform, lambda *args: pytest.fail(f"{transform} ran"))
    y.sum().backward()
    assert (x.grad is None) == (frozen == "x") and (w.grad is None) == (frozen == "w")
