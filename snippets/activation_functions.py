"""ReLU, sigmoid, tanh and GELU from scratch, their derivatives by hand, and where each is used."""
# --8<-- [start:setup]
import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
x = torch.arange(-600, 601, device=device) / 100  # -6.00, -5.99, ..., 6.00, with an exact 0.0
# --8<-- [end:setup]


# --8<-- [start:functions]
def relu(x):
    return torch.where(x > 0, x, torch.zeros_like(x))  # max(0, x)


def sigmoid(x):
    return 1 / (1 + torch.exp(-x))  # σ(x) = 1 / (1 + e^{-x}); e^{-x} = inf gives 1/inf = 0, fine


def tanh(x):
    return 2 * sigmoid(2 * x) - 1  # tanh x = 2σ(2x) - 1 = (e^x - e^{-x}) / (e^x + e^{-x})


def normal_cdf(x):
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))  # Φ(x) = P(Z ≤ x), Z ~ N(0, 1)


def gelu(x):
    return x * normal_cdf(x)  # GELU(x) = x Φ(x)


def gelu_tanh(x):  # the cheaper approximation from the GELU paper
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
# --8<-- [end:functions]


# --8<-- [start:check_functions]
# float32 with values of order 1: the formulas round differently from PyTorch's kernels by a
# few units in the last place (~1e-7). tanh via 2σ(2x) - 1 loses relative precision near 0
# (1 - 1 cancels), so the absolute tolerance 1e-6 is what binds there.
TOL = dict(rtol=1e-5, atol=1e-6)
for ours, reference in [(relu, torch.relu), (sigmoid, torch.sigmoid), (tanh, torch.tanh),
                        (gelu, F.gelu), (gelu_tanh, lambda x: F.gelu(x, approximate="tanh"))]:
    torch.testing.assert_close(ours(x), reference(x), **TOL)
assert (gelu(x) - gelu_tanh(x)).abs().max() < 1e-3  # the approximation is close, not equal

far = torch.tensor([-100.0, 100.0], device=device)  # far outside the grid
torch.testing.assert_close(tanh(far), torch.tensor([-1.0, 1.0], device=device), **TOL)
both = torch.cat([x, far])
naive = (both.exp() - (-both).exp()) / (both.exp() + (-both).exp())  # the textbook formula
# right on the grid, where e^6 ≈ 403 fits (same TOL: near 0, e^x - e^{-x} cancels like 2σ(2x) - 1) ...
torch.testing.assert_close(naive[:-2], torch.tanh(x), **TOL)
assert naive[-2:].isnan().all()  # ... but e^100 overflows float32: inf / inf = nan
print(f"max |GELU - tanh approximation| on [-6, 6]: {(gelu(x) - gelu_tanh(x)).abs().max():.1e}")
# --8<-- [end:check_functions]


# --8<-- [start:derivatives]
def relu_grad(x):
    return (x > 0).to(x.dtype)  # relu'(x) = 1[x > 0], taking 0 at x = 0


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 - s)  # σ'(x) = σ(x) (1 - σ(x))


def tanh_grad(x):
    return 1 - tanh(x) ** 2  # tanh'(x) = 1 - tanh²(x)


def gelu_grad(x):
    density = torch.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)  # φ(x), the standard normal density
    return normal_cdf(x) + x * density  # GELU'(x) = Φ(x) + x φ(x)


def autograd_derivative(f, x):
    x = x.clone().requires_grad_()
    (grad,) = torch.autograd.grad(f(x).sum(), x)  # f acts elementwise: ∂/∂x_i Σ_j f(x_j) = f'(x_i)
    return grad


for ours, reference in [(relu_grad, torch.relu), (sigmoid_grad, torch.sigmoid),
                        (tanh_grad, torch.tanh), (gelu_grad, F.gelu)]:
    torch.testing.assert_close(ours(x), autograd_derivative(reference, x), **TOL)
# GELU is not monotonic: it dips to -0.17 near x = -0.75, and GELU'' = φ(x)(2 - x²) puts the
# extremes of its slope at x = ±√2, where GELU' overshoots 1 (1.13) and goes negative (-0.13).
assert -0.171 < gelu(x).min() < -0.169
assert gelu_grad(x).max() > 1.12 and gelu_grad(x).min() < -0.12
# --8<-- [end:derivatives]

