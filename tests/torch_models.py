"""A small MLP on scikit-learn's bundled digits, trained in about a second, for the torch tests.

Import only after ``require_module("torch")`` and ``require_module("sklearn")``.
"""

import functools

import numpy as np
import torch
from torch import nn

import lutgen
from lutgen.fixedpoint import FixedFormat


@functools.lru_cache(maxsize=None)
def digits_mlp():
    """(model, x_calib, x_eval, y_eval): a 64-24-24-24-24-10 MLP with GELU, SiLU, Sigmoid,
    Tanh, ~95% accurate; float32 tensors; deterministic."""
    from sklearn.datasets import load_digits

    torch.manual_seed(0)
    torch.set_num_threads(1)  # tiny matrices: threads only contend on a busy machine
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target, dtype=torch.int64)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(1))
    train, test = order[:1400], order[1400:]
    model = nn.Sequential(
        nn.Linear(64, 24), nn.GELU(),
        nn.Linear(24, 24), nn.SiLU(),
        nn.Linear(24, 24), nn.Sigmoid(),
        nn.Linear(24, 24), nn.Tanh(),
        nn.Linear(24, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x[train]), y[train])
        loss.backward()
        opt.step()
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, x[train], x[test], y[test]


def activation_inputs(model, x) -> dict:
    """Module name -> float64 array of the inputs each activation module saw on ``x``."""
    seen, hooks = {}, []
    for name, m in model.named_modules():
        if isinstance(m, (nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh)):
            hooks.append(m.register_forward_hook(
                lambda mod, inp, out, name=name: seen.update({name: inp[0].double().numpy()})))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return seen


def minmax_int8(lo: float, hi: float) -> FixedFormat:
    """The int8 affine format a MinMax observer picks for [lo, hi] (0 included)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0
    zero_point = int(np.clip(round(-128 - lo / scale), -128, 127))
    return FixedFormat.affine("int8", float(np.float32(scale)), zero_point)


def int8_specs(model, x) -> dict:
    """Module name -> TableSpec (int8 affine in and out, from ``x``'s ranges)."""
    from lutgen.spec import make_spec
    from lutgen.torch import activation_of

    specs = {}
    modules = dict(model.named_modules())
    for name, seen in activation_inputs(model, x).items():
        act, params = activation_of(modules[name])
        fin = minmax_int8(float(seen.min()), float(seen.max()))
        y = lutgen.reference(act, fin.codes_to_real(fin.codes()), **params)
        fout = minmax_int8(float(y.min()), float(y.max()))
        specs[name] = make_spec(act, params=params, in_format=fin, out_format=fout,
                                entries=32, saturation="allowed")
    return specs
