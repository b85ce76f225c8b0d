"""Gradient descent and the learning rate: why the step is proportional to the gradient, and when it diverges."""
# --8<-- [start:setup]
import copy

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:taylor]
features = torch.randn(50, 2, device=device, dtype=torch.float64)
labels = (features @ torch.tensor([1.5, -2.0], device=device, dtype=torch.float64) > 0).double()


def logistic_loss(w):
    """A smooth, non-quadratic loss of two parameters (logistic regression)."""
    return F.binary_cross_entropy_with_logits(features @ w, labels)


w = torch.tensor([0.3, 0.4], device=device, dtype=torch.float64, requires_grad=True)
loss = logistic_loss(w)
loss.backward()
g = w.grad

lrs = torch.tensor([1e-1, 1e-2, 1e-3, 1e-4], device=device, dtype=torch.float64)
with torch.no_grad():
    actual = torch.stack([logistic_loss(w - lr * g) - loss for lr in lrs])  # f(w - lr g) - f(w)
predicted = -lrs * (g @ g)  # first-order Taylor: f(w - lr g) - f(w) ≈ -lr |g|²
relative_error = (actual - predicted).abs() / predicted.abs()
assert (actual < 0).all()  # a small enough step against the gradient lowers the loss
tenfold = relative_error[1:] / relative_error[:-1]  # the error is O(lr²), so relative to lr|g|² it is O(lr)
assert ((0.08 < tenfold) & (tenfold < 0.12)).all()  # 10x smaller rate, 10x smaller relative error
assert relative_error[-1] < 1e-3

hessian_w = torch.autograd.functional.hessian(logistic_loss, w.detach())  # second derivatives: the curvature
curvature_term = lrs**2 / 2 * (g @ hessian_w @ g)  # second order: + lr²/2 gᵀHg
second_order_error = (actual - predicted - curvature_term).abs() / predicted.abs()
assert (second_order_error < 0.02 * relative_error).all()  # the curvature term is 98% of what was missing
# What is left is O(lr³), so relative to lr|g|² it is O(lr²): 10x smaller rate, 100x smaller. At lr = 1e-4 that
# remainder (~1e-15) is down at the float64 rounding of the two losses (~1e-16 each): compare the first three rates.
hundredfold = second_order_error[1:3] / second_order_error[:2]
assert ((0.008 < hundredfold) & (hundredfold < 0.012)).all()

directions = torch.randn(1000, 2, device=device, dtype=torch.float64)
directions = directions / directions.norm(dim=1, keepdim=True)  # 1000 random unit vectors d
slopes = directions @ g  # directional derivatives: the loss rises at rate g·d along d
assert slopes.max() <= g.norm()  # Cauchy-Schwarz: g·d ≤ |g| |d| = |g|
torch.testing.assert_close((g / g.norm()) @ g, g.norm())  # attained by d = g/|g|: steepest ascent
print("lr      actual change   -lr|g|²      relative error")
for lr, a, p, e in zip(lrs, actual, predicted, relative_error):
    print(f"{lr:.0e}   {a:+.4e}   {p:+.4e}   {e:.1e}")
# --8<-- [end:taylor]


# --8<-- [start:quadratic]
def gradient_descent(f, x0, lr, steps):
    """Plain gradient descent; returns every iterate x_0 ... x_steps."""
    x = x0.clone().requires_grad_()
    trajectory = [x.detach().clone()]
    for _ in range(steps):
        x.grad = None
        f(x).backward()
        with torch.no_grad():
            x -= lr * x.grad  # x_{t+1} = x_t - lr ∇f(x_t)
        trajectory.append(x.detach().clone())
    return torch.stack(trajectory)


L, x_star = 4.0, 3.0  # curvature and minimizer


def parabola(x):
    return L / 2 * (x - x_star) ** 2  # f(x) = L/2 (x - x*)², so f'(x) = L (x - x*)


