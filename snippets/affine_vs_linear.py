"""Linear maps, affine maps, nn.Linear, and why a stack of affine layers collapses into one."""
# --8<-- [start:setup]
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# float32 rounding in sums of a few products of numbers of order 1: 1e-5 is generous for all
# checks of equal-in-exact-arithmetic results below; the failures shown are of order 0.1 to 10.
TOL = dict(rtol=1e-5, atol=1e-5)
# --8<-- [end:setup]

# --8<-- [start:linear]
W = torch.randn(3, 4, device=device)


def f(x):
    return W @ x  # f(x) = W x: a linear map from R⁴ to R³


x, y = torch.randn(4, device=device), torch.randn(4, device=device)
a, b = torch.randn(2, device=device)  # two arbitrary scalars
torch.testing.assert_close(f(a * x + b * y), a * f(x) + b * f(y), **TOL)  # f(ax + by) = a f(x) + b f(y)
assert torch.equal(f(torch.zeros(4, device=device)), torch.zeros(3, device=device))  # f(0) = 0
# --8<-- [end:linear]

# --8<-- [start:affine]
bias = torch.randn(3, device=device)


def g(x):
    return W @ x + bias  # g(x) = W x + b: affine


zero = torch.zeros(4, device=device)
assert torch.equal(g(zero), bias)  # g(0) = b ≠ 0, so g cannot be linear
superposition_gap = g(a * x + b * y) - (a * g(x) + b * g(y))
torch.testing.assert_close(superposition_gap, (1 - a - b) * bias, **TOL)  # (1-a-b) b: zero only if a+b = 1
torch.testing.assert_close(g(2 * x) - 2 * g(x), -bias, **TOL)  # doubling x does not double g(x)
# What survives: differences are linear, and weighted averages (weights summing to 1) are kept.
torch.testing.assert_close(g(x) - g(y), f(x - y), **TOL)  # g(x) - g(y) = W (x - y)
t = torch.rand((), device=device)
torch.testing.assert_close(g(t * x + (1 - t) * y), t * g(x) + (1 - t) * g(y), **TOL)
print(f"g(ax + by) - (a g(x) + b g(y)) = {superposition_gap.norm():.3f} in norm, for a = {a:.2f}, b = {b:.2f}")
# --8<-- [end:affine]

# --8<-- [start:nn_linear]
layer = nn.Linear(4, 3).to(device)
assert torch.equal(layer(zero), layer.bias)  # nn.Linear(0) = b: affine, despite the name
gap = layer(a * x + b * y) - (a * layer(x) + b * layer(y))
torch.testing.assert_close(gap, (1 - a - b) * layer.bias, **TOL)  # superposition fails, as for g

no_bias = nn.Linear(4, 3, bias=False).to(device)  # only this one is linear in the maths sense
torch.testing.assert_close(no_bias(a * x + b * y), a * no_bias(x) + b * no_bias(y), **TOL)
assert torch.equal(no_bias(zero), torch.zeros(3, device=device))
# --8<-- [end:nn_linear]


# --8<-- [start:collapse]
def collapse(layers):
    """One (W, b) computing the same map as a stack of nn.Linear layers."""
    n_in = layers[0].in_features
    W, b = torch.eye(n_in, device=device), torch.zeros(n_in, device=device)  # start from x ↦ x
    for layer in layers:
        # W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)
        W, b = layer.weight @ W, layer.weight @ b + layer.bias
    return W, b


widths = [6, 8, 3, 7]  # 6 -> 8 -> 3 -> 7: the middle layer is the narrowest
stack = nn.Sequential(*[nn.Linear(m, k) for m, k in zip(widths, widths[1:])]).to(device)
with torch.no_grad():
    W_one, b_one = collapse(list(stack))
    single = nn.Linear(6, 7).to(device)
    single.weight.copy_(W_one)
    single.bias.copy_(b_one)

batch = torch.randn(32, 6, device=device)
torch.testing.assert_close(single(batch), stack(batch), **TOL)  # three layers = one layer
rank = torch.linalg.matrix_rank(W_one)
assert W_one.shape == (7, 6) and rank <= min(widths)  # everything passes through 3 numbers
n_stack, n_single = (sum(p.numel() for p in m.parameters()) for m in (stack, single))
assert (n_stack, n_single) == (111, 49)  # more parameters, the same function
print(f"3-layer stack {widths} = one nn.Linear(6, 7) whose weight has rank {rank} (at most {min(widths)})")
# --8<-- [end:collapse]


# --8<-- [start:relu]
def best_affine_fit(inputs, outputs):
    """Least-squares (W, b) for outputs ≈ inputs Wᵀ + b, and the root-mean-square residual."""
    with_ones = torch.cat([inputs, torch.ones(len(inputs), 1, device=device)], dim=1)  # bias column
    solution = torch.linalg.lstsq(with_ones, outputs).solution
    residual = with_ones @ solution - outputs
    return solution, residual.pow(2).mean().sqrt()


inputs = torch.randn(500, 6, device=device)
with torch.no_grad():
    plain = stack(inputs)
    with_relu = stack[2](F.relu(stack[1](F.relu(stack[0](inputs)))))  # same weights, ReLU between

