"""Train a small MLP on scikit-learn's bundled digits and save what `lutgen budget` takes.

    python examples/torch_digits.py OUT_DIR

writes OUT_DIR/mlp.pt (the whole nn.Module, torch.save), x_calib.npy, x_eval.npy and
y_eval.npy. Needs torch and scikit-learn (pip install -e '.[torch,test-models]').
docs/QUANTIZED.md walks from here to tables and a C header.
"""

import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
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
        nn.functional.cross_entropy(model(x[train]), y[train]).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x[test]).argmax(1) == y[test]).float().mean().item() * 100
    torch.save(model, out / "mlp.pt")
    np.save(out / "x_calib.npy", x[train].numpy())
    np.save(out / "x_eval.npy", x[test].numpy())
    np.save(out / "y_eval.npy", y[test].numpy())
    print(f"test accuracy {accuracy:.2f} %; wrote mlp.pt, x_calib.npy, x_eval.npy, "
          f"y_eval.npy to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
