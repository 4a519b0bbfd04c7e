"""Bad input gets an error that names the problem, expected against got."""
import functools

import numpy as np
import pytest

from tinygan import nn, ops, optim, tensor


def x32(*shape):
    return tensor(np.zeros(shape, np.float32))


def test_conv_layer_names_its_in_channels_and_the_input_channels():
    layer = nn.Conv2d(4, 8, 3)
    with pytest.raises(ValueError, match=r"in_channels=4, but the input \(2, 3, 8, 8\) "
                                         r"has 3 channels"):
        layer(x32(2, 3, 8, 8))


def test_conv_transpose_layer_names_its_in_channels_and_the_input_channels():
    layer = nn.ConvTranspose2d(100, 64, 4)
    with pytest.raises(ValueError, match=r"in_channels=100, but the input \(2, 99, 1, 1\) "
                                         r"has 99 channels"):
        layer(x32(2, 99, 1, 1))


@pytest.mark.parametrize("op", [ops.conv2d, ops.conv_transpose2d])
def test_conv_rejects_wrong_rank(op):
    with pytest.raises(ValueError, match=r"expected a 4-D input \(N, C, H, W\), "
                                         r"got shape \(3, 8, 8\)"):
        op(x32(3, 8, 8), x32(3, 3, 3, 3))
    with pytest.raises(ValueError, match=r"expected a 4-D weight, got shape \(3, 3\)"):
        op(x32(1, 3, 8, 8), x32(3, 3))


def test_conv_rejects_an_empty_output():
    with pytest.raises(ValueError, match=r"output size would be \(-1, -1\)"):
        ops.conv2d(x32(1, 1, 3, 3), x32(1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"output size would be \(0, 0\)"):
        ops.conv_transpose2d(x32(1, 1, 1, 1), x32(1, 1, 2, 2), padding=1)


def test_conv_rejects_bad_stride_padding_and_output_padding():
    with pytest.raises(ValueError, match=r"stride must be >= 1 and padding >= 0, "
                                         r"got stride=\(0, 0\)"):
        ops.conv2d(x32(1, 1, 4, 4), x32(1, 1, 2, 2), stride=0)
    with pytest.raises(ValueError, match=r"output_padding must be >= 0 and smaller than stride"):
        ops.conv_transpose2d(x32(1, 1, 4, 4), x32(1, 1, 2, 2), stride=2, output_padding=2)
    with pytest.raises(TypeError, match="stride must be an int or a pair of ints, got 1.5"):
        ops.conv2d(x32(1, 1, 4, 4), x32(1, 1, 2, 2), stride=1.5)


@pytest.mark.parametrize("dtype", [np.int32, np.float16])
def test_layers_reject_integer_and_half_inputs(dtype):
    with pytest.raises(TypeError, match=f"input 0 has dtype {np.dtype(dtype)}; "
                                        "tinygan ops need float32"):
        nn.Conv2d(3, 4, 3)(tensor(np.zeros((1, 3, 5, 5), dtype)))


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than one value per channel"):
        nn.BatchNorm2d(3)(x32(1, 3, 1, 1))
    with pytest.raises(ValueError, match=r"weight and bias of shape \(C,\), "
                                         r"got input \(2, 4, 2, 2\)"):
        nn.BatchNorm2d(3)(x32(2, 4, 2, 2))
    with pytest.raises(ValueError, match="eval mode .* needs running_mean and running_var"):
        ops.batch_norm(x32(2, 3), None, None, training=False)



@pytest.mark.parametrize("op, layer, group, one_value", [
    (ops.instance_norm, functools.partial(nn.InstanceNorm2d, affine=True), "channel",
     (2, 3, 1, 1)),
    (ops.layer_norm, nn.LayerNorm2d, "sample", (2, 1, 1, 1)),
])
def test_instance_and_layer_norm_errors(op, layer, group, one_value):
    name = op.__name__
    with pytest.raises(ValueError, match=rf"{name}: expected a 4-D input \(N, C, H, W\), "
                                         r"got shape \(2, 3\)"):
        op(x32(2, 3))
    with pytest.raises(ValueError, match=rf"{name}: expected weight and bias of shape \(C,\) = "
                                         r"\(4,\) for input \(2, 4, 3, 3\), got weight \(3,\) "
                                         r"and bias \(3,\)"):
        layer(3)(x32(2, 4, 3, 3))
    with pytest.raises(ValueError, match=rf"{name}: needs more than one value per {group} "
                                         r"to normalise, got input shape"):
        op(x32(*one_value))


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], got values in \[-0.5, 0.5\]"):
        ops.binary_cross_entropy(tensor(np.array([-0.5, 0.5])), tensor(np.array([1.0, 0.0])))
    with pytest.raises(ValueError, match=r"target shape \(3,\) must equal input shape \(2,\)"):
        ops.binary_cross_entropy_with_logits(x32(2), x32(3))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        ops.binary_cross_entropy_with_logits(x32(2), x32(2), reduction="avg")


def test_cross_entropy_errors():
    with pytest.raises(ValueError, match=r"expected logits \(N, K\), got shape \(4,\)"):
        ops.cross_entropy(x32(4), np.zeros(4, np.int64))
    with pytest.raises(ValueError, match=r"integer class labels of shape \(2,\), got dtype "
                                         r"float32 shape \(2,\)"):
        ops.cross_entropy(x32(2, 3), np.zeros(2, np.float32))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\) for 3 classes, got "
                                         r"values in \[0, 3\]"):
        ops.cross_entropy(x32(2, 3), tensor(np.array([0, 3])))


def test_linear_and_pooling_errors():
    with pytest.raises(ValueError, match=r"input \(N, in\) and weight \(out, in\), got input "
                                         r"\(2, 3\) and weight \(4, 5\)"):
        nn.Linear(5, 4)(x32(2, 3))
    with pytest.raises(ValueError, match=r"the 3x3 window does not fit the input \(1, 1, 2, 5\)"):
        nn.MaxPool2d(3)(x32(1, 1, 2, 5))
    with pytest.raises(ValueError, match=r"kernel_size must be >= 1, got \(0, 0\)"):
        ops.avg_pool2d(x32(1, 1, 2, 2), 0)
    with pytest.raises(ValueError, match=r"avg_pool2d: expected a 4-D input"):
        nn.AvgPool2d(2)(x32(2, 2))


def test_load_state_dict_names_missing_and_unexpected_keys():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    state = net.state_dict()
    state["2.weight"] = state.pop("1.weight")
    with pytest.raises(ValueError, match=r"missing keys \['1.weight'\], "
                                         r"unexpected keys \['2.weight'\]"):
        net.load_state_dict(state)


def test_load_state_dict_names_a_wrong_shape():
    net = nn.Sequential(nn.Conv2d(1, 2, 3))
    state = net.state_dict()
    state["0.weight"] = np.zeros((2, 1, 5, 5))
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(2, 1, 5, 5\) in the state dict, "
                                         r"expected \(2, 1, 3, 3\)"):
        net.load_state_dict(state)


def test_adam_rejects_bad_settings_and_mismatched_state():
    params = nn.Conv2d(1, 2, 3).parameters()
    with pytest.raises(ValueError, match="need lr >= 0"):
        optim.Adam(params, lr=-1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    saved = optim.Adam(params).state_dict()
    with pytest.raises(ValueError, match="the state has 2 parameters, this optimizer has 1"):
        optim.Adam(params[:1]).load_state_dict(saved)
