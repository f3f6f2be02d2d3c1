"""Temperature scaling (Guo et al. 2017): one scalar T > 0 dividing the logits, fitted on the validation split
by minimising the negative log-likelihood. It changes confidence, never the predicted class."""

from __future__ import annotations

import numpy as np
import torch


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T minimising mean NLL of softmax(logits / T); searched over log T, so T stays positive."""
    z = torch.as_tensor(logits, dtype=torch.float64)
    y = torch.as_tensor(labels, dtype=torch.long)
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(z / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    t = float(log_t.detach().exp())
    return t if np.isfinite(t) and 1e-2 < t < 1e2 else 1.0


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def calibration_effect(logits: np.ndarray, labels: np.ndarray, t: float) -> dict:
    """NLL (what the temperature minimises) and ECE before and after dividing the logits by t."""
    from ferkit.engine.metrics import expected_calibration_error

    out = {}
    for when, temp in (("before", 1.0), ("after", t)):
        probs = softmax(logits, temp)
        out[f"nll_{when}"] = float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean())
        out[f"ece_{when}"] = expected_calibration_error(probs, labels)[0]
    return out