x0 = torch.tensor(0.0, device=device, dtype=torch.float64)
lr = 0.125  # 1 - lr L = 0.5: every step halves the distance to the minimum
xs = gradient_descent(parabola, x0, lr, steps=30)
distance = xs - x_star
# x_{t+1} - x* = (1 - lr L)(x_t - x*): exact up to float64 rounding of x near x* = 3 (atol 1e-14)
torch.testing.assert_close(distance[1:], (1 - lr * L) * distance[:-1], rtol=1e-12, atol=1e-14)
step_lengths = (xs[1:] - xs[:-1]).abs()  # lr |f'(x_t)|: the gradient shrinks near the minimum
assert (step_lengths[1:] < step_lengths[:-1]).all()
print(f"first steps {step_lengths[0]:.3f}, {step_lengths[1]:.3f}, {step_lengths[2]:.3f}; "
      f"after 30 steps {step_lengths[-1]:.1e}")
# --8<-- [end:quadratic]

# --8<-- [start:stability]
steps = 100
d0 = (x0 - x_star).abs()
final = {}
for factor in (0.5, 1.0, 1.5, 1.9, 2.0, 2.1):  # lr in units of 1/L
    xs = gradient_descent(parabola, x0, factor / L, steps)
    distance = (xs - x_star).abs()
    expected = abs(1 - factor) ** torch.arange(steps + 1, device=device, dtype=torch.float64) * d0  # |1 - lr L|^t |x_0 - x*|
    torch.testing.assert_close(distance, expected, rtol=1e-9, atol=1e-14)  # rounding compounds over 100 steps
    final[factor] = distance[-1]
assert final[1.0] == 0  # lr = 1/L lands on the minimum in one step
assert final[1.9] < 1e-4 * d0  # |1 - 1.9| = 0.9 < 1: converges, overshooting each time
assert final[2.0] == d0  # |1 - 2| = 1: bounces between x_0 and its mirror image forever
assert final[2.1] > 1e3 * d0  # |1 - 2.1| = 1.1 > 1: every step lands farther away
print("distance to x* after 100 steps, lr = c/L:", ", ".join(f"c={c}: {final[c]:.1e}" for c in (1.0, 1.9, 2.0, 2.1)))
# --8<-- [end:stability]

# --8<-- [start:two_d]
curvatures = torch.tensor([1.0, 20.0], device=device, dtype=torch.float64)  # L1 < L2


def bowl(x):
    return (curvatures * x**2).sum() / 2  # f(x) = (L1 x1² + L2 x2²) / 2


start = torch.tensor([1.0, 1.0], device=device, dtype=torch.float64)
fine = gradient_descent(bowl, start, lr=1.9 / 20.0, steps=100)  # just below 2/L2 = 0.1
blown = gradient_descent(bowl, start, lr=2.1 / 20.0, steps=100)  # just above 2/L2, far below 2/L1 = 2
assert fine[-1].abs().max() < 1e-3
assert blown[-1, 1].abs() > 1e3  # the steep coordinate diverges ...
assert blown[-1, 0].abs() < 1e-3  # ... although the shallow one alone would converge at this rate

signs = torch.sign(fine[:, 1])
assert (signs[1:] == -signs[:-1]).all()  # x2: factor 1 - 1.9 = -0.9, flips sign every step (zig-zag)
assert (fine[1:, 0] < fine[:-1, 0]).all()  # x1: factor 1 - 0.095 = 0.905, creeps in from one side
assert fine[60, 0] > 1e-3  # the shallow direction still is not there after 60 steps
print(f"2-D, lr = 1.9/L2: x after 100 steps = ({fine[-1, 0]:.1e}, {fine[-1, 1]:.1e}); "
      f"lr = 2.1/L2: x2 = {blown[-1, 1]:.1e}")
# --8<-- [end:two_d]

# --8<-- [start:newton]
x = x0.clone().requires_grad_()
(slope,) = torch.autograd.grad(parabola(x), x, create_graph=True)  # f'(x), kept differentiable
(curvature,) = torch.autograd.grad(slope, x)  # f''(x) = L
newton_step = x.detach() - slope.detach() / curvature  # x_{t+1} = x_t - f'(x_t) / f''(x_t)
torch.testing.assert_close(newton_step, torch.tensor(x_star, device=device, dtype=torch.float64))

hessian = torch.autograd.functional.hessian(bowl, start)  # diag(L1, L2)
start_leaf = start.clone().requires_grad_()
bowl(start_leaf).backward()
newton_2d = start - torch.linalg.solve(hessian, start_leaf.grad)  # x - H⁻¹ ∇f(x)
torch.testing.assert_close(newton_2d, torch.zeros(2, device=device, dtype=torch.float64))  # one step

