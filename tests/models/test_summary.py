from ferkit.models import create_model
from ferkit.models.summary import summarize_torch


def test_rows_params_receptive_fields_and_macs():
    model = create_model("lenet5", num_classes=10, input_size=28)
    rows = summarize_torch(model, (1, 28, 28))
    by_name = {r.name: r for r in rows}
    assert sum(r.params for r in rows) == sum(p.numel() for p in model.parameters())
    conv1, conv2 = by_name["features.0"], by_name["features.4"]
    assert conv1.output_shape == (6, 28, 28) and conv1.receptive_field == (5, 5) and conv1.macs == 6 * 28 * 28 * 25
    assert conv2.output_shape == (16, 10, 10) and conv2.receptive_field == (14, 14)
    assert rows[-1].output_shape == (10,) and rows[-1].receptive_field is None


def test_resnet_receptive_field_grows_through_the_residual_blocks():
    rows = summarize_torch(create_model("resnet"), (1, 48, 48))
    fields = [r.receptive_field[0] for r in rows if r.receptive_field]
    assert fields[0] == 3 and max(fields) == 48  # clipped to the input once it covers it all
