"""MSE and L1 from scratch, checked against F.mse_loss and F.l1_loss; why a loss averages with the mean."""
# --8<-- [start:setup]
import torch
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:losses]
def mse(pred, target, reduction="mean"):
    squared = (pred - target) ** 2  # one loss per example: e_i²
    return squared.mean() if reduction == "mean" else squared.sum()  # (1/N) Σ e_i²  or  Σ e_i²


def l1(pred, target, reduction="mean"):
    absolute = (pred - target).abs()  # |e_i|
    return absolute.mean() if reduction == "mean" else absolute.sum()  # (1/N) Σ |e_i|  or  Σ |e_i|


pred = torch.randn(8, 3, device=device)
target = torch.randn(8, 3, device=device)
# float32: the built-ins may add the 24 terms in another order, so allow a few ulps (rtol 1e-6)
for reduction in ("mean", "sum"):
    torch.testing.assert_close(mse(pred, target, reduction), F.mse_loss(pred, target, reduction=reduction),
                               rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(l1(pred, target, reduction), F.l1_loss(pred, target, reduction=reduction),
                               rtol=1e-6, atol=1e-6)
# --8<-- [end:losses]

# --8<-- [start:gradients]
p = pred.clone().requires_grad_()
F.mse_loss(p, target).backward()
N = p.numel()  # the mean runs over all 24 entries
e = pred - target
torch.testing.assert_close(p.grad, 2 / N * e, rtol=1e-6, atol=1e-7)  # ∂MSE/∂p_i = (2/N) e_i: big error, big pull

p = pred.clone().requires_grad_()
F.l1_loss(p, target).backward()
torch.testing.assert_close(p.grad, e.sign() / N, rtol=0, atol=0)  # ∂L1/∂p_i = sign(e_i)/N: every pull the same size

at_kink = target.clone().requires_grad_()  # predictions equal to the targets: every e_i = 0
F.l1_loss(at_kink, target).backward()
assert (at_kink.grad == 0).all()  # at the kink of |e| PyTorch takes the subgradient sign(0) = 0
# --8<-- [end:gradients]

# --8<-- [start:median_gradient]
p = torch.randn(9, device=device, requires_grad=True)  # nine predictions
t = torch.randn(9, device=device)
per_example = (p - t) ** 2  # nine per-example losses
median_loss, k = per_example.median(dim=0)  # the value and which example it came from
median_loss.backward()
assert torch.count_nonzero(p.grad) == 1  # the gradient reaches a single example ...
torch.testing.assert_close(p.grad[k], 2 * (p[k] - t[k]).detach())  # ... example k, with its own ∂e_k²/∂p_k

p_mean = p.detach().clone().requires_grad_()
((p_mean - t) ** 2).mean().backward()
assert torch.count_nonzero(p_mean.grad) == 9  # the mean gives every example a say ...
torch.testing.assert_close(p_mean.grad, 2 / 9 * (p_mean - t).detach(), rtol=1e-6, atol=1e-7)  # ... (2/N) e_i

four = torch.tensor([1.0, 2.0, 3.0, 4.0], device=device)
assert four.median() == 2.0  # an even count: torch returns the lower middle value, not the average 2.5
# --8<-- [end:median_gradient]

# --8<-- [start:median_jumps]
def slope_of_median(a):
    """d median(a, 2, 3) / da, by autograd: the median of three values as one of them moves."""
    a = torch.tensor(a, device=device, requires_grad=True)
    torch.stack([a, torch.tensor(2.0, device=device), torch.tensor(3.0, device=device)]).median().backward()
    return a.grad


slopes = torch.stack([slope_of_median(a) for a in (1.9, 1.99, 2.01, 2.1)])
# below 2 the median is the 2 and ignores a; once a passes 2, the median is a itself
assert torch.equal(slopes, torch.tensor([0.0, 0.0, 1.0, 1.0], device=device))
# --8<-- [end:median_jumps]

# --8<-- [start:median_blind]
errors = torch.tensor([0.0] * 6 + [5.0] * 5, device=device, requires_grad=True)  # 6 right, 5 badly wrong
loss = (errors**2).median()
loss.backward()
assert loss == 0 and torch.count_nonzero(errors.grad) == 0  # nothing left to learn, says the median
mse_of_same = (errors.detach() ** 2).mean()
# the mean sees the five misses: (5 · 25) / 11 ≈ 11.4 (float32 rounds the quotient alike both ways)
torch.testing.assert_close(mse_of_same, torch.tensor(5 * 5.0**2 / 11, device=device))
# --8<-- [end:median_blind]

# --8<-- [start:huber]
def huber(pred, target, delta=1.0):
    e = (pred - target).abs()
    # 0.5 e² for |e| ≤ δ, δ (|e| - 0.5 δ) beyond: quadratic near zero, linear in the tails
    return torch.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta)).mean()


