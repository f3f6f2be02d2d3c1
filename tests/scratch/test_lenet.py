import numpy as np
import pytest

from ferkit.scratch import format_summary, lenet5, lenet5_modern, summarize


def test_classic_lenet_shapes_for_a_28x28_input():
    rows = summarize(lenet5(), (1, 28, 28))
    shapes = {r.name: r.output_shape for r in rows}
    assert [shapes[n] for n in ("conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3")] == [
        (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120,), (84,), (10,)]  # fmt: skip
    assert sum(r.params for r in rows) == 61_706  # 156 + 2,416 + 48,120 + 10,164 + 850
    assert {r.name: r.receptive_field for r in rows}["pool2"] == (16, 16)
    assert {r.name: r.macs for r in rows}["conv1"] == 6 * 28 * 28 * 25


def test_classic_form_uses_sigmoid_and_average_pooling_modern_form_batchnorm_relu_max():
    assert [r.layer for r in summarize(lenet5(), (1, 28, 28))][:3] == [
        "Conv2d(1→6, 5x5, p2)",
        "Sigmoid",
        "AvgPool2d(2x2, s2)",
    ]
    modern = [r.layer for r in summarize(lenet5_modern(), (1, 28, 28))]
    assert modern[:4] == ["Conv2d(1→6, 5x5, p2)", "BatchNorm2d(6)", "ReLU", "MaxPool2d(2x2, s2)"]


@pytest.mark.parametrize("size, flat", [(28, 400), (32, 576), (48, 1600)])
def test_any_input_size_and_channels(size, flat):
    model = lenet5_modern(num_classes=7, in_chans=3, input_size=size)
    assert model(np.zeros((2, 3, size, size))).shape == (2, 7)
    assert {r.name: r.output_shape for r in summarize(model, (3, size, size))}["flatten"] == (flat,)


def test_summary_leaves_training_mode_and_statistics_alone():
    model = lenet5_modern()
    before = model[1].running_mean.copy()
    summarize(model, (1, 28, 28))
    assert model.training and np.array_equal(model[1].running_mean, before)


def test_format_summary_has_every_layer_and_totals():
    text = format_summary(summarize(lenet5(), (1, 28, 28)), (1, 28, 28))
    assert text.splitlines()[0].split() == ["layer", "output", "params", "receptive", "field", "mult-adds"]
    assert "61,706" in text and "416,520" in text and len(text.splitlines()) == 17