# Same slope, different curvature: two parabolas both with f'(0) = -4
gentle_L, steep_L = 1.0, 8.0  # minima at 4 / 1 = 4 and 4 / 8 = 0.5
slope_at_0 = torch.tensor(-4.0, device=device, dtype=torch.float64)
gd_step = -0.2 * slope_at_0  # gradient descent, lr = 0.2: the same 0.8 for both
newton_gentle, newton_steep = -slope_at_0 / gentle_L, -slope_at_0 / steep_L  # 4.0 and 0.5: exact minima
assert newton_steep < gd_step < newton_gentle  # GD overshoots the steep bowl, undershoots the gentle one
for curv, newton_x in ((gentle_L, newton_gentle), (steep_L, newton_steep)):  # f'(x) = f'(0) + L x there: zero
    torch.testing.assert_close(slope_at_0 + curv * newton_x, torch.zeros_like(slope_at_0))  # float64 defaults
print(f"from x = 0 with f'(0) = -4: GD steps {gd_step:.1f} in both bowls; "
      f"Newton steps {newton_gentle:.1f} (L = 1) and {newton_steep:.1f} (L = 8)")
# --8<-- [end:newton]


# --8<-- [start:inverse]
def inverse_slope_step(x, lr=0.5):
    """The notes' intuition taken literally: a shallow slope gets a long step, a steep one a short step."""
    x = x.clone().requires_grad_()
    parabola(x).backward()
    return (x - lr / x.grad).detach()  # x - lr / f'(x) instead of x - lr f'(x)


gaps = torch.tensor([0.1, 0.01, 0.001], device=device, dtype=torch.float64)  # distances to x* = 3
landed = torch.stack([inverse_slope_step(x_star - gap) for gap in gaps]) - x_star
assert (landed.abs() > gaps).all()  # every step ends farther from the minimum than it started
assert (landed.abs()[1:] > landed.abs()[:-1]).all()  # and the closer the start, the farther the throw
# f'(x* - gap) = -L gap, so the step is +lr / (L gap), lr = 0.5: downhill, but ∝ 1/gap (float64 defaults)
torch.testing.assert_close(landed, -gaps + 0.5 / (L * gaps))
gd_landed = torch.stack([gradient_descent(parabola, x_star - gap, lr=0.125, steps=1)[-1] for gap in gaps]) - x_star
torch.testing.assert_close(gd_landed, -gaps / 2)  # gradient descent from the same points: half the distance, same side
print("distance to x*:", ", ".join(f"{g:.0e}" for g in gaps),
      "-> after one 1/slope step:", ", ".join(f"{d.abs():.1f}" for d in landed),
      "-> after one GD step:", ", ".join(f"{d.abs():.0e}" for d in gd_landed))
# --8<-- [end:inverse]


# --8<-- [start:check]
inputs = torch.randn(64, 3, device=device)
targets = torch.sin(inputs.sum(dim=1, keepdim=True))
initial = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1)).to(device)


def train(make_step, steps=200):
    model = copy.deepcopy(initial)  # both runs start from the same weights
    step = make_step(model.parameters())
    for _ in range(steps):
        model.zero_grad()
        F.mse_loss(model(inputs), targets).backward()
        step()
    return model


def plain_gradient_descent(params, lr=0.1):
    params = list(params)

    @torch.no_grad()  # the update is not part of the function being differentiated
    def step():
        for p in params:
            p -= lr * p.grad  # θ ← θ - lr ∇L(θ)

    return step


ours = train(plain_gradient_descent)
reference = train(lambda params: torch.optim.SGD(params, lr=0.1).step)  # momentum=0 by default
# torch computes p + (-lr)·g with add_(alpha=...), we compute p - (lr·g): the rounding differs by
# at most an ulp per step (~1e-7), and plain GD does not amplify it; 1e-5 leaves a wide margin.
torch.testing.assert_close(ours.state_dict(), reference.state_dict(), rtol=1e-5, atol=1e-5)
before = F.mse_loss(initial(inputs), targets)
after = F.mse_loss(ours(inputs), targets)
assert after < 0.5 * before
print(f"ours vs torch.optim.SGD after 200 steps: equal to 1e-5; loss {before:.3f} -> {after:.3f}")
# --8<-- [end:check]

