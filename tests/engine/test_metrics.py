import numpy as np
import pytest

from ferkit.engine.calibration import fit_temperature, softmax
from ferkit.engine.metrics import classification_report, confusion_matrix, expected_calibration_error

metrics = pytest.importorskip("sklearn.metrics")


def test_scores_equal_scikit_learn():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 300)
    probs = rng.dirichlet(np.ones(5), 300)
    probs[np.arange(300), labels] += rng.random(300)  # better than chance
    probs /= probs.sum(1, keepdims=True)
    pred = probs.argmax(1)
    report = classification_report(probs, labels, tuple("abcde"))
    np.testing.assert_array_equal(report["confusion"], metrics.confusion_matrix(labels, pred))
    assert report["accuracy"] == pytest.approx(metrics.accuracy_score(labels, pred))
    assert report["macro_f1"] == pytest.approx(metrics.f1_score(labels, pred, average="macro"))
    p, r, f, s = metrics.precision_recall_fscore_support(labels, pred, zero_division=0)
    assert [report["per_class"][c]["precision"] for c in "abcde"] == pytest.approx(p)
    assert [report["per_class"][c]["recall"] for c in "abcde"] == pytest.approx(r)
    assert [report["per_class"][c]["support"] for c in "abcde"] == list(s)


def test_ece_of_a_hand_made_example():
    # Two bins' worth: 0.9-confident and right 3 of 4 times, 0.6-confident and right 1 of 2.
    probs = np.array([[0.9, 0.1]] * 4 + [[0.6, 0.4]] * 2)
    labels = np.array([0, 0, 0, 1, 0, 1])
    ece, bins = expected_calibration_error(probs, labels, bins=10)
    assert ece == pytest.approx(4 / 6 * abs(0.75 - 0.9) + 2 / 6 * abs(0.5 - 0.6))
    assert sum(b["n"] for b in bins) == 6
    assert confusion_matrix(labels, probs.argmax(1), 2).tolist() == [[4, 0], [2, 0]]


def test_temperature_scaling_recovers_an_overconfident_scale():
    rng = np.random.default_rng(1)
    true_logits = rng.normal(size=(4000, 7)) * 2
    labels = np.array([rng.choice(7, p=p) for p in softmax(true_logits)])
    t = fit_temperature(true_logits * 3, labels)  # the "model" is 3x overconfident
    assert t == pytest.approx(3, rel=0.1)
    before, _ = expected_calibration_error(softmax(true_logits * 3), labels)
    after, _ = expected_calibration_error(softmax(true_logits * 3, t), labels)
    assert after < before / 2
