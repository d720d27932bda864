"""Layer specs: shapes and parameter counts through whole networks, checked by hand against the
counts PyTorch prints for the classic architectures, and the code text the specs produce."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizgen.reference import layers as L
from quizgen.reference import registry
from quizgen.reference import tensors as T


def lenet5(classes: int = 10) -> list:
    return [
        L.Conv2d(1, 6, 5),
        L.ReLU(),
        L.MaxPool2d(2),
        L.Conv2d(6, 16, 5),
        L.ReLU(),
        L.MaxPool2d(2),
        L.Flatten(),
        L.Linear(400, 120),
        L.ReLU(),
        L.Linear(120, 84),
        L.ReLU(),
        L.Linear(84, classes),
    ]


def test_lenet5_shapes_and_its_61706_parameters():
    t = L.trace(lenet5(), (1, 1, 32, 32))
    # 32 - 5 + 1 = 28, /2 = 14, 14 - 5 + 1 = 10, /2 = 5; 16·5·5 = 400
    assert t.shapes[0] == (1, 6, 28, 28)
    assert t.shapes[2] == (1, 6, 14, 14)
    assert t.shapes[3] == (1, 16, 10, 10)
    assert t.shapes[5] == (1, 16, 5, 5)
    assert t.shapes[6] == (1, 400)
    assert t.shapes[-1] == (1, 10)
    # (25 + 1)·6 = 156, (150 + 1)·16 = 2416, 401·120 = 48120, 121·84 = 10164, 85·10 = 850
    assert [p for p in t.params if p] == [156, 2416, 48120, 10164, 850]
    assert t.total == 61706 == L.total_param_count(lenet5())
    # without the biases: 61706 - (6 + 16 + 120 + 84 + 10)
    assert L.total_param_count(lenet5(), biases=False) == 61706 - 236


def vgg16() -> list:
    out, channels = [], 3
    for width, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(convs):
            out += [L.Conv2d(channels, width, 3, padding=1), L.ReLU()]
            channels = width
        out.append(L.MaxPool2d(2))
    return [
        *out,
        L.Flatten(),
        L.Linear(25088, 4096),
        L.ReLU(),
        L.Linear(4096, 4096),
        L.ReLU(),
        L.Linear(4096, 1000),
    ]


def test_vgg16_has_torchvisions_138357544_parameters():
    t = L.trace(vgg16(), (2, 3, 224, 224))
    assert t.shapes[-6] == (2, 25088)  # 512·7·7 after five halvings of 224
    # convolutions 14,714,688; classifier 102,764,544 + 16,781,312 + 4,097,000
    assert (
        sum(p for layer, p in zip(vgg16(), t.params, strict=True) if isinstance(layer, L.Conv2d)) == 14714688
    )
    assert t.total == 138357544


def test_batchnorm_learns_2c_and_keeps_2c_buffers():
    bn = L.BatchNorm2d(64)
    assert L.param_count(bn) == 128
    assert L.param_count(bn, buffers=True) == 256  # the mistake: running mean and variance counted
    assert L.param_count(bn, biases=False) == 64  # the mistake: β forgotten
    assert L.output_shape(bn, (8, 64, 5, 5)) == (8, 64, 5, 5)
    with pytest.raises(ValueError, match="expects 64 channels, got 32"):
        L.output_shape(bn, (8, 32, 5, 5))


def test_pytorch_defaults():
    conv = L.Conv2d(3, 8, 3)
    assert (conv.stride, conv.padding, conv.bias) == (1, 0, True)
    assert L.param_count(conv) == (27 + 1) * 8
    # MaxPool2d's stride is its kernel size: 9 -> floor((9 - 3)/3) + 1 = 3; with stride 1: 7
    assert L.output_shape(L.MaxPool2d(3), (1, 2, 9, 9)) == (1, 2, 3, 3)
    assert L.output_shape(L.MaxPool2d(3, stride=1), (1, 2, 9, 9)) == (1, 2, 7, 7)
    assert L.output_shape(L.AvgPool2d(2), (1, 2, 9, 9)) == (1, 2, 4, 4)  # floor(9/2)
    # stride 2, padding 1, kernel 3 on 7: floor((7 + 2 - 3)/2) + 1 = 4
    assert L.output_shape(L.Conv2d(2, 5, 3, stride=2, padding=1), (4, 2, 7, 7)) == (4, 5, 4, 4)
    assert L.output_shape(L.Conv2d(2, 5, (3, 1)), (4, 2, 7, 7)) == (4, 5, 5, 7)


@pytest.mark.parametrize(
    "flatten, shape",
    [
        (L.Flatten(), (2, 60)),
        (L.Flatten(start_dim=0), (120,)),  # the mistake: the batch axis flattened too
        (L.Flatten(start_dim=2), (2, 3, 20)),
        (L.Flatten(1, 2), (2, 12, 5)),
        (L.Flatten(-2), (2, 3, 20)),
    ],
)
def test_flatten_as_torch_flatten(flatten, shape):
    assert L.output_shape(flatten, (2, 3, 4, 5)) == shape


def test_linear_counts_and_shapes():
    assert L.param_count(L.Linear(4, 3)) == 15
    assert L.param_count(L.Linear(4, 3, bias=False)) == 12
    assert L.output_shape(L.Linear(4, 3), (7, 2, 4)) == (7, 2, 3)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: L.output_shape(L.Linear(100, 10), (2, 99)), "expects a last axis of 100 features, got 99"),
        (lambda: L.output_shape(L.Conv2d(3, 8, 3), (1, 1, 9, 9)), "expected 3 input channels"),
        (lambda: L.output_shape(L.Conv2d(3, 8, 11), (1, 3, 9, 9)), "larger than the padded input"),
        (lambda: L.output_shape(L.MaxPool2d(2), (4, 9)), r"expects a batch \(N, C, H, W\)"),
        (lambda: L.output_shape(L.Flatten(start_dim=3), (2, 3)), "cannot flatten axes 3..-1"),
        (lambda: L.Conv2d(0, 8, 3), "in_channels: expected an integer >= 1"),
        (lambda: L.param_count("conv"), "expected a layer spec"),
        (lambda: L.trace([], (1, 3)), "at least one layer"),
        (lambda: L.sequential_code([L.ReLU()], hide_in_features=True), "no Linear layer"),
    ],
)
def test_bad_specs_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_trace_names_the_layer_that_fails():
    with pytest.raises(ValueError, match=r"layers\[2\] \(nn.Linear\(100, 10\)\): .*got 400"):
        L.trace([L.Conv2d(1, 4, 1), L.Flatten(), L.Linear(100, 10)], (1, 1, 10, 10))


def test_sequential_code_is_the_pytorch_a_reader_would_write():
    model = [
        L.Conv2d(3, 16, 5, stride=2, padding=1, bias=False),
        L.BatchNorm2d(16),
        L.MaxPool2d(3, stride=2),
        L.AvgPool2d(2),
        L.Flatten(),
        L.Linear(64, 10),
    ]
    assert L.sequential_code(model, numbered=False) == (
        "model = nn.Sequential(\n"
        "    nn.Conv2d(3, 16, kernel_size=5, stride=2, padding=1, bias=False),\n"
        "    nn.BatchNorm2d(16),\n"
        "    nn.MaxPool2d(kernel_size=3, stride=2),\n"
        "    nn.AvgPool2d(2),\n"
        "    nn.Flatten(),\n"
        "    nn.Linear(64, 10),\n"
        ")"
    )
    numbered = L.sequential_code(model[4:], name="head", hide_in_features=True).split("\n")
    assert numbered == [
        "head = nn.Sequential(",
        "    nn.Flatten(),      # 0",
        "    nn.Linear(D, 10),  # 1",
        ")",
    ]
    assert str(model[0]) == model[0].code()  # a text prints a layer as its code


def test_every_public_name_is_reachable_from_a_template():
    assert registry.resolve("layers.output_shape") is L.output_shape
    assert registry.resolve("layers.Conv2d") is L.Conv2d


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 8), st.sampled_from([1, 3, 5]), st.integers(1, 2), st.booleans(), st.booleans()
        ),
        min_size=1,
        max_size=4,
    ),
    st.integers(1, 4),
    st.integers(1, 3),
)
def test_trace_chains_the_layers_and_sums_their_counts(convs, batch, channels):
    model, c = [], channels
    for out, k, s, bias, pool in convs:
        model.append(L.Conv2d(c, out, k, stride=s, padding=k // 2, bias=bias))
        if pool:
            model.append(L.MaxPool2d(2, padding=1))
        c = out
    model += [L.Flatten(), L.Linear(1, 1)]  # in_features fixed below from the traced shape
    head = L.trace(model[:-2], (batch, channels, 40, 40))
    features = head.shapes[-1][1] * head.shapes[-1][2] * head.shapes[-1][3]
    model[-1] = L.Linear(features, 3)
    t = L.trace(model, (batch, channels, 40, 40))
    shape = (batch, channels, 40, 40)
    for layer, after in zip(model, t.shapes, strict=True):
        shape = L.output_shape(layer, shape)
        assert after == shape and after[0] == batch  # no layer here touches the batch axis
    assert t.shapes[-1] == (batch, 3)
    assert t.total == sum(L.param_count(layer) for layer in model) == L.total_param_count(model)
    biases = sum(layer.out_channels for layer in model if isinstance(layer, L.Conv2d) and layer.bias) + 3
    assert L.total_param_count(model, biases=False) == t.total - biases
    assert L.total_param_count(model, buffers=True) == t.total  # no batch norm: no buffers


def test_resnet_projection_block_counts_by_hand():
    # torchvision's BasicBlock(64 -> 128, stride 2): conv 3x3 (no bias), BN, conv 3x3, BN, and
    # the downsample 1x1 conv (no bias) + BN
    main = [
        L.Conv2d(64, 128, 3, stride=2, padding=1, bias=False),
        L.BatchNorm2d(128),
        L.ReLU(),
        L.Conv2d(128, 128, 3, padding=1, bias=False),
        L.BatchNorm2d(128),
    ]
    shortcut = [L.Conv2d(64, 128, 1, stride=2, bias=False), L.BatchNorm2d(128)]
    # 9·64·128 + 256 + 9·128·128 + 256 = 73728 + 147456 + 512; shortcut 64·128 + 256
    assert L.total_param_count(main) == 221696
    assert L.total_param_count(shortcut) == 8448
    # ResNet-18's layer2 block 1 sees 56 x 56 and gives 28 x 28 on both paths
    assert L.trace(main, (1, 64, 56, 56)).shapes[-1] == L.trace(shortcut, (1, 64, 56, 56)).shapes[-1]
    assert L.trace(shortcut, (1, 64, 56, 56)).shapes[-1] == (1, 128, 28, 28)
    # an odd size: floor((7 + 2 - 3)/2) + 1 = 4 and floor((7 - 1)/2) + 1 = 4
    assert (
        L.trace(main, (1, 64, 7, 7)).shapes[-1]
        == L.trace(shortcut, (1, 64, 7, 7)).shapes[-1]
        == (1, 128, 4, 4)
    )


def test_googlenet_inception_3a_by_hand():
    # (192 -> 64 | 96 -> 128 | 16 -> 32 | pool -> 32) on 28 x 28: 256 channels out
    branches = [
        [L.Conv2d(192, 64, 1)],
        [L.Conv2d(192, 96, 1), L.ReLU(), L.Conv2d(96, 128, 3, padding=1)],
        [L.Conv2d(192, 16, 1), L.ReLU(), L.Conv2d(16, 32, 5, padding=2)],
        [L.MaxPool2d(3, stride=1, padding=1), L.Conv2d(192, 32, 1)],
    ]
    outs = [L.trace(b, (1, 192, 28, 28)).shapes[-1] for b in branches]
    assert T.cat_shape(outs, dim=1) == (1, 256, 28, 28)
    # 12352 + (18528 + 110720) + (3088 + 12832) + 6176
    assert sum(L.total_param_count(b) for b in branches) == 163696


def test_alexnet_has_torchvisions_61100840_parameters():
    features = [
        L.Conv2d(3, 64, 11, stride=4, padding=2),  # 224 -> floor((224 + 4 - 11)/4) + 1 = 55
        L.ReLU(),
        L.MaxPool2d(3, stride=2),  # overlapping: floor((55 - 3)/2) + 1 = 27
        L.Conv2d(64, 192, 5, padding=2),
        L.ReLU(),
        L.MaxPool2d(3, stride=2),  # 13
        L.Conv2d(192, 384, 3, padding=1),
        L.ReLU(),
        L.Conv2d(384, 256, 3, padding=1),
        L.ReLU(),
        L.Conv2d(256, 256, 3, padding=1),
        L.ReLU(),
        L.MaxPool2d(3, stride=2),  # 6
        L.Flatten(),
    ]
    classifier = [L.Linear(9216, 4096), L.ReLU(), L.Linear(4096, 4096), L.ReLU(), L.Linear(4096, 1000)]
    t = L.trace(features + classifier, (1, 3, 224, 224))
    assert [t.shapes[i][2] for i in (0, 2, 5, 12)] == [55, 27, 13, 6]
    assert t.shapes[13] == (1, 9216)  # 256·6·6
    assert t.total == 61100840


def test_check_channels_false_applies_the_shape_rule_to_a_wrong_channel_count():
    conv = L.Conv2d(6, 16, 5)
    with pytest.raises(ValueError, match="expected 6 input channels"):
        L.output_shape(conv, (2, 7, 14, 14))
    # a student who wrote 7 channels after the pooling still gets conv's 16 channels and 10 x 10
    assert L.output_shape(conv, (2, 7, 14, 14), check_channels=False) == (2, 16, 10, 10)
    assert L.output_shape(L.BatchNorm2d(6), (2, 7, 3, 3), check_channels=False) == (2, 6, 3, 3)
    assert L.output_shape(L.MaxPool2d(2), (2, 7, 14, 14), check_channels=False) == (2, 7, 7, 7)