# --8<-- [start:relu_at_zero]
zero = torch.zeros(1, device=device)
assert torch.equal(autograd_derivative(torch.relu, zero), zero)  # PyTorch: relu'(0) = 0
assert torch.equal(autograd_derivative(nn.ReLU(), zero), zero)  # same for F.relu and nn.ReLU
# Other ways to write max(0, x) give the same values, but each operation picks its own slope at
# the kink, and that pick is a convention that can change between releases:
assert torch.equal(x.clamp(min=0), torch.relu(x))
assert torch.equal(torch.maximum(x, torch.zeros_like(x)), torch.relu(x))
clamp_slope = autograd_derivative(lambda t: t.clamp(min=0), zero)
maximum_slope = autograd_derivative(lambda t: torch.maximum(t, torch.zeros_like(t)), zero)
# torch 2.14 moved clamp's derivative at a number bound from 1 to 0, the smallest subgradient,
# which relu, relu6 and hardtanh already used; up to 2.13 clamp passed the gradient through.
CLAMP_SLOPE_AT_BOUND = 0.0 if torch.__version__ >= "2.14" else 1.0
assert torch.equal(clamp_slope, torch.full_like(zero, CLAMP_SLOPE_AT_BOUND))
assert torch.equal(maximum_slope, torch.full_like(zero, 0.5))  # maximum splits a tie in two
print(f"torch {torch.__version__}, slope at 0: relu 0, clamp(min=0) {CLAMP_SLOPE_AT_BOUND:g}, maximum 0.5")


def first_weight_gradient(activation, inputs):
    layer = nn.Linear(3, 4).to(device)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)  # now every pre-activation is exactly 0
    activation(layer(inputs)).sum().backward()
    return layer.weight.grad


inputs = torch.randn(5, 3, device=device)
through = first_weight_gradient(lambda t: t, inputs)  # no activation: slope 1 everywhere
assert (through != 0).all()
assert (first_weight_gradient(torch.relu, inputs) == 0).all()  # nothing flows back: the layer is stuck
torch.testing.assert_close(first_weight_gradient(lambda t: torch.maximum(t, torch.zeros_like(t)), inputs),
                           0.5 * through)  # half of it; exact in binary, so the default tolerance is ample
torch.testing.assert_close(first_weight_gradient(lambda t: t.clamp(min=0), inputs),
                           CLAMP_SLOPE_AT_BOUND * through)  # all of it up to 2.13, none from 2.14
# --8<-- [end:relu_at_zero]


# --8<-- [start:saturation]
slopes = sigmoid_grad(x)
assert slopes.max() == 0.25 == slopes[x == 0]  # σ'(0) = ½ · ½, and nothing is steeper
assert (slopes[x.abs() >= 5] < 0.007).all()  # saturated: flat tails, almost no gradient


def input_gradient_ratio(activation, gain, depth=10, width=64, batch=32):
    """‖∂L/∂input‖ / ‖∂L/∂output‖ through `depth` layers h ← activation(h Wᵀ)."""
    # gain × orthogonal matrices (rotations and reflections: the Q of a QR factorisation).
    # Without the activations these weights would scale every gradient norm by exactly gain.
    weights = gain * torch.linalg.qr(torch.randn(depth, width, width, device=device)).Q
    inputs = torch.randn(batch, width, device=device, requires_grad=True)
    h = inputs
    for W in weights:
        h = activation(h @ W.T)
    upstream = torch.randn_like(h)  # some gradient arriving from the loss
    (at_input,) = torch.autograd.grad(h, inputs, upstream)  # backprop through all layers
    return at_input.norm() / upstream.norm()


sigmoid_ratio = input_gradient_ratio(torch.sigmoid, gain=1.0)
relu_ratio = input_gradient_ratio(torch.relu, gain=math.sqrt(2))  # He gain: √2 offsets the ½ of units at 0
sigmoid_best = input_gradient_ratio(torch.sigmoid, gain=4.0)  # 4 would offset σ' if σ' were always ¼
tanh_ratio = input_gradient_ratio(torch.tanh, gain=1.0)
assert sigmoid_ratio <= 0.25**10  # each layer multiplies by σ' ≤ ¼ elementwise, then rotates
assert tanh_ratio <= 1  # tanh' ≤ 1: it can only shrink too ...
assert tanh_ratio > 1000 * sigmoid_ratio  # ... but far less than the sigmoid
assert 0.3 < relu_ratio < 3  # roughly preserved through 10 layers
assert sigmoid_best < 0.1  # even then: σ' < ¼ away from 0
print(f"gradient norm after 10 layers / before: sigmoid {sigmoid_ratio:.1e} (bound ¼^10 = {0.25**10:.1e}),"
      f" sigmoid with gain 4 {sigmoid_best:.1e}, tanh {tanh_ratio:.2f}, ReLU with gain √2 {relu_ratio:.2f}")
# --8<-- [end:saturation]

# --8<-- [start:where_used]
# SiLU (swish), in many transformers: x σ(x), a sigmoid inside.
torch.testing.assert_close(F.silu(x), x * sigmoid(x), **TOL)

# A binary classifier's output: σ(logit) is the probability of class 1, and the usual loss
# applies the sigmoid inside (more stable than sigmoid, then log).
logits = torch.randn(8, device=device)
targets = torch.randint(0, 2, (8,), device=device).float()
torch.testing.assert_close(F.binary_cross_entropy_with_logits(logits, targets),
                           F.binary_cross_entropy(sigmoid(logits), targets), **TOL)

