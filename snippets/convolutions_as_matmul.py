"""Convolutions as matrix products with tied weights: a Toeplitz matrix for conv1d, unfold for conv2d."""
# --8<-- [start:setup]
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:toeplitz]
def shift_matrix(k, length_out, length, device):
    # S_k[t, s] = 1 where s = t + k: output position t reads input position t + k
    return torch.eye(length, device=device)[k : k + length_out]


def conv1d_matrix(weight, length):
    """The matrix M with M[(o, t), (i, t + k)] = weight[o, i, k]; zero everywhere else."""
    c_out, c_in, K = weight.shape
    length_out = length - K + 1  # stride 1, no padding: the kernel must fit inside the signal
    # kron(W_k, S_k) puts weight[o, i, k] on the k-th diagonal of block (o, i): M = Σ_k W_k ⊗ S_k
    return sum(torch.kron(weight[:, :, k], shift_matrix(k, length_out, length, weight.device))
               for k in range(K))


def conv1d_as_matmul(x, weight, bias):
    N, c_in, length = x.shape
    M = conv1d_matrix(weight, length)  # (C_out·L_out, C_in·L)
    y = x.flatten(1) @ M.T  # (N, C_in·L) @ (C_in·L, C_out·L_out): the whole layer is one product
    return y.view(N, weight.shape[0], -1) + bias[:, None]  # y[n,o,t] = Σ_{i,k} w[o,i,k] x[n,i,t+k] + b[o]


# One channel in, one out, kernel (1, 2, 3), signal of length 6: a banded (Toeplitz) matrix.
small = conv1d_matrix(torch.tensor([[[1.0, 2.0, 3.0]]], device=device), length=6)
assert torch.equal(small, torch.tensor([[1.0, 2.0, 3.0, 0.0, 0.0, 0.0],
                                        [0.0, 1.0, 2.0, 3.0, 0.0, 0.0],
                                        [0.0, 0.0, 1.0, 2.0, 3.0, 0.0],
                                        [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]], device=device))
assert torch.equal(small[1:, 1:], small[:-1, :-1])  # Toeplitz: constant along every diagonal
print(small)
# --8<-- [end:toeplitz]

# --8<-- [start:check1d]
N, c_in, c_out, K, length = 4, 2, 3, 3, 16
x = torch.randn(N, c_in, length, device=device)
w = torch.randn(c_out, c_in, K, device=device)
b = torch.randn(c_out, device=device)
length_out = length - K + 1
# float32: both sides add the same C_in·K = 6 products per output, in a different order (the
# product also adds exact zeros, which change nothing): a few ulps, so 1e-5 leaves ample room.
# On NVIDIA GPUs (Ampere and newer) cuDNN computes float32 convolutions in TF32 by default (10 mantissa
# bits, ~5e-4 relative rounding per operand), so there F.conv* agrees with our float32 product to ~1e-3.
assert torch.backends.cudnn.allow_tf32  # that default, on torch 2.6 to 2.14 ...
assert not torch.backends.cuda.matmul.allow_tf32  # ... while matrix products default to full float32
tf32 = device.type == "cuda" and torch.backends.cudnn.allow_tf32
TOL = dict(rtol=1e-2, atol=1e-2) if tf32 else dict(rtol=1e-5, atol=1e-5)
torch.testing.assert_close(conv1d_as_matmul(x, w, b), F.conv1d(x, w, b), **TOL)
# padding=1 adds a zero at each end of the signal: pad first, then the same matrix product
torch.testing.assert_close(conv1d_as_matmul(F.pad(x, (1, 1)), w, b), F.conv1d(x, w, b, padding=1), **TOL)
assert F.conv1d(x, w, b, padding=1).shape == (N, c_out, length)  # padding=1 keeps the length for K=3

# The same numbers from a dense layer whose weight matrix IS the Toeplitz matrix.
conv = nn.Conv1d(c_in, c_out, K).to(device)
dense = nn.Linear(c_in * length, c_out * length_out).to(device)
with torch.no_grad():
    dense.weight.copy_(conv1d_matrix(conv.weight, length))
    dense.bias.copy_(conv.bias.repeat_interleave(length_out))  # one bias per channel, copied per position
torch.testing.assert_close(dense(x.flatten(1)).view(N, c_out, length_out), conv(x), **TOL)
# --8<-- [end:check1d]