# --8<-- [start:figure]
import matplotlib.pyplot as plt
import torch

device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
L = 1.0  # f(x) = L/2 x², minimum at 0, so 2/L = 2 is the largest stable rate
fig, ax = plt.subplots(figsize=(6, 3.5))
for lr, label in [(0.1, "lr = 0.1/L: too small"), (0.7, "lr = 0.7/L: good"), (2.2, "lr = 2.2/L: too large")]:
    x = torch.tensor(1.0, device=device)  # x_0 = 1
    xs = [x]
    for _ in range(15):
        x = x - lr * L * x  # x_{t+1} = x_t - lr f'(x_t), with f'(x) = L x
        xs.append(x)
    ax.plot(torch.stack(xs).cpu(), marker="o", markersize=3, label=label)
ax.axhline(0, color="gray", linewidth=0.8)
ax.set_ylim(-3, 3)  # the too-large rate leaves the plot: |x_t| = 1.2^t
ax.set_xlabel("step t")
ax.set_ylabel("x after step t (minimum at 0)")
ax.legend(loc="upper right", framealpha=1)
fig.tight_layout()
# --8<-- [end:figure]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_inverse]
def bowl_1d(x):
    return 2 * (x - 3) ** 2  # curvature L = 4, minimum at x* = 3


x = torch.tensor(2.99, device=device, dtype=torch.float64, requires_grad=True)
bowl_1d(x).backward()  # f'(2.99) = 4 (2.99 - 3) = -0.04: a shallow slope
inverse, gradient = x.detach() - 0.5 / x.grad, x.detach() - 0.125 * x.grad  # step ∝ 1/slope, step ∝ slope
print(f"1/slope step lands at {inverse:.2f}, gradient step at {gradient:.3f}")
assert abs(inverse - 3) > 1000 * abs(gradient - 3)  # 0.01 from the minimum: thrown 12.49 past it
assert inverse > 3 and x.detach() < gradient < 3  # one overshoots the minimum, the other closes in on it
# --8<-- [end:quiz_inverse]

# --8<-- [start:quiz_diverge]
x_start = torch.tensor(1.0, device=device, dtype=torch.float64)
end = {lr: gradient_descent(lambda x: 5 * x**2, x_start, lr, steps=50)[-1].abs() for lr in (0.19, 0.21)}
print(f"lr=0.19: |x| = {end[0.19]:.1e}, lr=0.21: |x| = {end[0.21]:.0f}")
assert end[0.19] < 0.01 and end[0.21] > 100  # L = 10, so 2/L = 0.2: factors -0.9 and -1.1 per step
# --8<-- [end:quiz_diverge]

# --8<-- [start:quiz_limit]
largest_lr = 2 / torch.linalg.eigvalsh(torch.autograd.functional.hessian(bowl, start)).max()  # 2 / max L_i
print(f"largest stable lr: {largest_lr:.2f}")
assert abs(largest_lr - 0.1) < 1e-12  # set by L2 = 20; x1 alone would tolerate 2 / L1 = 2
assert gradient_descent(bowl, start, 1.05 * largest_lr, steps=100)[-1].abs().max() > 10  # just above: blows up
# --8<-- [end:quiz_limit]

# --8<-- [start:quiz_newton]
x = torch.tensor(0.0, device=device, dtype=torch.float64, requires_grad=True)
(slope,) = torch.autograd.grad(bowl_1d(x), x, create_graph=True)  # f'(0) = -12, kept differentiable
(curvature,) = torch.autograd.grad(slope, x)  # f''(x) = 4
newton, gd = x.detach() - slope.detach() / curvature, x.detach() - 0.1 * slope.detach()
print(f"Newton: {newton:.1f}; gradient descent, lr 0.1: {gd:.1f}")
assert newton == 3.0  # one Newton step lands on the minimum of a parabola
assert abs(gd - 1.2) < 1e-12  # lr · |f'(0)| = 0.1 · 12: gradient descent is still 1.8 short of it
# --8<-- [end:quiz_newton]