wide = 3 * torch.randn(8, 3, device=device)  # errors on both sides of δ
for delta in (0.5, 1.0, 2.0):
    torch.testing.assert_close(huber(wide, target, delta), F.huber_loss(wide, target, delta=delta),
                               rtol=1e-6, atol=1e-6)
    # smooth L1 with β is Huber with δ = β, divided by β (its slope in the tails is 1, not δ)
    torch.testing.assert_close(huber(wide, target, delta) / delta, F.smooth_l1_loss(wide, target, beta=delta),
                               rtol=1e-6, atol=1e-6)

p = wide.clone().requires_grad_()
F.huber_loss(p, target, delta=1.0).backward()
# ∂Huber/∂p_i = clamp(e_i, -δ, δ)/N: like MSE for small errors, like L1 for large ones
torch.testing.assert_close(p.grad, (wide - target).clamp(-1.0, 1.0) / p.numel(), rtol=1e-6, atol=1e-7)
# --8<-- [end:huber]

# --8<-- [start:fit]
def fit(predict, n_params, y, loss_of_errors, steps=200, lr=0.2):
    """Plain gradient descent on the parameters of `predict`; also count who got a gradient."""
    theta = torch.zeros(n_params, device=device, requires_grad=True)
    reached = torch.zeros((), dtype=torch.long, device=device)  # examples with a nonzero gradient, all steps
    for _ in range(steps):
        y_hat = predict(theta)
        g_theta, g_pred = torch.autograd.grad(loss_of_errors(y_hat - y), (theta, y_hat))
        reached += torch.count_nonzero(g_pred)  # stays on the device: no host round trip per step
        with torch.no_grad():
            theta -= lr * g_theta  # θ ← θ - η ∂L/∂θ
    return theta.detach(), reached


losses = {  # each takes the vector of errors e = ŷ - y
    "MSE": lambda e: (e**2).mean(),
    "L1": lambda e: e.abs().mean(),
    "median of e²": lambda e: (e**2).median(),
    "Huber": lambda e: F.huber_loss(e, torch.zeros_like(e)),
}
# --8<-- [end:fit]

# --8<-- [start:constant]
y_c = torch.cat([1 + 0.1 * torch.randn(10, device=device), torch.tensor([10.0], device=device)])  # one outlier
constant = lambda theta: theta.expand(len(y_c))  # ŷ_i = c for every example
lr = 0.1
c = {name: fit(constant, 1, y_c, loss, steps=100, lr=lr)[0] for name, loss in losses.items()}

torch.testing.assert_close(c["MSE"], y_c.mean().reshape(1))  # the minimiser of MSE is the mean
# subgradient steps of size lr/N never settle: they hop around the median, within lr/N of it
assert (c["L1"] - y_c.median()).abs() <= lr / len(y_c) + 1e-6  # the minimiser of L1 is the median
clean = y_c[:-1]
assert clean.min() <= c["median of e²"] <= clean.max()  # the outlier does not move it at all
assert c["MSE"] - y_c.median() > 0.7  # the outlier drags the mean ~0.8 toward itself

# the same minimisers by brute force: evaluate both losses on a fine grid of constants
grid = torch.linspace(0, 3, 3001, device=device)  # spacing 1e-3
errors_grid = grid[:, None] - y_c  # (3001, 11): every candidate c against every example
# MSE is so flat at its bottom that float32 cannot rank candidates closer than ~1e-3 to the mean
assert (grid[(errors_grid**2).mean(1).argmin()] - y_c.mean()).abs() < 2e-3
assert (grid[errors_grid.abs().mean(1).argmin()] - y_c.median()).abs() <= 1e-3  # L1 has a sharp V there
print(f"one outlier at 10 among values near 1: mean {y_c.mean():.3f}, median {y_c.median():.3f}")
print("best constant: " + ", ".join(f"{name} {value.item():.3f}" for name, value in c.items()))
# --8<-- [end:constant]

# --8<-- [start:few_or_many]
def estimator_errors(n, trials=1000, outliers=False):
    """Mean squared distance of the sample mean and the sample median from the true centre, 0."""
    samples = torch.randn(trials, n, device=device)
    if outliers:  # 10% of the values are gross errors, all on the same side
        samples = samples + 20 * (torch.rand(trials, n, device=device) < 0.1)
    return (samples.mean(1) ** 2).mean(), (samples.median(1).values ** 2).mean()


for size in (5, 501):  # few values and many values
    mean_err, median_err = estimator_errors(size)
    # the mean of n standard normals has variance 1/n; 1000 trials estimate it to √(2/1000) ≈ 4.5%
    torch.testing.assert_close(mean_err, torch.tensor(1 / size, device=device), rtol=0.2, atol=0.0)
    assert mean_err < median_err  # clean data: the mean wins, for few values too
    mean_err, median_err = estimator_errors(size, outliers=True)
    assert median_err < mean_err  # outliers: the median wins, for many values too
# --8<-- [end:few_or_many]