# --8<-- [start:structure]
M = conv1d_matrix(w, length)
assert M.shape == (c_out * length_out, c_in * length)  # (42, 32): 1344 entries
nonzero = M[M != 0]
assert nonzero.numel() == c_out * c_in * K * length_out  # 252: each output reads C_in·K inputs
values, copies = nonzero.unique(return_counts=True)
assert torch.equal(values, w.flatten().unique())  # the nonzero entries are the kernel's values...
assert values.numel() == w.numel() == 18  # ...only 18 distinct numbers...
assert (copies == length_out).all()  # ...each tied: the same weight at all 14 output positions


def count(layer):
    return sum(p.numel() for p in layer.parameters())


assert count(conv) == c_out * c_in * K + c_out == 21  # weights + one bias per output channel
assert count(dense) == (c_in * length) * (c_out * length_out) + c_out * length_out == 1386

# A 3x3 conv from 3 to 8 channels on a 32x32 image, against a dense layer with the same in and out sizes.
conv2d_params = count(nn.Conv2d(3, 8, 3).to(device))
dense2d_in, dense2d_out = 3 * 32 * 32, 8 * 30 * 30
dense2d_params = dense2d_in * dense2d_out + dense2d_out  # weights + one bias per output
# built on the "meta" device: shapes only, no storage for its 22 million floats
assert count(nn.Linear(dense2d_in, dense2d_out, device="meta")) == dense2d_params
assert conv2d_params == 8 * 3 * 3 * 3 + 8 == 224 and dense2d_params > 22_000_000

# Weight sharing: shift the input one step right, and the output shifts one step right too.
shifted = F.pad(x, (1, 0))[:, :, :-1]  # x[t-1], with a zero entering on the left
torch.testing.assert_close(F.conv1d(shifted, w, b)[:, :, 1:], F.conv1d(x, w, b)[:, :, :-1], **TOL)
print(f"conv1d {count(conv)} vs dense {count(dense)} parameters; "
      f"{1 - nonzero.numel() / M.numel():.0%} of the Toeplitz matrix is zero")
print(f"3x3 conv2d on 3x32x32: {conv2d_params} parameters; a dense layer of the same shape: {dense2d_params:,}")
# --8<-- [end:structure]

# --8<-- [start:unfold]
def conv2d_as_matmul(x, weight, bias):
    N, c_in, H, W = x.shape
    c_out, _, kh, kw = weight.shape
    cols = F.unfold(x, (kh, kw))  # (N, C_in·kh·kw, P): im2col, one column per output position
    y = weight.view(c_out, -1) @ cols  # (C_out, C_in·kh·kw) @ (N, C_in·kh·kw, P) -> (N, C_out, P)
    return y.view(N, c_out, H - kh + 1, W - kw + 1) + bias[:, None, None]


images = torch.randn(2, 3, 8, 9, device=device)  # a batch of 2 images, 3 channels, 8x9 pixels
w2 = torch.randn(4, 3, 3, 3, device=device)  # 4 output channels, 3x3 kernels
b2 = torch.randn(4, device=device)
torch.testing.assert_close(conv2d_as_matmul(images, w2, b2), F.conv2d(images, w2, b2), **TOL)

cols = F.unfold(images, (3, 3))
assert cols.shape == (2, 3 * 3 * 3, 6 * 7)  # 27 numbers per patch, 6x7 output positions
r, c = 2, 5  # the column for output position (r, c) is the 3x3 patch whose top-left pixel is (r, c)
assert torch.equal(cols[:, :, r * 7 + c], images[:, :, r : r + 3, c : c + 3].flatten(1))
assert cols.numel() / images.numel() == 5.25  # each pixel copied into every patch that covers it
big = F.unfold(torch.randn(1, 1, 100, 100, device=device), (3, 3))
assert 8.6 < big.numel() / 100**2 < 9  # close to kh·kw = 9 copies per pixel for large images
print(f"unfold copies the input {cols.numel() / images.numel():.2f}x: {images.numel()} -> {cols.numel()} numbers")
# --8<-- [end:unfold]

# --8<-- [start:gradients]
g = torch.randn(N, c_out, length_out, device=device)  # an upstream gradient dL/dy
# L = Σ g ⊙ y, so dL/dy = g: the same backward pass any network would run
w_ref = w.clone().requires_grad_()
(F.conv1d(x, w_ref, b) * g).sum().backward()
w_ours = w.clone().requires_grad_()  # autograd follows kron into the Toeplitz matrix and back
(conv1d_as_matmul(x, w_ours, b) * g).sum().backward()
torch.testing.assert_close(w_ours.grad, w_ref.grad, **TOL)

