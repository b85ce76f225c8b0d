"""Universal approximation in one dimension: a sum of shifted ReLUs built by hand, then found by Adam."""
# --8<-- [start:setup]
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:construction]
def knots_and_coefficients(f, a, b, n):
    """n ReLU units whose sum interpolates f at n + 1 equally spaced points of [a, b]."""
    x = torch.linspace(a, b, n + 1, device=device)  # x_0 < x_1 < ... < x_n
    y = f(x)
    slopes = (y[1:] - y[:-1]) / (x[1:] - x[:-1])  # s_k: slope of the straight piece on [x_k, x_{k+1}]
    coefficients = torch.cat([slopes[:1], slopes[1:] - slopes[:-1]])  # c_0 = s_0, c_k = s_k - s_{k-1}
    return x[:-1], coefficients, y[0]  # the knots x_0 .. x_{n-1}, the c_k, and f(x_0)


def relu_sum(x, knots, coefficients, f0):
    # f̂(x) = f(x_0) + Σ_k c_k relu(x - x_k): each unit switches on at its knot and bends the line
    return f0 + (torch.relu(x[:, None] - knots) * coefficients).sum(dim=1)


grid = torch.linspace(-math.pi, math.pi, 64 * 32 + 1, device=device)  # holds every knot and midpoint used below
# every 32nd point is a knot of the 64-unit fit (so every 16th a midpoint): float32 linspaces, an ulp or two apart
torch.testing.assert_close(grid[::32], torch.linspace(-math.pi, math.pi, 65, device=device), rtol=0, atol=1e-6)
knots, coefficients, f0 = knots_and_coefficients(torch.sin, -math.pi, math.pi, 8)
fit = relu_sum(grid, knots, coefficients, f0)
# float32: sums of up to 8 terms of size up to ~6 that cancel to ~1; rounding stays below 1e-5
TOL = dict(rtol=1e-5, atol=1e-5)
points = torch.linspace(-math.pi, math.pi, 9, device=device)
torch.testing.assert_close(relu_sum(points, knots, coefficients, f0), torch.sin(points), **TOL)  # hits f at x_k
# Between the points it is the straight-line interpolation that np.interp computes (in float64).
straight = np.interp(grid.cpu().numpy(), points.cpu().numpy(), torch.sin(points).cpu().numpy())
torch.testing.assert_close(fit, torch.as_tensor(straight, dtype=torch.float32, device=device), **TOL)
# --8<-- [end:construction]

# --8<-- [start:network]
def relu_network(knots, coefficients, f0):
    """The same function as an ordinary network: affine -> ReLU -> affine, weights set by hand."""
    n = knots.numel()
    net = nn.Sequential(nn.Linear(1, n), nn.ReLU(), nn.Linear(n, 1)).to(device)
    with torch.no_grad():
        net[0].weight.fill_(1.0)  # hidden unit k: relu(1·x - x_k)
        net[0].bias.copy_(-knots)
        net[2].weight.copy_(coefficients[None, :])  # output: Σ_k c_k h_k + f(x_0)
        net[2].bias.fill_(f0)
    return net


net = relu_network(knots, coefficients, f0)
with torch.no_grad():
    torch.testing.assert_close(net(grid[:, None]).squeeze(1), fit, **TOL)
assert sum(p.numel() for p in net.parameters()) == 3 * 8 + 1  # n weights, n biases, n outputs, 1 bias
# --8<-- [end:network]

# --8<-- [start:convergence]
def max_error(f, n):
    knots, coefficients, f0 = knots_and_coefficients(f, -math.pi, math.pi, n)
    return (relu_sum(grid, knots, coefficients, f0) - f(grid)).abs().max()


targets = {  # name: (f, max |f''| on [-π, π]; None where f'' is unbounded)
    "sin(x)": (torch.sin, 1.0),
    "sin(x) + 0.5 sin(5x)": (lambda x: torch.sin(x) + 0.5 * torch.sin(5 * x), 1.0 + 0.5 * 25),
    "sqrt(|x|)": (lambda x: x.abs().sqrt(), None),  # continuous, with a cusp at 0
}
units = torch.tensor([4, 8, 16, 32, 64], device=device)
h = 2 * math.pi / units  # knot spacing
errors = {name: torch.stack([max_error(f, n) for n in units.tolist()]) for name, (f, _) in targets.items()}
for name, (f, curvature) in targets.items():
    if curvature is not None:  # interpolation theorem: |f - f̂| <= h² max|f''| / 8
        # + 1e-5: the measured error carries the float32 rounding of f̂ (TOL above); the bound is exact
        assert (errors[name] <= h**2 * curvature / 8 + 1e-5).all(), name

