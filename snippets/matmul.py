"""Matrix multiplication four ways, timed, and what it means for batches, images and devices."""
# --8<-- [start:setup]
import time

import torch

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:loop]
def matmul_loop(A, B):
    n, k = A.shape
    k2, m = B.shape
    assert k == k2, f"inner sizes differ: ({n}, {k}) @ ({k2}, {m})"
    C = torch.zeros(n, m, device=A.device, dtype=A.dtype)
    for i in range(n):
        for j in range(m):
            for p in range(k):
                C[i, j] += A[i, p] * B[p, j]  # C_ij = Σ_p A_ip B_pj
    return C
# --8<-- [end:loop]

# --8<-- [start:broadcast]
def matmul_broadcast(A, B):
    # (n, k, 1) * (1, k, m) -> (n, k, m): every product A_ip B_pj at once, then sum over p
    return (A[:, :, None] * B[None, :, :]).sum(dim=1)
# --8<-- [end:broadcast]

# --8<-- [start:einsum]
def matmul_einsum(A, B):
    # "ik,kj->ij": k appears in both inputs but not in the output, so it is summed over
    return torch.einsum("ik,kj->ij", A, B)
# --8<-- [end:einsum]

# --8<-- [start:check]
A = torch.randn(8, 5, device=device)
B = torch.randn(5, 6, device=device)
reference = A @ B  # same as torch.matmul(A, B)
assert reference.shape == (8, 6)  # (n, k) @ (k, m) -> (n, m)
# float32 keeps about 7 significant digits; the methods add the same five products
# in different orders, which moves only the last bits, far below 1e-5.
TOL = dict(rtol=1e-5, atol=1e-5)
for ours in (matmul_loop, matmul_broadcast, matmul_einsum):
    torch.testing.assert_close(ours(A, B), reference, **TOL)
# One entry by hand: row 2 of A dotted with column 3 of B.
torch.testing.assert_close(reference[2, 3], torch.dot(A[2], B[:, 3]), **TOL)

shape_error = None
try:  # the inner sizes must agree: (8, 5) @ (6, 5) is undefined
    A @ torch.randn(6, 5, device=device)
except RuntimeError as error:
    shape_error = error
assert isinstance(shape_error, RuntimeError) and "cannot be multiplied" in str(shape_error)
print(shape_error)
# --8<-- [end:check]

# --8<-- [start:timing]
def synchronize():
    # GPU kernels run asynchronously: wait for them, or we time only the launch
    if device.type != "cpu":
        torch.accelerator.synchronize()


def seconds_per_call(f, A, B, repeats):
    f(A, B)  # warm-up: the first call pays one-off costs (kernel loading, allocator)
    synchronize()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        f(A, B)
        synchronize()
        best = min(best, time.perf_counter() - start)
    return best


methods = {"loop": matmul_loop, "broadcast": matmul_broadcast,
           "einsum": matmul_einsum, "@": torch.matmul}
small = [torch.randn(16, 16, device=device) for _ in range(2)]
large = [torch.randn(256, 256, device=device) for _ in range(2)]

product_terms = large[0][:, :, None] * large[1][None, :, :]  # the broadcast intermediate
assert product_terms.shape == (256, 256, 256)  # (n, k, m): k times larger than the result
result = large[0] @ large[1]
intermediate_mib = product_terms.numel() * product_terms.element_size() / 2**20
result_mib = result.numel() * result.element_size() / 2**20
assert intermediate_mib == 64.0 == 256 * result_mib  # 256**3 float32 values of 4 bytes each
# 256 products per entry instead of 5: rounding differences grow with k, hence 1e-4
torch.testing.assert_close(product_terms.sum(dim=1), result, rtol=1e-4, atol=1e-4)
torch.testing.assert_close(matmul_einsum(*large), result, rtol=1e-4, atol=1e-4)
del product_terms

timings = {}
for name, f in methods.items():
    timings[name, 16] = seconds_per_call(f, *small, repeats=1 if name == "loop" else 3)
    if name != "loop":  # 256**3 ≈ 17 million Python-level steps would take minutes
        timings[name, 256] = seconds_per_call(f, *large, repeats=3)
assert timings["@", 16] < timings["loop", 16]  # one library call beats 4096 Python steps

name_of_device = torch.cuda.get_device_name() if device.type == "cuda" else str(device)
print(f"seconds per call on {name_of_device} (best of 3 after a warm-up; the loop: one call)")
print(f"{'method':<10} {'16x16':>10} {'256x256':>10}")
for name in methods:
    large_time = f"{timings[name, 256]:10.2e}" if (name, 256) in timings else f"{'-':>10}"
    print(f"{name:<10} {timings[name, 16]:10.2e} {large_time}")
print(f"broadcast intermediate at 256: {intermediate_mib:g} MiB, the result: {result_mib:g} MiB")
# --8<-- [end:timing]

# --8<-- [start:batch]
n_samples, n_features, n_outputs = 4, 3, 2
X = torch.randn(n_samples, n_features, device=device)  # one sample per row
W = torch.randn(n_features, n_outputs, device=device)  # one output per column
Y = X @ W  # (N_samples, N_features) @ (N_features, N_outputs) -> (N_samples, N_outputs)
one_at_a_time = torch.stack([x @ W for x in X])
torch.testing.assert_close(Y, one_at_a_time, **TOL)

X_changed = X.clone()
X_changed[0] = 100.0  # change sample 0 only...
assert torch.equal((X_changed @ W)[1:], Y[1:])  # ...and the other rows do not move