# --8<-- [start:line]
torch.manual_seed(0)  # the figure below redraws exactly these points
x = torch.linspace(-1, 1, 21, device=device)
y = 2 * x + 1 + 0.1 * torch.randn(21, device=device)  # true line: slope 2, intercept 1
y[-1] += 15  # one outlier, at the right end
line = lambda theta: theta[0] * x + theta[1]  # ŷ = w x + b
fits = {name: fit(line, 2, y, loss, lr=0.4 if name in ("MSE", "Huber") else 0.2) for name, loss in losses.items()}

least_squares = torch.linalg.lstsq(torch.stack([x, torch.ones_like(x)], 1), y[:, None]).solution.squeeze(1)
# gradient descent has converged to the closed form; what is left is float32 rounding in 200 steps
torch.testing.assert_close(fits["MSE"][0], least_squares, rtol=1e-4, atol=1e-4)
slope = {name: theta[0] for name, (theta, _) in fits.items()}
assert slope["MSE"] - 2 > 1.5  # pulled toward the outlier: about twice the true slope
for name in ("L1", "median of e²", "Huber"):
    assert (slope[name] - 2).abs() < 0.5, name  # the robust losses stay near 2 (data differ on a GPU)

steps, n = 200, len(x)
for name in ("MSE", "L1", "Huber"):
    assert fits[name][1] == steps * n  # every example got a gradient at every step
assert fits["median of e²"][1] == steps  # one example per step, the other 20 nothing
print("line fit, true slope 2 and intercept 1, one outlier:")
for name, (theta, reached) in fits.items():
    print(f"  {name:>12}: slope {theta[0]:.3f}, intercept {theta[1]:.3f}, "
          f"{reached.item() / steps:.0f} of {n} examples get a gradient per step")
print(f"all loss checks passed on {device.type}")
# --8<-- [end:line]

# --8<-- [start:figure]
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
x = torch.linspace(-1, 1, 21, device=device)
y = 2 * x + 1 + 0.1 * torch.randn(21, device=device)
y[-1] += 15  # the outlier
losses = {"MSE": lambda e: (e**2).mean(), "L1": lambda e: e.abs().mean(),
          "Huber": lambda e: F.huber_loss(e, torch.zeros_like(e))}
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.scatter(x.cpu(), y.cpu(), color="black", s=12, label="data")
for (name, loss), lr in zip(losses.items(), (0.4, 0.2, 0.4)):
    w = torch.zeros(2, device=device, requires_grad=True)
    for _ in range(200):
        (g,) = torch.autograd.grad(loss(w[0] * x + w[1] - y), w)
        w = (w - lr * g).detach().requires_grad_()
    ax.plot(x.cpu(), (w[0] * x + w[1]).detach().cpu(), label=f"{name}: slope {w[0]:.2f}")
ax.plot(x.cpu(), (2 * x + 1).cpu(), "k:", label="true line: slope 2")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend()
# --8<-- [end:figure]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_pull]
errors2 = torch.tensor([0.01, 100.0], device=device)  # predictions against targets of 0: a tiny miss, a huge one
p_l1, p_mse = errors2.clone().requires_grad_(), errors2.clone().requires_grad_()
F.l1_loss(p_l1, torch.zeros(2, device=device)).backward()
F.mse_loss(p_mse, torch.zeros(2, device=device)).backward()
rounded = lambda g: [round(v, 4) for v in g.tolist()]
print(f"L1 gradient {rounded(p_l1.grad)}, MSE gradient {rounded(p_mse.grad)}")
assert rounded(p_l1.grad) == [0.5, 0.5] and rounded(p_mse.grad) == [0.01, 100.0]  # sign(e)/N against 2e/N
# --8<-- [end:quiz_pull]

# --8<-- [start:quiz_median_backward]
p5 = torch.tensor([0.5, -2.0, 3.0, 0.1, 1.0], device=device, requires_grad=True)  # five predictions
(p5**2).median().backward()  # targets of 0, so the losses are 0.25, 4, 9, 0.01, 1; no error raised
print(f"no error; {torch.count_nonzero(p5.grad)} of 5 examples get a gradient")
assert torch.count_nonzero(p5.grad) == 1 and p5.grad[4] == 2.0  # the middle loss, 1, and its slope 2 e
# --8<-- [end:quiz_median_backward]

# --8<-- [start:quiz_even_median]
print(f"median {torch.tensor([1.0, 2.0, 3.0, 4.0], device=device).median():.1f}")
assert torch.tensor([1.0, 2.0, 3.0, 4.0], device=device).median() == 2.0  # the lower middle value
# --8<-- [end:quiz_even_median]

# --8<-- [start:quiz_huber]
p_h = torch.tensor([0.5, 10.0], device=device, requires_grad=True)  # errors 0.5 and 10, against targets of 0
F.huber_loss(p_h, torch.zeros(2, device=device), delta=1.0).backward()
print(f"Huber gradient {p_h.grad.tolist()}")
torch.testing.assert_close(p_h.grad, p_h.detach().clamp(-1.0, 1.0) / 2)  # clamp(e, -δ, δ) / N
# --8<-- [end:quiz_huber]