sin_err = errors["sin(x)"]
assert (sin_err[1:] < sin_err[:-1]).all()  # every doubling of the units helps...
ratios = sin_err[:-1] / sin_err[1:]
assert ((ratios[1:] > 3.5) & (ratios[1:] < 4.5)).all()  # ...by about 4 = 2²: error ~ 1/n²
bumpy = errors["sin(x) + 0.5 sin(5x)"]
assert bumpy[1] > bumpy[0]  # 8 units are WORSE than 4: too few knots to follow the bumps
assert (bumpy[2:] < bumpy[1:-1]).all()  # from 8 units on it falls, like sin
cusp = errors["sqrt(|x|)"]
cusp_ratios = cusp[:-1] / cusp[1:]
assert ((cusp_ratios > 1.35) & (cusp_ratios < 1.47)).all()  # only √2 per doubling: error ~ 1/√n
# worst on the piece [0, h] next to the cusp: √x - x/√h peaks at x = h/4 (a grid point) with value √h/4.
# The peak is flat, so rounding the grid point moves it only to second order; what is left is the float32
# rounding of f and f̂ (~1e-7 on values near 1), against errors of 0.08 and more: rtol=1e-4 is ample
torch.testing.assert_close(cusp, h.sqrt() / 4, rtol=1e-4, atol=0)

print(f"{'units':>22}" + "".join(f"{n:>9}" for n in units.tolist()))
for name, e in errors.items():
    print(f"{name:>22}" + "".join(f"{v:9.1e}" for v in e))
# --8<-- [end:convergence]

# --8<-- [start:training]
def fit_sin_with_adam(width=32, steps=300, lr=0.03):
    x = torch.linspace(-math.pi, math.pi, 128, device=device)[:, None]
    y = torch.sin(x)
    # Layers draw their random initial weights on the CPU: reseeding gives every device the same start.
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, width), nn.ReLU(), nn.Linear(width, 1)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(steps):  # full batch: all 128 points at every step
        loss = F.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


trained = fit_sin_with_adam()
with torch.no_grad():
    trained_err = (trained(grid[:, None]).squeeze(1) - torch.sin(grid)).abs().max()
built_err = errors["sin(x)"][3]  # the hand-built net with the same 32 units
assert trained_err < 0.05  # Adam found a good approximation from random weights...
assert trained_err > 2 * built_err  # ...but not as good as the construction with as many units
print(f"32 ReLUs, max error on [-π, π]: built by hand {built_err:.4f}, trained by Adam {trained_err:.4f}")
# --8<-- [end:training]

# --8<-- [start:outside]
knots, coefficients, f0 = knots_and_coefficients(torch.sin, -math.pi, math.pi, 64)
inside_err = errors["sin(x)"][4]
right = torch.linspace(math.pi, 4 * math.pi, 301, device=device)  # beyond the last knot every unit is on
beyond = relu_sum(right, knots, coefficients, f0)
second_difference = beyond[2:] - 2 * beyond[1:-1] + beyond[:-2]
assert second_difference.abs().max() < 1e-4  # a straight line (0 up to float32 rounding)
right_err = (beyond - torch.sin(right)).abs()
# It is the last piece's line, on from f̂(π) = sin π = 0, so the error is that line's gap to sin. Float32: 64
# terms of up to ~1.5 summed to ~9 against a line from two sines, ~3e-6 apart; 1e-5 covers it.
s_last = (math.sin(math.pi) - torch.sin(knots[-1])) / (math.pi - knots[-1])  # the slope of the last piece
torch.testing.assert_close(right_err, (s_last * (right - math.pi) - torch.sin(right)).abs(), rtol=1e-5, atol=1e-5)
worst_by = [right_err[: k * 100 + 1].max() for k in (1, 2, 3)]  # up to π + π, π + 2π, π + 3π
assert inside_err < 0.01 < 1 < worst_by[0] < worst_by[1] < worst_by[2]  # and it keeps growing
# ... linearly: the worst is at (for k = 2 within 1e-4 of) the far end, where sin is 0 again and the line has
# drifted kπ |s_last|
torch.testing.assert_close(torch.stack(worst_by), s_last.abs() * math.pi * torch.arange(1.0, 4.0, device=device),
                           rtol=1e-4, atol=0)