# By hand: untie the matrix (1344 independent entries), then add up the gradients of the copies.
M_untied = conv1d_matrix(w, length).requires_grad_()
y = (x.flatten(1) @ M_untied.T).view(N, c_out, length_out) + b[:, None]
torch.testing.assert_close(y, F.conv1d(x, w, b), **TOL)  # untied, it is still the same layer
(y * g).sum().backward()
G = M_untied.grad.view(c_out, length_out, c_in, length).permute(0, 2, 1, 3)  # (o, i, t, s)
tied_grad = torch.stack([G.diagonal(offset=k, dim1=2, dim2=3).sum(-1)  # ∂L/∂w[o,i,k] = Σ_t ∂L/∂M[(o,t),(i,t+k)]
                         for k in range(K)], dim=-1)
torch.testing.assert_close(tied_grad, w_ref.grad, **TOL)
assert (M_untied.grad[M == 0] != 0).any()  # a dense layer would move the zeros too; the conv cannot
# --8<-- [end:gradients]

# --8<-- [start:flip]
# Small integers: every product and sum is exact in float32 and float64, so equality is exact.
signal = torch.tensor([1.0, 3.0, 0.0, -2.0, 4.0, 1.0, 2.0], device=device)
kernel = torch.tensor([1.0, 2.0, -1.0], device=device)  # not symmetric, so flipping shows
ours = F.conv1d(signal.view(1, 1, -1), kernel.view(1, 1, -1)).flatten()  # Σ_k w[k] x[t+k]
np_signal, np_kernel = signal.cpu().numpy(), kernel.cpu().numpy()
correlation = torch.as_tensor(np.correlate(np_signal, np_kernel, "valid"), dtype=torch.float32, device=device)
convolution = torch.as_tensor(np.convolve(np_signal, np_kernel, "valid"), dtype=torch.float32, device=device)
assert torch.equal(ours, correlation)  # PyTorch's "convolution" is cross-correlation
assert not torch.equal(ours, convolution)
# np.convolve computes Σ_k w[k] x[t+K-1-k]: the kernel read backwards
flipped = F.conv1d(signal.view(1, 1, -1), kernel.flip(-1).view(1, 1, -1)).flatten()
assert torch.equal(flipped, convolution)  # flip the kernel yourself to get the textbook convolution
print(f"F.conv1d {ours.tolist()}\nnp.convolve {convolution.tolist()}")
# --8<-- [end:flip]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_matrix]
M10 = conv1d_matrix(torch.tensor([[[1.0, 2.0, 3.0]]], device=device), length=10)
print(f"shape {tuple(M10.shape)}, {int((M10 != 0).sum())} nonzero")
assert M10.shape == (10 - 3 + 1, 10) and (M10 != 0).sum() == 8 * 3  # 8 outputs, 3 weights each
# --8<-- [end:quiz_matrix]

# --8<-- [start:quiz_params]
conv5 = nn.Conv2d(3, 16, 5, device=device)
print(f"Conv2d(3, 16, 5): {count(conv5)} parameters")
assert count(conv5) == 16 * 3 * 5 * 5 + 16  # weights + one bias per output channel
assert conv5(torch.randn(1, 3, 64, 64, device=device)).shape == (1, 16, 60, 60)  # the same layer on any size
# --8<-- [end:quiz_params]

# --8<-- [start:quiz_flip]
ramp = torch.tensor([0.0, 0.0, 1.0, 2.0, 3.0], device=device)
edge = torch.tensor([1.0, 0.0, -1.0], device=device)
out = F.conv1d(ramp.view(1, 1, -1), edge.view(1, 1, -1)).flatten()  # Σ_k w[k] x[t+k]
print(out.tolist())
flipped_out = F.conv1d(ramp.view(1, 1, -1), edge.flip(-1).view(1, 1, -1)).flatten()  # the textbook flip
assert torch.equal(out, -flipped_out)  # this kernel reversed is its negative, so the flip changes the sign
# --8<-- [end:quiz_flip]

# --8<-- [start:quiz_tied]
tied = torch.zeros(1, 1, 3, device=device, requires_grad=True)  # one kernel of size 3
counting = torch.arange(1.0, 7.0, device=device).view(1, 1, 6)  # the signal 1, 2, ..., 6
F.conv1d(counting, tied).sum().backward()  # L = sum of the 4 outputs
print(tied.grad.flatten().tolist())
assert tied.grad.flatten().tolist() == [sum(range(k + 1, k + 5)) for k in range(3)]  # Σ_t x[t+k]
# --8<-- [end:quiz_tied]
