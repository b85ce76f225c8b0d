"""GPUs and devices: where an operation runs, moving tensors and models, timing, layers, memory per example."""
# --8<-- [start:setup]
import time

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:where]
A = torch.randn(4, 3, device=device)
B = torch.randn(3, 2, device=device)
C = torch.relu(A @ B + 1).sum()              # no device named anywhere on this line
assert A.device == B.device == C.device      # it ran where its inputs are; the result stays there
assert C.device.type == device.type

plain = torch.zeros(2)  # noqa: device (no device=, so it lands on the default device)
assert plain.device.type == "cpu" == torch.get_default_device().type
with torch.device(device):                   # a temporary default device for the factories inside
    inside = torch.zeros(2)  # noqa: device (the with-block supplies the device)
assert inside.device.type == device.type
print(f"A: {A.device}, B: {B.device}, result: {C.device}; default device: {torch.get_default_device()}")
# --8<-- [end:where]

# --8<-- [start:move]
x_cpu = torch.randn(3, device="cpu")         # a batch as a data loader would give it: on the CPU
x_dev = x_cpu.to(device)                     # .to returns a tensor on device ...
assert x_cpu.device.type == "cpu"            # ... and leaves the original where it was
assert torch.equal(x_dev.cpu(), x_cpu)
if device.type == "cpu":
    assert x_dev is x_cpu                    # already there: .to returns the same tensor, no copy
else:
    assert x_dev is not x_cpu and x_dev.data_ptr() != x_cpu.data_ptr()  # a copy in the GPU's memory
assert x_dev.to(device) is x_dev             # moving to where it already is costs nothing
assert x_dev.to(device, copy=True) is not x_dev  # unless a copy is asked for

x_cpu.to(device)                             # result thrown away: x_cpu itself is unchanged
assert x_cpu.device.type == "cpu"

model = nn.Linear(3, 2)                      # parameters start on the default device, the CPU
weight = model.weight
returned = model.to(device)                  # for a module, .to works in place ...
assert returned is model                     # ... and returns the module itself
assert model.weight is weight                # the same Parameter object, its data now on device
assert all(p.device.type == device.type for p in model.parameters())
assert model(x_dev).device == x_dev.device
# --8<-- [end:move]

# --8<-- [start:mixed]
on_cpu = torch.randn(3, 3, device="cpu")
if device.type == "cuda":
    mixed_error = None
    try:
        A @ on_cpu                           # A is on the GPU, on_cpu is not
    except RuntimeError as error:
        mixed_error = error
    assert isinstance(mixed_error, RuntimeError)
    assert "Expected all tensors to be on the same device" in str(mixed_error)  # the rest varies by version
    print(mixed_error)
    assert (A @ on_cpu.to(device)).device == A.device  # move it yourself, then it works
    scale = torch.tensor(2.0, device="cpu")  # the one exception: a CPU tensor with no axes
    assert (A * scale).device == A.device    # acts as a plain number and may be mixed in
else:
    print("CPU only: every tensor is on the CPU, so nothing can be mixed")
# --8<-- [end:mixed]

# --8<-- [start:timing]
def synchronize():
    """Wait until the accelerator has finished everything queued so far; on the CPU nothing is queued."""
    if device.type != "cpu":
        torch.accelerator.synchronize()


def seconds(work, wait):
    synchronize()                            # start with nothing queued
    start = time.perf_counter()
    work()
    if wait:
        synchronize()                        # include the time the device needs to finish
    return time.perf_counter() - start


size = 4096 if device.type != "cpu" else 128  # ten 4096-square products: 6.9e11 multiply-adds
M = torch.randn(size, size, device=device)


def ten_products():
    for _ in range(10):
        M @ M


ten_products()                               # warm-up: library initialisation, memory pool
began = time.perf_counter()
launched = seconds(ten_products, wait=False)
finished = seconds(ten_products, wait=True)
# two intervals, one after the other, inside the one since `began`: each positive, together no longer than it
assert 0 < launched and 0 < finished and launched + finished <= time.perf_counter() - began
if device.type != "cpu":
    assert launched < finished               # without waiting we timed the launches, not the work
torch.cpu.synchronize()                      # exists for device-agnostic code; on the CPU nothing is queued
print(f"ten {size}x{size} products on {device.type}: {launched * 1e3:.2f} ms without waiting, "
      f"{finished * 1e3:.2f} ms waiting for the result")
# --8<-- [end:timing]

