"""Train the shipped digits networks with PyTorch and export them to ONNX.

    .venv/bin/pip install -e '.[torch]'      # torch is an optional extra
    .venv/bin/python scripts/train_digits_onnx.py

Writes experiments/models/digits_mlp.onnx (64 -> 32 ReLU -> 10) and
experiments/models/digits_cnn.onnx (a 3x3 convolution with stride 2 and padding 1 into 4
channels, ReLU, a 2x2 max pool, then 16 -> 10), trained on the training split the
experiments use: `workbench.data.load_dataset` with the digits dataset, seed 7, test size
0.2 and min-max scaling, exactly as experiments/digits_onnx_*.toml load it. Training is
seeded and single-threaded, so a run reproduces the committed files' accuracy (the bytes
may differ across torch versions).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - torch is an optional extra
    sys.exit("this script needs PyTorch: .venv/bin/pip install -e '.[torch]'")

from workbench.data import load_dataset
from workbench.kinds import Task
from workbench.experiment import DatasetSpec

OUT = Path(__file__).resolve().parent.parent / "experiments" / "models"
SEED = 7


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


class SmallCnn(nn.Module):
    """8x8 digits: conv 3x3 / stride 2 / padding 1 into 4 channels (4x4), ReLU, max pool 2x2 (2x2), linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.out = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.conv(x)))
        return self.out(torch.flatten(x, 1))


def train(model: nn.Module, X: np.ndarray, y: np.ndarray, shape: tuple[int, ...], epochs: int) -> nn.Module:
    torch.manual_seed(SEED)
    for p in model.parameters():  # re-initialize under the seed, whatever was drawn before
        if p.dim() > 1:
            nn.init.kaiming_uniform_(p, nonlinearity="relu")
        else:
            nn.init.zeros_(p)
    xs = torch.tensor(X, dtype=torch.float32).reshape(len(X), *shape)
    ys = torch.tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(SEED)
    for _ in range(epochs):
        order = torch.randperm(len(xs), generator=generator)
        for i in range(0, len(xs), 64):
            batch = order[i : i + 64]
            opt.zero_grad()
            loss_fn(model(xs[batch]), ys[batch]).backward()
            opt.step()
    return model.eval()


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray, shape: tuple[int, ...]) -> float:
    with torch.no_grad():
        pred = model(torch.tensor(X, dtype=torch.float32).reshape(len(X), *shape)).argmax(dim=1).numpy()
    return float(np.mean(pred == y))


def export(model: nn.Module, shape: tuple[int, ...], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model, (torch.zeros(1, *shape),), str(path), input_names=["pixels"], output_names=["logits"],
        dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False,
    )


def main() -> None:
    torch.set_num_threads(1)
    data = load_dataset(DatasetSpec(name="digits", test_size=0.2, scaling="minmax"), SEED, Task.CLASSIFICATION)
    for name, model, shape, epochs in (("digits_mlp", mlp(), (64,), 60), ("digits_cnn", SmallCnn(), (1, 8, 8), 80)):
        train(model, data.X_train, data.y_train, shape, epochs)
        export(model, shape, OUT / f"{name}.onnx")
        print(f"{name}: test accuracy {accuracy(model, data.X_test, data.y_test, shape):.4f} -> {OUT / name}.onnx")


if __name__ == "__main__":
    main()