# An LSTM cell: sigmoids gate what is kept, written and read; tanh squashes the values.
cell = nn.LSTMCell(3, 4).to(device)
x_t, h, c = (torch.randn(2, n, device=device) for n in (3, 4, 4))
z = x_t @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
i, f, g, o = z.chunk(4, dim=1)  # PyTorch's order: input, forget, cell candidate, output
c_next = sigmoid(f) * c + sigmoid(i) * tanh(g)  # c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g)
h_next = sigmoid(o) * tanh(c_next)  # h' = σ(o) ⊙ tanh(c')
h_ref, c_ref = cell(x_t, (h, c))
torch.testing.assert_close(h_next, h_ref, **TOL)
torch.testing.assert_close(c_next, c_ref, **TOL)
# --8<-- [end:where_used]


# --8<-- [start:learning]
inputs = torch.linspace(-1, 1, 64, device=device)[:, None]
targets = inputs.abs()  # |x|: not a straight line


def train(activation, steps=100):
    model = nn.Sequential(nn.Linear(1, 16), activation, nn.Linear(16, 1)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = torch.empty(steps, device=device)
    for t in range(steps):
        loss = F.mse_loss(model(inputs), targets)
        losses[t] = loss.detach()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return losses


with_ones = torch.cat([inputs, torch.ones_like(inputs)], dim=1)
best_line = with_ones @ torch.linalg.lstsq(with_ones, targets).solution
floor = F.mse_loss(best_line, targets)  # the lowest loss any affine map can reach

no_activation, with_relu = train(nn.Identity()), train(nn.ReLU())
assert no_activation[-1] < no_activation[0]  # it learns: gradient descent lowers the loss ...
assert no_activation[-1] > floor - 1e-5  # ... but never below the best straight line
torch.testing.assert_close(no_activation[-1], floor, rtol=0, atol=1e-4)  # and it gets there
assert with_relu[-1] < 0.1 * floor  # same training, with a ReLU: it can bend
print(f"MSE after 100 Adam steps: no activation {no_activation[-1]:.4f} (best line {floor:.4f}),"
      f" ReLU {with_relu[-1]:.5f}")
# --8<-- [end:learning]

# --8<-- [start:figure]
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

grid = torch.linspace(-4, 4, 401, requires_grad=True)  # noqa: device (plotting is done on the CPU)
curves = {"ReLU": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "GELU": F.gelu}
fig, (left, right) = plt.subplots(1, 2, figsize=(6.5, 3.2), sharex=True)
for name, activation in curves.items():
    values = activation(grid)
    (slope,) = torch.autograd.grad(values.sum(), grid)  # the derivative at every grid point
    left.plot(grid.detach(), values.detach(), label=name)
    right.plot(grid.detach(), slope, label=name)
left.set(xlabel="x", ylabel="f(x)", ylim=(-1.5, 4))
right.set(xlabel="x", ylabel="f'(x)", ylim=(-0.2, 1.2))
left.legend()
for ax in (left, right):
    ax.grid(alpha=0.3)
fig.tight_layout()
# --8<-- [end:figure]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_kink]
at_zero = torch.zeros(1, device=device)
relu_slope = autograd_derivative(torch.relu, at_zero)
max_slope = autograd_derivative(lambda t: torch.maximum(t, torch.zeros_like(t)), at_zero)
print(f"relu {relu_slope.item():g}, maximum {max_slope.item():g}")
assert relu_slope == 0 and max_slope == 0.5  # same values, two subgradients at the kink
# --8<-- [end:quiz_kink]

# --8<-- [start:quiz_vanish]
steepest = autograd_derivative(torch.sigmoid, torch.zeros(1, device=device)).item()  # σ'(0)
print(f"largest slope {steepest:g}; through 10 sigmoid layers at most {steepest**10:.1e}")
assert steepest == sigmoid_grad(x).max() == 0.25  # nowhere on the grid is the sigmoid steeper
# --8<-- [end:quiz_vanish]

# --8<-- [start:quiz_multilabel]
label_logits = torch.tensor([2.0, 0.0, -2.0], device=device)  # one logit per label: cat, dog, bird
probs = torch.sigmoid(label_logits)  # one independent yes/no probability per label
print(f"probabilities {[round(p, 2) for p in probs.tolist()]}, sum {probs.sum():.2f}")
torch.testing.assert_close(probs[0] + probs[2], torch.ones((), device=device))  # σ(z) + σ(-z) = 1
assert (0 < probs).all() and (probs < 1).all()
# --8<-- [end:quiz_multilabel]

# --8<-- [start:quiz_learns]
falls = bool(no_activation[-1] < no_activation[0])  # the two trainings of the misconception above
below_line = bool(no_activation[-1] < floor - 1e-5)
print(f"no activation: loss falls {falls}, goes below the best line {below_line}")
assert falls and not below_line
# --8<-- [end:quiz_learns]