# --8<-- [start:layers]
def whole_numbers(*shape):
    # small integers: every sum below is exact in float32, in any order, so equal means equal
    return torch.randint(-3, 4, shape, device=device).float()


X = whole_numbers(8, 5)                      # 8 examples, 5 inputs each
W1, b1 = whole_numbers(5, 4), whole_numbers(4)  # layer 1: 4 units
W2, b2 = whole_numbers(4, 2), whole_numbers(2)  # layer 2: 2 units


def layer1(X):
    return torch.relu(X @ W1 + b1)           # H = relu(X W1 + b1)


def layer2(H):
    return H @ W2 + b2                       # Y = H W2 + b2: row i of Y needs all of row i of H


H = layer1(X)                                # one call: 8 rows × 4 units at once
by_row = torch.stack([torch.relu(X[i] @ W1 + b1) for i in range(8)])
by_unit = torch.stack([torch.relu(X @ W1[:, j] + b1[j]) for j in range(4)], dim=1)
assert torch.equal(H, by_row) and torch.equal(H, by_unit)  # rows and units are independent

Y = layer2(layer1(X))                        # one batch, one forward pass: layer 1, then layer 2
# PyTorch's dense layer, F.linear(x, weight, bias) = x weightᵀ + bias, computes the same (exact sums)
assert torch.equal(Y, F.linear(F.relu(F.linear(X, W1.T, b1)), W2.T, b2))
# Without the ReLU the two layers would collapse into one: (X W1 + b1) W2 + b2 = X (W1 W2) + (b1 W2 + b2)
assert torch.equal((X @ W1 + b1) @ W2 + b2, X @ (W1 @ W2) + (b1 @ W2 + b2))
assert not torch.equal(Y, X @ (W1 @ W2) + (b1 @ W2 + b2))  # with it, layer 2 must wait for layer 1

# Row i of Y needs only row i of H: the wait is per row, not per batch. Cut the batch into micro-batches
# and the layers can overlap in time (pipeline parallelism, each layer on its own device): at every tick,
# layer 2 works on the micro-batch that layer 1 finished at the tick before, while layer 1 takes the next.
micro_batches = X.split(2)                   # 4 micro-batches of 2 rows
outputs, ready = [], None                    # ready: what layer 1 finished at the previous tick
for tick in range(len(micro_batches) + 1):
    if ready is not None:                    # the two calls of a tick share no data: they could run at once
        outputs.append(layer2(ready))        # layer 2 on micro-batch tick - 1, while ...
    ready = layer1(micro_batches[tick]) if tick < len(micro_batches) else None  # ... layer 1 on micro-batch tick
assert torch.equal(torch.cat(outputs), Y)    # the same output as the whole batch, row for row
# --8<-- [end:layers]

# --8<-- [start:memory]
mlp = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)


def saved_bytes(model, batch_size):
    """Bytes of the tensors autograd keeps for backward during one forward pass, parameters left out."""
    x = torch.randn(batch_size, 784, device=device)
    y = torch.randint(0, 10, (batch_size,), device=device)
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    kept = {}                                # one entry per block of memory: a tensor saved twice counts once

    def pack(t):
        block = t.untyped_storage().data_ptr()
        if block not in parameters:
            kept[block] = t.numel() * t.element_size()  # bytes = numel × element_size
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        F.cross_entropy(model(x), y)
    return sum(kept.values())


def bytes_by_hand(batch_size):
    float32, int64 = 4, 8
    per_example = (784 + 128 + 10) * float32 + int64  # input, ReLU output, log-probabilities; the label
    return batch_size * per_example + float32         # and one scalar: cross-entropy's normaliser


for batch_size in (1, 32, 256):
    assert saved_bytes(mlp, batch_size) == bytes_by_hand(batch_size), batch_size
per_example = bytes_by_hand(2) - bytes_by_hand(1)
assert per_example == 3696
print(f"autograd keeps {per_example} bytes per example: "
      f"{2**30 // per_example:,} examples' worth fit in 1 GiB")
# --8<-- [end:memory]

# --8<-- [start:cuda_memory]
generic = hasattr(torch.accelerator, "max_memory_allocated")  # a device-agnostic spelling of the same count
if torch.__version__ < "2.8":
    assert not generic                       # torch 2.6 and 2.7: only the per-backend torch.cuda version
elif torch.__version__ >= "2.10":
    assert generic                           # in torch.accelerator by 2.10 (it counts accelerator memory only)