left = torch.linspace(-4 * math.pi, -math.pi, 301, device=device)  # before the first knot every unit is off
assert torch.equal(relu_sum(left, knots, coefficients, f0), f0.expand(301))  # a constant: sin(-π)
assert (relu_sum(left, knots, coefficients, f0) - torch.sin(left)).abs().max() > 0.99

with torch.no_grad():  # the trained net too: far enough out, it is a straight line
    kinks = -trained[0].bias / trained[0].weight.squeeze(1)  # where w x + b = 0 for each unit
    last = kinks[kinks.isfinite()].max().clamp(min=math.pi)  # the last bend, or π if all bend before
    far = torch.linspace(0, 3 * math.pi, 301, device=device) + last
    out = trained(far[:, None]).squeeze(1)
    assert (out[2:] - 2 * out[1:-1] + out[:-2]).abs().max() < 1e-4
    assert (out - torch.sin(far)).abs().max() > 1
# Out there every unit that opens to the right (w_k > 0) is on and every other one off, so the net's slope,
# from autograd at each point, is Σ_{w_k > 0} a_k w_k: the same products summed in another order (rtol 1e-5)
far.requires_grad_()
(slope_far,) = torch.autograd.grad(trained(far[:, None]).sum(), far)
weights_in, weights_out = trained[0].weight.detach().squeeze(1), trained[2].weight.detach().squeeze(0)
slope_sum = (weights_out * weights_in)[weights_in > 0].sum()
torch.testing.assert_close(slope_far, slope_sum.expand(len(far)), rtol=1e-5, atol=1e-6)
print(f"64 ReLUs for sin: max error {inside_err:.1e} on [-π, π]; on [π, kπ] for k = 2, 3, 4: "
      + ", ".join(f"{e:.1f}" for e in worst_by))
# --8<-- [end:outside]

# --8<-- [start:figure]
import math

import matplotlib.pyplot as plt
import torch

x = torch.linspace(-math.pi - 2, math.pi + 2, 400, device="cpu")  # matplotlib plots from the CPU
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.axvspan(-math.pi, math.pi, color="0.94", label="[-π, π]: the knots")
ax.plot(x.numpy(), torch.sin(x).numpy(), color="0.55", linewidth=5, label="sin(x)")
for n, style in ((4, ":"), (16, "--"), (64, "-")):
    xs = torch.linspace(-math.pi, math.pi, n + 1, device="cpu")
    slopes = torch.diff(torch.sin(xs)) / torch.diff(xs)
    c = torch.cat([slopes[:1], torch.diff(slopes)])  # c_0 = s_0, c_k = s_k - s_{k-1}
    relu_fit = torch.sin(xs[0]) + (torch.relu(x[:, None] - xs[:-1]) * c).sum(dim=1)
    ax.plot(x.numpy(), relu_fit.numpy(), style, linewidth=1.5, label=f"{n} ReLUs")
ax.set_xlabel("x")
ax.set_ylabel("f(x)")
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
# --8<-- [end:figure]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_doubling]
ratio = max_error(torch.sin, 8) / max_error(torch.sin, 16)
print(f"max error with 8 units / with 16 units: about {ratio:.0f}")
assert 3.5 < ratio < 4.5  # half the spacing h, a quarter of the bound h² max|f''| / 8
# --8<-- [end:quiz_doubling]

# --8<-- [start:quiz_outside]
knots64, coefficients64, f0_64 = knots_and_coefficients(torch.sin, -math.pi, math.pi, 64)
at = torch.tensor([math.pi / 2, 3 * math.pi], device=device)  # inside the interval, and beyond it
inside, beyond_3pi = relu_sum(at, knots64, coefficients64, f0_64)
print(f"f̂(π/2) = {inside:.2f} (sin: 1.00), f̂(3π) = {beyond_3pi:.1f} (sin: 0.0)")
assert (inside - 1).abs() < 1e-2 and beyond_3pi < -6  # the last piece's line, continued for 2π
# --8<-- [end:quiz_outside]

# --8<-- [start:quiz_parameters]
small_net = relu_network(*knots_and_coefficients(torch.sin, -math.pi, math.pi, 8))
count = sum(p.numel() for p in small_net.parameters())
print(f"{count} parameters")
assert count == 3 * 8 + 1  # 8 weights and 8 biases in, 8 weights and 1 bias out
# --8<-- [end:quiz_parameters]

# --8<-- [start:quiz_trained]
winner = "built by hand" if built_err < trained_err else "trained by Adam"
print(f"32 units, lower maximum error: {winner}")
assert winner == "built by hand"
# --8<-- [end:quiz_trained]
