"""Run a loaded model's forward pass with onnxruntime instead of PyTorch, for inference on a CPU.

At the small batches of reading photos and video frames (one to a few faces), PyTorch's per-layer overhead
dominates: onnxruntime computes the same logits 2-4 times faster per face (docs/faces.md). The model is exported
in memory with PyTorch's TorchScript exporter (no `onnx` package needed), checked against PyTorch on random inputs,
and kept on the model object so every Analyzer sharing the model shares the session too. Where onnxruntime is
missing, the model is not on the CPU, or the export fails or differs, PyTorch runs as before.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch

from ferkit.errors import FerkitError

TOLERANCE = 1e-4  # max |onnxruntime - PyTorch| on the logits; same as ferkit export
RUNTIMES = ("auto", "onnx", "torch")


class OnnxForward:
    """`forward(x)`: logits (N, K) of preprocessed faces x (N, C, S, S), computed by onnxruntime."""

    def __init__(self, model: torch.nn.Module, threads: int | None = None) -> None:
        import onnxruntime as ort

        prep = model.preprocessing
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(model.eval(), (torch.zeros(1, prep.channels, prep.input_size, prep.input_size),),
                              buffer, input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
                              dynamo=False)  # fmt: skip
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads or torch.get_num_threads()  # as many as PyTorch was given
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # leave the cores to the detector
        self.session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
        x = torch.randn(4, prep.channels, prep.input_size, prep.input_size, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            self.difference = float((self(x) - model(x).float()).abs().max())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        pixels = np.ascontiguousarray(x.detach().float().cpu().numpy())
        return torch.from_numpy(self.session.run(None, {"input": pixels})[0])


class OnnxUnavailable(FerkitError, RuntimeError):
    """runtime="onnx" was asked for and onnxruntime cannot compute this model's logits (the message says why)."""


def forward_for(model: torch.nn.Module, runtime: str = "auto"):
    """The callable that computes `model`'s logits under `runtime`: "torch" (the model itself), "onnx"
    (onnxruntime, an error if it cannot be used) or "auto" (onnxruntime where it can be, else the model)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    if runtime == "torch":
        return model
    cached = getattr(model, "_ferkit_onnx_forward", None)
    if cached is None:
        cached = _build(model)
        model._ferkit_onnx_forward = cached  # shared by every Analyzer holding this model
    if not isinstance(cached, str):
        return cached
    if runtime == "onnx":
        raise OnnxUnavailable(f"onnxruntime cannot run this model: {cached}")
    return model  # `cached` says why not


def _build(model: torch.nn.Module) -> OnnxForward | str:
    """An OnnxForward, or the reason there is none."""
    if next(model.parameters()).device.type != "cpu":
        return "the model is not on the CPU"
    try:
        forward = OnnxForward(model)
    except Exception as error:  # no onnxruntime, or an operator the exporter or runtime lacks
        return f"{type(error).__name__}: {error}"
    if forward.difference > TOLERANCE:
        return f"its logits differ from PyTorch's by {forward.difference:.1e}"
    return forward
