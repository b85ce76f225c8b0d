"""What `python -m benchmarks` times: each case pairs code from a snippet with PyTorch's own.

A case's `make(device, load)` returns two argument-free callables, ours and PyTorch's, on `device`;
`load(name)` runs snippets/<name>.py (its checks included) and returns its namespace."""

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch.utils import benchmark

# An MLP's parameter shapes (784 -> 1024 -> 512 -> 10): 1,333,770 numbers in six tensors.
MLP_SHAPES = [(1024, 784), (1024,), (512, 1024), (512,), (10, 512), (10,)]
MLP_SIZE = f"{sum(torch.Size(s).numel() for s in MLP_SHAPES):,} params"


@dataclass
class Case:
    group: str  # the section of the results file a page includes
    name: str
    reference: str
    size: str
    make: Callable
    target: float | None = None  # the largest acceptable ours / PyTorch ratio, where there is one

    def time(self, device, load, min_run_time: float, rounds: int = 7) -> dict:
        """Seconds per call of ours and of PyTorch's, measured in alternating rounds so that a load
        that comes and goes on the machine falls on both alike. Returns the medians over the rounds
        and the ratio's median and range over the rounds: one figure alone would hide how much a
        timing moves from one round to the next."""
        functions = self.make(device, load)
        timers = []
        for fn in functions:
            for _ in range(3):  # warm-up: first-touch page faults, lazy optimizer state, caches
                fn()
            timers.append(benchmark.Timer("fn()", globals={"fn": fn}, num_threads=torch.get_num_threads()))
        ours, theirs = [], []
        for _ in range(rounds):
            for timer, times in zip(timers, (ours, theirs)):
                times.append(timer.blocked_autorange(min_run_time=min_run_time / rounds).median)
        ratios = sorted(a / b for a, b in zip(ours, theirs))
        median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        return dict(ours=median(ours), torch=median(theirs), ratio=median(ratios),
                    ratio_low=ratios[0], ratio_high=ratios[-1], rounds=rounds)


def mlp_parameters(device):
    """Fresh parameters with fixed gradients, as after a backward pass."""
    generator = torch.Generator(device=device).manual_seed(0)
    params = []
    for shape in MLP_SHAPES:
        p = torch.randn(shape, device=device, generator=generator, requires_grad=True)
        p.grad = torch.randn(shape, device=device, generator=generator)
        params.append(p)
    return params


def optimizer(group, name, snippet, class_name, torch_class, **options):
    def make(device, load):
        ours = load(snippet)[class_name](mlp_parameters(device), **options)
        theirs = torch_class(mlp_parameters(device), **options)  # its default: a loop on CPU, foreach on CUDA
        return ours.step, theirs.step

    return Case(group, name, f"torch.optim.{torch_class.__name__}", MLP_SIZE, make, target=1.5)


def random(device, *shape):
    return torch.randn(*shape, device=device, generator=torch.Generator(device=device).manual_seed(0))


def ids(device, high, n):
    return torch.randint(0, high, (n,), device=device, generator=torch.Generator(device=device).manual_seed(0))


def cross_entropy(device, load):
    ours, logits, labels = load("cross_entropy")["cross_entropy"], random(device, 2048, 1000), ids(device, 1000, 2048)
    return lambda: ours(logits, labels), lambda: F.cross_entropy(logits, labels)


def embedding(function):
    def make(device, load):
        ours, table, rows = load("embeddings")[function], random(device, 5000, 64), ids(device, 5000, 1024)
        return lambda: ours(rows, table), lambda: F.embedding(rows, table)
    return make


def conv1d(device, load):
    ours, x, w, b = load("convolutions_as_matmul")["conv1d_as_matmul"], *(random(device, *s) for s in
                                                                          [(32, 8, 128), (16, 8, 5), (16,)])
    return lambda: ours(x, w, b), lambda: F.conv1d(x, w, b)


def conv2d(device, load):
    ours, x, w, b = load("convolutions_as_matmul")["conv2d_as_matmul"], *(random(device, *s) for s in
                                                                          [(16, 8, 32, 32), (16, 8, 3, 3), (16,)])
    return lambda: ours(x, w, b), lambda: F.conv2d(x, w, b)


def matmul(function, n):
    def make(device, load):
        ours, a, b = load("matmul")[function], random(device, n, n), random(device, n, n).T.contiguous()
        return lambda: ours(a, b), lambda: a @ b
    return make


CASES = [
    optimizer("momentum", "SGD + momentum (readable)", "momentum", "Momentum", torch.optim.SGD, lr=0.01, momentum=0.9),
    optimizer("momentum", "SGD + momentum (foreach)", "momentum", "ForeachMomentum", torch.optim.SGD,
              lr=0.01, momentum=0.9),
    optimizer("rmsprop", "RMSProp (readable)", "rmsprop", "RMSProp", torch.optim.RMSprop, lr=0.01),
    optimizer("rmsprop", "RMSProp (foreach)", "rmsprop", "ForeachRMSProp", torch.optim.RMSprop, lr=0.01),
    optimizer("adam", "Adam (readable)", "adam", "Adam", torch.optim.Adam, lr=1e-3),
    optimizer("adam", "Adam (foreach)", "adam", "ForeachAdam", torch.optim.Adam, lr=1e-3),
    optimizer("adamw", "AdamW (readable)", "weight_decay", "AdamW", torch.optim.AdamW, lr=1e-3, weight_decay=1e-2),
    optimizer("adamw", "AdamW (foreach)", "weight_decay", "ForeachAdamW", torch.optim.AdamW,
              lr=1e-3, weight_decay=1e-2),
    Case("cross-entropy", "cross-entropy via log-softmax", "F.cross_entropy", "2048 x 1000 logits", cross_entropy),
    Case("embeddings", "embedding: table[ids]", "F.embedding", "5000 x 64 table, 1024 ids", embedding("embed_by_lookup")),
    Case("embeddings", "embedding: one-hot @ table", "F.embedding", "5000 x 64 table, 1024 ids",
         embedding("embed_by_one_hot")),
    Case("convolutions", "conv1d as one matmul (Toeplitz)", "F.conv1d", "32x8x128, 16 kernels of 5", conv1d),
    Case("convolutions", "conv2d as unfold + matmul", "F.conv2d", "16x8x32x32, 16 kernels 3x3", conv2d),
    Case("matmul", "matmul: three Python loops", "A @ B", "16x16 @ 16x16", matmul("matmul_loop", 16)),
    Case("matmul", "matmul: broadcast and sum", "A @ B", "256x256 @ 256x256", matmul("matmul_broadcast", 256)),
    Case("matmul", "matmul: einsum", "A @ B", "256x256 @ 256x256", matmul("matmul_einsum", 256)),
]
