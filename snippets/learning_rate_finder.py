"""Learning-rate finder from scratch, checked on least squares, whose divergence point 2/L is known."""
# --8<-- [start:setup]
import torch

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:problem]
N, D = 1024, 8
X = torch.randn(N, D, device=device) * torch.linspace(0.5, 3.0, D, device=device)  # uneven scales
y = torch.sign(X @ torch.randn(D, 1, device=device) + torch.randn(N, 1, device=device))  # ±1 labels


def loss_fn(w, idx=slice(None)):
    return ((X[idx] @ w - y[idx]) ** 2).mean()  # L(w) = (1/B) Σ_i (x_i·w - y_i)²


# The loss is quadratic in w, so its Hessian is the same everywhere: H = (2/N) XᵀX
H = 2 / N * X.T @ X
w0 = torch.zeros(D, 1, device=device)
autograd_H = torch.autograd.functional.hessian(loss_fn, w0).reshape(D, D)
torch.testing.assert_close(H, autograd_H, rtol=1e-5, atol=1e-5)  # float32 sums in another order
L = torch.linalg.eigvalsh(H).max()  # the largest curvature
edge = 2 / L  # plain gradient descent diverges above this rate


def gradient_descent(lr, steps=100):
    """Full-batch GD at a constant rate; the loss after each step."""
    w = w0.clone().requires_grad_()
    losses = []
    for _ in range(steps):
        loss = loss_fn(w)
        (grad,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w -= lr * grad  # w ← w - η ∇L(w)
        losses.append(loss.detach())
    return torch.stack(losses)


below, above = gradient_descent(0.9 * edge), gradient_descent(1.1 * edge)
assert below[-1] < below[0] / 2  # 10% under the edge: converges
assert above[-1] > 1e6 * above[0]  # 10% over: |1 - ηL| = 1.2 per step, 1.2¹⁰⁰ ≈ 10⁸
print(f"largest curvature L = {L:.2f}, divergence point 2/L = {edge:.4f}")
# --8<-- [end:problem]

# --8<-- [start:sweep]
STEPS, BATCH = 100, 64
rates = 10 ** torch.linspace(-5, 0, STEPS, device=device)  # 1e-5 to 1, ×1.12 per step
batches = torch.randint(0, N, (STEPS, BATCH), device=device)  # fixed, to reuse in the check


def lr_sweep(rates, batches):
    """One short SGD run whose rate grows every step; the mini-batch loss before each step."""
    w = w0.clone().requires_grad_()
    losses = torch.empty(len(rates), device=device)
    for t, (lr, idx) in enumerate(zip(rates, batches)):
        loss = loss_fn(w, idx)
        losses[t] = loss.detach()  # stays on the device: no host round trip per step
        (grad,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w -= lr * grad  # w ← w - η_t ∇L_B(w), with η_t = η_0 q^t
    return losses


losses = lr_sweep(rates, batches)
# --8<-- [end:sweep]

# --8<-- [start:check]
w = w0.clone().requires_grad_()
opt = torch.optim.SGD([w], lr=1e-5)
growth = 10 ** (5 / (STEPS - 1))  # q: the ratio between neighbouring rates
scheduler = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=growth)
torch_rates, torch_losses = [], torch.empty(STEPS, device=device)
for t, idx in enumerate(batches):
    torch_rates.append(opt.param_groups[0]["lr"])
    loss = loss_fn(w, idx)
    torch_losses[t] = loss.detach()
    opt.zero_grad()
    loss.backward()
    opt.step()
    scheduler.step()

# Rates: float32 powers of ten vs float64 products, ~1e-6 apart
reference_rates = torch.tensor(torch_rates, device=device, dtype=rates.dtype)
torch.testing.assert_close(rates, reference_rates, rtol=1e-5, atol=0)
# Losses, up to the step where they blow up: the 1e-6 gap in rates stays small while SGD contracts
last = int((losses < 10 * losses[0]).int().argmin())  # first loss ten times the starting loss
assert last > STEPS // 2
torch.testing.assert_close(losses[:last], torch_losses[:last], rtol=1e-4, atol=1e-6)
print(f"ours and torch.optim.SGD + ExponentialLR agree on {last} steps, until the loss blows up")
# --8<-- [end:check]

# --8<-- [start:smooth]
def smooth(losses, beta=0.9):
    """Bias-corrected exponentially weighted moving average of the losses."""
    losses = losses.nan_to_num(nan=float("inf"), posinf=float("inf"))  # overflow = infinitely bad
    avg, out = torch.zeros((), device=losses.device), []
    for t, loss in enumerate(losses, start=1):
        avg = beta * avg + (1 - beta) * loss  # a_t = β a_{t-1} + (1-β) ℓ_t
        out.append(avg / (1 - beta**t))  # â_t = a_t / (1 - β^t): no pull towards a_0 = 0
    return torch.stack(out)


def stop_index(smoothed, factor=4.0):
    """First step whose smoothed loss is over `factor` times the best so far: the sweep ends there."""
    diverged = smoothed > factor * smoothed.cummin(dim=0).values
    return int(diverged.int().argmax()) if diverged.any() else len(smoothed)


smoothed = smooth(losses)
stop = stop_index(smoothed)
steady = torch.full((20,), 3.0, device=device)
torch.testing.assert_close(smooth(steady), steady)  # bias correction: a constant stays constant
# the rule on a made-up curve: the best so far is 0.5, so 1.9 passes, and 2.1 > 4 × 0.5 is the first to stop
assert stop_index(torch.tensor([1.0, 0.5, 1.9, 2.1, 100.0], device=device)) == 3
# --8<-- [end:smooth]

# --8<-- [start:pick]
def suggestions(rates, smoothed):
    stop = stop_index(smoothed)
    r, s = rates[:stop], smoothed[:stop]
    slope = (s[1:] - s[:-1]) / (r[1:].log10() - r[:-1].log10())  # dℓ/d(log₁₀ η)
    return {
        "steepest": r[slope.argmin()],  # where the loss falls fastest
        "minimum": r[s.argmin()],  # bottom of the curve: where the loss stops improving
        "stop": rates[stop],  # first rate flagged as diverged
    }


found = suggestions(rates, smoothed)
assert found["steepest"] < found["minimum"] < found["stop"]
assert edge / 2.5 < found["minimum"] < 2.5 * edge  # the bottom of the curve lands near 2/L
assert found["stop"] > edge  # the sweep notices divergence only after it has passed 2/L
# The rates are evenly spaced in log₁₀, so the slope per decade is steepest where one step's drop is largest
assert found["steepest"] == rates[torch.diff(smoothed[:stop]).argmin()]
for name, lr in found.items():
    print(f"{name:9s} lr = {lr:.4f} = {lr / edge:.2f} × 2/L")
laggy = suggestions(rates, smooth(losses, beta=0.98))  # a longer memory lags more
assert all(laggy[name] >= found[name] for name in found)  # every reading moves right, or stays
print("with β = 0.98:", ", ".join(f"{name} {lr / edge:.2f}" for name, lr in laggy.items()))
# --8<-- [end:pick]

# --8<-- [start:repeat]
def find(batches):
    return suggestions(rates, smooth(lr_sweep(rates, batches)))


# Twenty more sweeps of the same problem, each on its own random mini-batches
runs = [find(torch.randint(0, N, (STEPS, BATCH), device=device)) for _ in range(20)]
minimum = torch.stack([run["minimum"] for run in runs]) / edge  # in units of 2/L
steepest = torch.stack([run["steepest"] for run in runs]) / edge
assert ((0.4 < minimum) & (minimum < 2.5)).all()  # every bottom lands near 2/L ...
assert 2 / 3 < minimum.median() < 3 / 2  # ... and their median within 1.5x of it
assert minimum.min() < 1 < minimum.max()  # on both sides of it: the bottom IS the edge
assert steepest.median() < minimum.median() / 3  # steepest descent: several times lower
best = loss_fn(torch.linalg.lstsq(X, y).solution)  # the least-squares optimum, the floor of every run
cautious = gradient_descent(steepest.median() * edge)
assert 0 < cautious[-1] - best < 0.1 * (cautious[0] - best)  # safe, not too slow: 90% of the way in 100 steps
print(f"bottom of the curve over 20 sweeps: {minimum.min():.2f} to {minimum.max():.2f} × 2/L "
      f"(median {minimum.median():.2f}); steepest descent: median {steepest.median():.2f} × 2/L")
# --8<-- [end:repeat]

# --8<-- [start:edge]
worst = gradient_descent(minimum.max() * edge, steps=200)  # the largest bottom as a constant rate
assert (worst > 1e3 * worst[0]).any()  # it lies past 2/L: gradient descent blows up
# ... by |1 - ηL|² = (2 × bottom - 1)² per step (η = bottom × 2/L), once the most curved direction dominates.
# By the last steps before float32 overflows to inf, the slower directions have fallen behind by many orders:
# the ratio comes out within a few float32 ulps (~1e-6) of the formula, and rtol 1e-3 leaves ample room.
finite = worst[worst.isfinite()]
torch.testing.assert_close(finite[-1] / finite[-2], (2 * minimum.max() - 1) ** 2, rtol=1e-3, atol=0)
assert (minimum / 3 < 1).all()  # a third of every one of the twenty bottoms is below 2/L
slow, fast = (gradient_descent(bottom * edge / 3) for bottom in (minimum.min(), minimum.max()))
assert slow[-1] < slow[0] / 2 and fast[-1] < fast[0] / 2  # both ends of that range converge
print(f"GD at {minimum.max():.2f} × 2/L: loss {worst[0]:.2f} -> {worst[99]:.1e} after 100 steps")
print(f"GD at a third of the smallest and the largest bottom: loss {slow[0]:.2f} -> "
      f"{slow[-1]:.2f} and -> {fast[-1]:.2f}")
# --8<-- [end:edge]

# --8<-- [start:figure]
import matplotlib.pyplot as plt
import torch

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
X = torch.randn(1024, 8, device=device) * torch.linspace(0.5, 3.0, 8, device=device)
y = torch.sign(X @ torch.randn(8, 1, device=device) + torch.randn(1024, 1, device=device))
edge = 2 / torch.linalg.eigvalsh(2 / 1024 * X.T @ X).max()
rates = 10 ** torch.linspace(-5, 0, 100, device=device)
w, raw = torch.zeros(8, 1, device=device), []
for lr, idx in zip(rates, torch.randint(0, 1024, (100, 64), device=device)):
    residual = X[idx] @ w - y[idx]
    raw.append((residual**2).mean())
    w = w - lr * 2 * X[idx].T @ residual / 64  # the MSE gradient, written out
raw = torch.stack(raw).nan_to_num(nan=float("inf"), posinf=float("inf"))
avg, smoothed = 0.0, []
for t, loss in enumerate(raw, start=1):
    avg = 0.9 * avg + 0.1 * loss
    smoothed.append(avg / (1 - 0.9**t))
smoothed = torch.stack(smoothed)
stop = int((smoothed > 4 * smoothed.cummin(0).values).int().argmax())
r, s = rates[: stop + 1], smoothed[: stop + 1]
steep = ((s[1:] - s[:-1]) / (r[1:].log10() - r[:-1].log10())).argmin()
bottom = s.argmin()
r, s, raw = r.tolist(), s.tolist(), raw[: stop + 1].tolist()  # plain floats for matplotlib

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(r, raw, color="0.75", lw=1, label="mini-batch loss")
ax.plot(r, s, color="C0", label="smoothed (EWMA, β = 0.9)")
ax.axvline(float(edge), color="C3", ls="--", label="2/L: divergence point")
ax.plot(r[bottom], s[bottom], "o", color="C1", label="minimum of the curve")
ax.plot(r[steep], s[steep], "s", color="C2", label="steepest descent")
ax.set_xscale("log")
ax.set_ylim(0, 2 * s[0])  # the last points shoot off the top: that is the divergence
ax.set_xlabel("learning rate (one step at each)")
ax.set_ylabel("loss")
ax.legend(fontsize=8)
fig.tight_layout()
# --8<-- [end:figure]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_growth]
sweep = 10 ** torch.linspace(-5, 0, 100, device=device)  # the notes' lrs = 10 ** lre
growth_factor = sweep[1:] / sweep[:-1]
print(f"each rate {growth_factor.mean():.2f} times the last")
torch.testing.assert_close(growth_factor, torch.full_like(growth_factor, 10 ** (5 / 99)), rtol=1e-4, atol=0)
torch.testing.assert_close(sweep, rates)  # the same 1e-5 to 1 as the sweep above
# --8<-- [end:quiz_growth]

# --8<-- [start:quiz_bottom]
def verdict(losses):  # a run whose loss passes 1000 times its start has diverged
    return "diverges" if (losses > 1e3 * losses[0]).any() else "converges"


print(f"at the largest bottom: {verdict(worst)}; at a third of it: {verdict(fast)}")  # the runs above
assert (verdict(worst), verdict(fast)) == ("diverges", "converges")
# --8<-- [end:quiz_bottom]

# --8<-- [start:quiz_bias]
constant_loss = torch.full((5,), 3.0, device=device)  # a loss that never changes
raw = 0.9 * 0.0 + 0.1 * constant_loss[0]  # a_1 = β a_0 + (1 - β) ℓ_1, with a_0 = 0
print(f"raw a_1 = {raw:.2f}, bias-corrected {smooth(constant_loss)[0]:.2f}")
assert abs(raw - 0.3) < 1e-6  # a tenth of the loss: the zero start drags a_1 down
torch.testing.assert_close(smooth(constant_loss), constant_loss)  # â_t = a_t / (1 - β^t): 3.0 from the start
# --8<-- [end:quiz_bias]

# --8<-- [start:quiz_order]
order = sorted(found, key=lambda name: found[name])  # the three readings of the first sweep, by rate
print(" < ".join(order))
assert order == ["steepest", "minimum", "stop"]
# --8<-- [end:quiz_order]