solution, rms_plain = best_affine_fit(inputs, plain)
_, rms_relu = best_affine_fit(inputs, with_relu)
# lstsq finds the collapsed map of the plain stack (weight transposed, bias as the last row)...
torch.testing.assert_close(solution, torch.cat([W_one.T, b_one[None]]), rtol=1e-4, atol=1e-4)
assert rms_plain < 1e-4
# ... but no affine map reproduces the stack with ReLUs: even the best one is off.
assert rms_relu > 100 * rms_plain and rms_relu > 0.01 * with_relu.std()
print(f"best affine fit, RMS residual: plain stack {rms_plain:.1e}, with ReLUs {rms_relu:.3f}"
      f" (outputs have std {with_relu.std():.3f})")
# --8<-- [end:relu]

# --8<-- [start:conv]
signal_x, signal_y = torch.randn(2, 1, 1, 16, device=device)  # (batch, channels, length)
kernel = torch.randn(1, 1, 3, device=device)  # one 3-tap filter, the same at every position
conv_bias = torch.randn(1, device=device)


def conv(signal, bias=None):
    return F.conv1d(signal, kernel, bias)


# On the CPU a convolution is float32 arithmetic like the rest, so TOL applies. On NVIDIA GPUs (Ampere and
# newer) cuDNN runs float32 convolutions in TF32 by default (torch.backends.cudnn.allow_tf32; 10 mantissa
# bits, about 3 significant digits), so there the checks allow 1e-2; the bias gaps are of order 1.
tf32 = device.type == "cuda" and torch.backends.cudnn.allow_tf32
CONV_TOL = dict(rtol=1e-2, atol=1e-2) if tf32 else TOL
mixed = a * signal_x + b * signal_y
torch.testing.assert_close(conv(mixed), a * conv(signal_x) + b * conv(signal_y), **CONV_TOL)  # linear
conv_gap = conv(mixed, conv_bias) - (a * conv(signal_x, conv_bias) + b * conv(signal_y, conv_bias))
torch.testing.assert_close(conv_gap, ((1 - a - b) * conv_bias).expand(1, 1, 14), **CONV_TOL)  # affine
silence = torch.zeros(1, 1, 16, device=device)
torch.testing.assert_close(conv(silence, conv_bias), conv_bias.expand(1, 1, 14), **TOL)  # conv(0) = b
print("linear: W x, nn.Linear(bias=False), conv without bias; affine: W x + b, nn.Linear, conv with bias")
# --8<-- [end:conv]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_double]
lin = nn.Linear(4, 3).to(device)
v = torch.randn(4, device=device)
lhs, rhs = lin(2 * v), 2 * lin(v)  # the two sides of layer(2 v) = 2 layer(v)
doubles = torch.allclose(lhs, rhs, **TOL)
zero_gives_bias = torch.equal(lin(torch.zeros(4, device=device)), lin.bias)
print(f"layer(2 v) == 2 layer(v): {doubles}; layer(0) == layer.bias: {zero_gives_bias}")
assert not doubles and zero_gives_bias
torch.testing.assert_close(lhs - rhs, -lin.bias, **TOL)  # the gap: (1 - 2) b = -b, of order 0.1
# --8<-- [end:quiz_double]

# --8<-- [start:quiz_bottleneck]
hourglass = [nn.Linear(10, 2).to(device), nn.Linear(2, 10).to(device)]  # 10 -> 2 -> 10, nothing between
with torch.no_grad():
    W_hg, b_hg = collapse(hourglass)
# float32 rounding leaves the "zero" singular values near 1e-7 of the largest: rtol=1e-4 ignores them
rank_hg = int(torch.linalg.matrix_rank(W_hg, rtol=1e-4))
print(f"one layer: weight {tuple(W_hg.shape)}, rank {rank_hg}")
assert W_hg.shape == (10, 10) and rank_hg == 2  # all ten outputs come from two numbers
# --8<-- [end:quiz_bottleneck]

# --8<-- [start:quiz_average]
halves = torch.allclose(g(0.5 * x + 0.5 * y), 0.5 * g(x) + 0.5 * g(y), **TOL)  # gap (1 - 1/2 - 1/2) b = 0
lhs, rhs = g(x + y), g(x) + g(y)
unit_weights = torch.allclose(lhs, rhs, **TOL)
print(f"weights 1/2 and 1/2: {halves}; weights 1 and 1: {unit_weights}")
assert halves and not unit_weights
torch.testing.assert_close(lhs - rhs, -bias, **TOL)  # gap (1 - 1 - 1) b = -b
# --8<-- [end:quiz_average]

# --8<-- [start:quiz_conv]
wave = torch.randn(1, 1, 16, device=device)
unit_bias = torch.ones(1, device=device)
without_bias = torch.allclose(conv(3 * wave), 3 * conv(wave), **CONV_TOL)
lhs, rhs = conv(3 * wave, unit_bias), 3 * conv(wave, unit_bias)
with_bias = torch.allclose(lhs, rhs, **CONV_TOL)
print(f"conv(3 s) == 3 conv(s): without bias {without_bias}, with bias {with_bias}")
assert without_bias and not with_bias
torch.testing.assert_close(lhs - rhs, torch.full_like(lhs, -2.0), **CONV_TOL)  # (1 - 3) b = -2
# --8<-- [end:quiz_conv]
