"""The ONNX files of one small MLP on scikit-learn's digits, for the ONNX tests: exported by
both of torch's exporters and quantised (QDQ int8) by ONNX Runtime's ``quantize_static``.

Import only after ``require_module`` of onnx, onnxruntime, torch and sklearn.
"""

import warnings

import numpy as np
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

ACTS = ("gelu", "silu", "sigmoid", "tanh", "hard_swish", "relu6")  # the model's, in order


def digits():
    """(x, y): the digits, x in [0, 1] float32."""
    from sklearn import datasets

    x, y = datasets.load_digits(return_X_y=True)
    return (x / 16.0).astype(np.float32), y


def trained_mlp(x, y):
    """A 64-24x6-10 MLP with one of each of ACTS, trained 150 Adam steps (about a second)."""
    torch.manual_seed(0)
    layers, width = [], 64
    for act in (torch.nn.GELU(), torch.nn.SiLU(), torch.nn.Sigmoid(), torch.nn.Tanh(),
                torch.nn.Hardswish(), torch.nn.ReLU6()):
        layers += [torch.nn.Linear(width, 24), act]
        width = 24
    net = torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    xt, yt = torch.tensor(x), torch.tensor(y)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xt), yt).backward()
        opt.step()
    return net.eval()


def export(net, x, path, opset: int, dynamo: bool = False):
    """``net`` as ONNX (input "x", output "y", a dynamic batch) in ``path``."""
    xt = torch.tensor(x[:1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(net, (xt,), path, dynamo=True, opset_version=opset,
                              input_names=["x"], output_names=["y"],
                              dynamic_shapes=({0: torch.export.Dim("n")},), verbose=False)
        else:
            torch.onnx.export(net, (xt,), path, dynamo=False, opset_version=opset,
                              input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "n"}})


def quantize_qdq(src, dst, x, activation_type=QuantType.QInt8, samples=600):
    """``src`` quantised statically (QDQ, int8 weights) on the first ``samples`` of ``x``."""

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"x": x[i:i + 100]} for i in range(0, samples, 100)])

        def get_next(self):
            return next(self.batches, None)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=activation_type, weight_type=QuantType.QInt8)