linear = torch.nn.Linear(n_features, n_outputs).to(device)
# nn.Linear stores weight as (N_outputs, N_features) and computes x W^T + b
torch.testing.assert_close(linear(X), X @ linear.weight.T + linear.bias, **TOL)
# --8<-- [end:batch]

# --8<-- [start:flatten]
# Integer pixels (0-255, as image files store them) and small integer weights keep every
# partial sum an exact integer below 2**24, so float32 adds them exactly in any order.
images = torch.randint(0, 256, (5, 28, 28), device=device).float()
flat = images.flatten(1)  # (5, 28, 28) -> (5, 784); keeps dim 0, the batch
assert flat.shape == (5, 784)
assert torch.equal(flat, images.view(5, -1)) and torch.equal(flat, images.reshape(5, 784))
assert torch.equal(flat[:, 28 * 3 + 7], images[:, 3, 7])  # row r, column c -> index 28 r + c

dense = torch.randint(-3, 4, (784, 10), device=device).float()  # one weight per pixel and output
perm = torch.randperm(784, device=device)  # one shuffle of pixel positions, same for every image
shuffled_images = flat[:, perm]
shuffled_weights = dense[perm]  # move each pixel's weights along with the pixel
assert torch.equal(shuffled_images @ shuffled_weights, flat @ dense)
assert not torch.equal(shuffled_images, flat)  # the inputs really are scrambled
# --8<-- [end:flatten]

# --8<-- [start:where]
A = torch.randn(3, 3, device=device)
B = torch.randn(3, 3, device=device)
C = A @ B
assert A.device == B.device == C.device  # the product runs where its inputs are
assert C.device.type == device.type  # (device is "cuda", the tensor reports "cuda:0")
on_cpu = torch.randn(3, 3)  # noqa: device (no device=, so it lands on the default device)
assert on_cpu.device.type == "cpu" == torch.get_default_device().type
model = torch.nn.Linear(3, 2).to(device)  # .to moves every parameter of a model
assert model.weight.device.type == device.type
print(f"A: {A.device}, B: {B.device}, A @ B: {C.device}, torch.randn(3, 3): {on_cpu.device}")

if device.type != "cpu":  # mixing devices is an error, not an automatic copy
    mixed_error = None
    try:
        A @ on_cpu
    except RuntimeError as error:
        mixed_error = error
    assert isinstance(mixed_error, RuntimeError)
    assert "Expected all tensors to be on the same device" in str(mixed_error)  # the rest varies by version
    print(mixed_error)
    assert (A @ on_cpu.to(device)).device == A.device  # move it yourself, then it works
else:
    print("CPU only: every tensor above is on the CPU, so there is nothing to mix")
# --8<-- [end:where]

# --8<-- [start:elementwise]
S = torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
T = torch.tensor([[5.0, 6.0], [7.0, 8.0]], device=device)
assert torch.equal(S * T, torch.tensor([[5.0, 12.0], [21.0, 32.0]], device=device))  # S_ij T_ij
assert torch.equal(S @ T, torch.tensor([[19.0, 22.0], [43.0, 50.0]], device=device))  # Σ_p S_ip T_pj
print("all checks passed: loop, broadcast, einsum and @ agree; batch, flatten and device facts hold")
# --8<-- [end:elementwise]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_shape]
passengers = torch.randn(1424, 10, device=device)  # 1424 rows, 10 inputs each
weights = torch.randn(10, 2, device=device)        # 2 output units
print((passengers @ weights).shape)
try:
    weights @ passengers                           # (10, 2) @ (1424, 10): inner sizes 2 and 1424
    outcome = "weights @ passengers runs"
except RuntimeError as error:
    assert "cannot be multiplied" in str(error)
    outcome = f"weights @ passengers raises {type(error).__name__}"
print(outcome)
assert (passengers @ weights).shape == (1424, 2) and outcome.endswith("RuntimeError")
# --8<-- [end:quiz_shape]

# --8<-- [start:quiz_rows]
X = torch.arange(15.0, device=device).view(5, 3)  # 5 samples, 3 features, one sample per row
W = torch.tensor([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]], device=device)
X_new = X.clone()
X_new[2] += 1.0                                   # change sample 2 only
changed = ((X_new @ W) != (X @ W)).any(dim=1).nonzero().flatten().tolist()
print(f"output rows that changed: {changed}")
assert changed == [2]                             # row i of X @ W uses row i of X only
# --8<-- [end:quiz_rows]

# --8<-- [start:quiz_star]
P = torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
swap = torch.tensor([[0.0, 1.0], [1.0, 0.0]], device=device)
print(f"P @ swap: {(P @ swap).tolist()}")
print(f"P * swap: {(P * swap).tolist()}")
assert torch.equal(P @ swap, P.flip(1))           # the product swaps the columns
assert torch.equal(P * swap, torch.where(swap == 1, P, 0.0))  # * keeps entries where swap is 1
# --8<-- [end:quiz_star]

# --8<-- [start:quiz_device]
A = torch.randn(3, 3, device=device)
B = torch.randn(3, 3, device=device)
loose = torch.randn(3, 3)  # noqa: device (no device=, on purpose)
print(f"A @ B on device: {(A @ B).device.type == device.type}; loose on: {loose.device.type}")
assert (A @ B).device == A.device and loose.device.type == "cpu"
# --8<-- [end:quiz_device]