batch_size = 4096
x = torch.randn(batch_size, 784, device=device)
y = torch.randint(0, 10, (batch_size,), device=device)
created = bytes_by_hand(batch_size) - x.numel() * x.element_size() - y.numel() * y.element_size()
assert created == batch_size * (128 + 10) * 4 + 4  # beyond the batch: ReLU outputs, log-probabilities, a scalar
if device.type == "cuda":
    mlp.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    loss = F.cross_entropy(mlp(x), y)
    after_forward = torch.cuda.memory_allocated()
    loss.backward()
    peak = torch.cuda.max_memory_allocated()
    assert after_forward - before >= created  # what the forward kept, beyond the batch itself
    assert peak >= after_forward
    print(f"CUDA, batch {batch_size}: forward kept {(after_forward - before) / 2**20:.2f} MiB "
          f"(by hand {created / 2**20:.2f} MiB beyond the batch), peak {(peak - before) / 2**20:.2f} MiB")
# --8<-- [end:cuda_memory]

# --8<-- [start:noise]
Xr = torch.randn(1024, 3, device=device)     # a linear-regression dataset
yr = Xr @ torch.tensor([2.0, -1.0, 0.5], device=device) + 0.3 * torch.randn(1024, device=device)
w = torch.zeros(3, device=device)
per_example_grads = 2 * (Xr @ w - yr)[:, None] * Xr  # ∇_w (x·w − y)² for each example
# autograd agrees when each example gets its own copy of w: example i's loss depends on copy i only, so
# one backward of the summed losses leaves example i's gradient in row i (torch.func.vmap does it generally)
copies = w.expand(1024, 3).clone().requires_grad_()
(((Xr * copies).sum(dim=1) - yr) ** 2).sum().backward()
torch.testing.assert_close(per_example_grads, copies.grad)  # float32, a few operations: default tolerance
full = per_example_grads.mean(dim=0)         # the gradient on the whole dataset
spread = ((per_example_grads - full) ** 2).sum(dim=1).mean()


def gradient_noise(batch_size, n_batches=4000):
    idx = torch.randint(0, 1024, (n_batches, batch_size), device=device)  # random mini-batches
    g = per_example_grads[idx].mean(dim=1)   # one mini-batch gradient per row
    return ((g - full) ** 2).sum(dim=1).mean()  # E‖g_B − g‖²


noise = {b: gradient_noise(b) for b in (4, 64)}
for b, measured in noise.items():
    # E‖g_B − g‖² = spread / B; 4000 random batches estimate it to a few percent, hence rtol=0.15
    torch.testing.assert_close(measured, spread / b, rtol=0.15, atol=0.0)
# --8<-- [end:noise]

# --8<-- [start:summary]
print(f"gradient noise E|g_B - g|^2: batch 4: {noise[4]:.3f}, batch 64: {noise[64]:.3f} "
      f"(spread / B: {spread / 4:.3f}, {spread / 64:.3f})")
print(f"all device checks passed on {device.type}")
# --8<-- [end:summary]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_follow]
P = torch.randn(4, 3, device=device)
Q = torch.randn(3, 2, device=device)
R = torch.relu(P @ Q + 1).sum()              # no device named on this line
print(f"R.device.type == device.type: {R.device.type == device.type}")
assert R.device == P.device == Q.device      # it ran where its inputs are
# --8<-- [end:quiz_follow]

# --8<-- [start:quiz_to]
batch = torch.randn(3, device="cpu")         # as a data loader hands it over
batch.to(device)                             # the bug: the moved tensor is thrown away
print(batch.device.type)
assert batch.device.type == "cpu"            # on every machine
batch = batch.to(device)                     # the fix: keep what .to returns
assert batch.device.type == device.type
# --8<-- [end:quiz_to]

# --8<-- [start:quiz_module]
net = nn.Linear(3, 2)                        # parameters start on the CPU
weight_before = net.weight
net.to(device)                               # result not assigned, on purpose
on_device = net.weight.device.type == device.type
print(f"same Parameter: {net.weight is weight_before}, on device: {on_device}")
assert net.weight is weight_before and on_device  # a module moves in place
# --8<-- [end:quiz_module]

# --8<-- [start:quiz_noise]
ratio = noise[4] / noise[64]                 # measured above, E|g_B - g|^2 for batches of 4 and 64
in_range = 12 < ratio < 20
print(f"noise(4) / noise(64) between 12 and 20: {in_range}; spread / B predicts {(spread / 4) / (spread / 64):g}")
assert in_range                              # sixteen times the batch, a sixteenth of the noise
# --8<-- [end:quiz_noise]
