"""Stochastic gradient descent: mini-batch gradients are unbiased, their variance falls as 1/B."""
# --8<-- [start:setup]
import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:data]
N = 256
X = torch.cat([torch.randn(N, 3, device=device), torch.ones(N, 1, device=device)], dim=1)  # last column: intercept
true_theta = torch.tensor([2.0, -1.0, 0.5, 1.0], device=device)
y = X @ true_theta + 0.5 * torch.randn(N, device=device)  # linear regression with noise


def per_example_gradients(theta):
    """Row i is the gradient of (x_i·θ - y_i)² with respect to θ: one gradient per example."""
    residual = X @ theta - y
    return 2 * residual[:, None] * X  # ∇θ (x_i·θ - y_i)² = 2 (x_i·θ - y_i) x_i


theta0 = torch.zeros(4, device=device)  # where training starts
G = per_example_gradients(theta0)  # (N, 4)
full_gradient = G.mean(dim=0)  # ∇L(θ) = (1/N) Σ_i g_i

theta = theta0.clone().requires_grad_()
F.mse_loss(X @ theta, y).backward()  # autograd on the whole data set
torch.testing.assert_close(theta.grad, full_gradient, rtol=1e-5, atol=1e-5)  # float32, other summation order
batch = torch.randint(0, N, (16,), device=device)
theta.grad = None
F.mse_loss(X[batch] @ theta, y[batch]).backward()  # autograd on one mini-batch
torch.testing.assert_close(theta.grad, G[batch].mean(dim=0), rtol=1e-5, atol=1e-5)  # = mean of its rows of G
# --8<-- [end:data]


# --8<-- [start:unbiased]
def batch_gradients(G, batch_size, n_batches, replace=True):
    """Gradients of n_batches random mini-batches: each is the mean of batch_size rows of G."""
    if replace:
        idx = torch.randint(0, len(G), (n_batches, batch_size), device=G.device)
    else:  # batch_size distinct examples per batch: the first entries of a random permutation
        idx = torch.rand(n_batches, len(G), device=G.device).argsort(dim=1)[:, :batch_size]
    return G[idx].mean(dim=1)  # (n_batches, 4)


K = 4000  # batches drawn per batch size
sizes = [1, 4, 16, 64]
variance, standard_error = {}, {}
for B in sizes:
    g_B = batch_gradients(G, B, K)
    squared_distance = ((g_B - full_gradient) ** 2).sum(dim=1)  # |g_B - ∇L|² for each batch
    variance[B] = squared_distance.mean()  # E|g_B - ∇L|²: the total variance of a batch gradient
    standard_error[B] = squared_distance.std() / math.sqrt(K)  # how precisely K batches measure it
    # the same standard error measured another way: the spread of the means of 100 groups of 40 batches,
    # divided by √100; a std of 100 skewed values is itself uncertain by ~10% (over 100 seeds the
    # two never differed by more than 21%), hence rtol=0.4
    group_means = squared_distance.view(100, K // 100).mean(dim=1)
    torch.testing.assert_close(standard_error[B], group_means.std() / math.sqrt(100), rtol=0.4, atol=0.0)
    # unbiased: the average of K batch gradients misses ∇L by about sqrt(variance / K), no more
    assert (g_B.mean(dim=0) - full_gradient).norm() < 4 * (variance[B] / K).sqrt()

order = torch.randperm(N, device=device)  # one epoch: every example exactly once
epoch_gradients = G[order].view(N // 16, 16, 4).mean(dim=1)  # 16 batches of 16
torch.testing.assert_close(epoch_gradients.mean(dim=0), full_gradient, rtol=1e-5, atol=1e-5)  # exact, up to rounding
# --8<-- [end:unbiased]

# --8<-- [start:variance]
sigma2 = ((G - full_gradient) ** 2).sum(dim=1).mean()  # variance of one example's gradient
log_B = torch.tensor([math.log(B) for B in sizes], device=device)
log_var = torch.stack([variance[B].log() for B in sizes])
fitted_slope = ((log_B - log_B.mean()) * (log_var - log_var.mean())).sum() / ((log_B - log_B.mean()) ** 2).sum()
assert abs(fitted_slope + 1) < 0.1  # log variance vs log B: a line of slope -1
for B in sizes:
    # with replacement the B gradients are independent, so the variance is σ²/B exactly; the
    # estimate from K batches is off by about one standard error, so allow four
    assert abs(variance[B] - sigma2 / B) < 4 * standard_error[B]



def finite_population_correction(N, B):  # without replacement, the variance is σ²/B times this
    return (N - B) / (N - 1)


B = 64
g_distinct = batch_gradients(G, B, K, replace=False)
variance_distinct = ((g_distinct - full_gradient) ** 2).sum(dim=1).mean()
correction = finite_population_correction(N, B)  # 192/255 = 0.75
assert abs(variance_distinct / (sigma2 / B) / correction - 1) < 0.1
# B = N - 1 can be checked exactly: there are only N such batches, each leaving out one example, all
# equally likely, so their variance is an average over all N, with no sampling error. float64 sums,
# float32 σ²: 1e-5 is rounding; a wrong correction, such as N - B over N, is off by 1/N = 0.4%
leave_one_out = (G.double().sum(dim=0) - G.double()) / (N - 1)  # the gradient of each of the N batches
variance_exact = ((leave_one_out - full_gradient.double()) ** 2).sum(dim=1).mean()
torch.testing.assert_close(variance_exact.float(), sigma2 / (N - 1) * finite_population_correction(N, N - 1),
                           rtol=1e-5, atol=0.0)
whole = batch_gradients(G, N, 3, replace=False)  # B = N: every batch is the whole data set
torch.testing.assert_close(whole, full_gradient.expand(3, 4), rtol=1e-5, atol=1e-5)  # variance 0
print(f"log-variance vs log-batch-size slope: {fitted_slope:.3f}")
print("B    measured variance      sigma²/B")
for B in sizes:
    print(f"{B:<4} {variance[B]:9.4f} ± {standard_error[B]:.4f}  {sigma2 / B:9.4f}")
print(f"B = 64 without replacement: {variance_distinct:.4f} = sigma²/64 x {variance_distinct / (sigma2 / 64):.2f} "
      f"(correction (N-B)/(N-1) = {correction:.2f})")
# --8<-- [end:variance]

# --8<-- [start:how_close]
theta_fit = torch.linalg.lstsq(X, y[:, None]).solution[:, 0]  # the minimum of the training loss
theta_near = theta_fit + 0.02 * (theta0 - theta_fit)  # 98% of the way from the start to the minimum
# the squared error's gradient is linear in θ and zero at the minimum, ∇L(θ) = H (θ - θ*), so 2% of
# the starting gradient is left; atol: float32 lstsq leaves ∇L(θ*) ~1e-7 rather than exactly 0
torch.testing.assert_close(per_example_gradients(theta_near).mean(dim=0), 0.02 * full_gradient,
                           rtol=1e-4, atol=1e-5)


def rms_relative_error(theta, B):
    """sqrt(E|g_B - ∇L|²) / |∇L|: how far a batch gradient typically is from the full one."""
    G_here = per_example_gradients(theta)
    full = G_here.mean(dim=0)
    g_B = batch_gradients(G_here, B, K)
    return ((g_B - full) ** 2).sum(dim=1).mean().sqrt() / full.norm()


at_start = {B: rms_relative_error(theta0, B) for B in sizes}
near_min = {B: rms_relative_error(theta_near, B) for B in sizes}
assert at_start[1] > 1  # one example: typically farther from ∇L than ∇L is long
assert at_start[64] < 0.5  # 64 examples: 8x closer, as 1/sqrt(B) predicts
assert near_min[64] > 1  # near the minimum even B = 64 is mostly noise: ∇L shrinks, the noise does not
print("B    relative error at start   near the minimum")
for B in sizes:
    print(f"{B:<4} {at_start[B]:10.2f}  {near_min[B]:20.2f}")


def jitter(lr, B, chains=200, steps=300):
    """Mean squared distance from the minimum after `steps` SGD steps that start on it (200 runs at once)."""
    theta = theta_fit.expand(chains, 4).clone()
    for _ in range(steps):
        idx = torch.randint(0, N, (chains, B), device=device)  # one batch per run
        residual = (X[idx] @ theta[:, :, None])[..., 0] - y[idx]
        theta = theta - lr * 2 * (residual[..., None] * X[idx]).mean(dim=1)  # θ ← θ - lr g_B
    return ((theta - theta_fit) ** 2).sum(dim=1).mean()


base, smaller_lr, larger_B = jitter(0.02, 4), jitter(0.005, 4), jitter(0.02, 16)
assert base > 0  # constant-rate SGD does not stay at the minimum ...
assert smaller_lr < 0.5 * base and larger_B < 0.5 * base  # ... its jitter shrinks with lr and with 1/B
# small-rate theory: θ - θ* ← (I - lr H)(θ - θ*) + lr · noise settles where lr (H S + S H) = lr² Σ / B;
# here H = 2 XᵀX/N ≈ 2I, so E|θ - θ*|² ≈ lr σ*² / (4B), σ*² the per-example gradients' spread at θ*
sigma2_min = (per_example_gradients(theta_fit) ** 2).sum(dim=1).mean()  # ∇L(θ*) = 0: spread = mean |g_i|²
# H's eigenvalues lie between 1.7 and 2.4, not at 2, and 200 runs measure the mean to about 5-7%
# (over 100 seeds the worst of the three was 22% off): rtol 0.35; a wrong step is off by far more
for measured, (rate, size) in [(base, (0.02, 4)), (smaller_lr, (0.005, 4)), (larger_B, (0.02, 16))]:
    torch.testing.assert_close(measured, rate * sigma2_min / (4 * size), rtol=0.35, atol=0.0)
print(f"squared distance from the minimum: lr 0.02, B 4: {base:.1e}; lr 0.005: {smaller_lr:.1e}; B 16: {larger_B:.1e}")
# --8<-- [end:how_close]

# --8<-- [start:sgd]
batch_size, epochs, lr = 8, 5, 0.005
orders = [torch.randperm(N, device=device) for _ in range(epochs)]  # the same batches for every run
for order in orders:  # an epoch is one pass: each example exactly once
    assert torch.equal(order.sort().values, torch.arange(N, device=device))
initial = nn.Linear(3, 1).to(device)
inputs, targets = X[:, :3], y[:, None]  # nn.Linear carries the intercept as its bias


def train(make_step):
    model = copy.deepcopy(initial)
    step = make_step(model.parameters())
    losses = []  # one loss per iteration, kept on the device: no host round trip per step
    for order in orders:
        for idx in order.split(batch_size):  # N / batch_size = 32 steps per epoch
            loss = F.mse_loss(model(inputs[idx]), targets[idx])  # loss on this mini-batch only
            model.zero_grad()
            loss.backward()
            step()
            losses.append(loss.detach())
    return model, torch.stack(losses)


def sgd(params, lr=lr):
    params = list(params)

    @torch.no_grad()
    def step():
        for p in params:
            p -= lr * p.grad  # θ ← θ - lr ∇L_batch(θ)

    return step
# --8<-- [end:sgd]

# --8<-- [start:check]
ours, our_losses = train(sgd)
reference, reference_losses = train(lambda params: torch.optim.SGD(params, lr=lr).step)
# 160 steps; torch computes p + (-lr)·g with add_(alpha=...), we compute p - (lr·g): an ulp of
# difference per step at most, which SGD does not amplify; 1e-5 is far above that and far below any real bug
torch.testing.assert_close(ours.state_dict(), reference.state_dict(), rtol=1e-5, atol=1e-5)
torch.testing.assert_close(our_losses, reference_losses, rtol=1e-5, atol=1e-5)
print(f"ours vs torch.optim.SGD: {len(our_losses)} steps ({epochs} epochs of {N // batch_size} batches), equal to 1e-5")
# --8<-- [end:check]

# --8<-- [start:bounce]
ups = (our_losses[1:] > our_losses[:-1]).float().mean()  # fraction of steps where the loss went up
epoch_means = our_losses.view(epochs, -1).mean(dim=1)  # average batch loss of each epoch
assert ups > 0.25  # the per-iteration loss is far from monotone ...
assert (epoch_means[1:] < epoch_means[:-1]).all()  # ... while the epoch averages fall every epoch

with torch.no_grad():  # at fixed weights, how much do batch losses differ between batches?
    spread = {}
    for B in (4, 64):
        idx = torch.randint(0, N, (K, B), device=device)
        spread[B] = F.mse_loss(ours(inputs[idx]), targets[idx], reduction="none").mean(dim=(1, 2)).std()
assert spread[4] > 2.5 * spread[64]  # smaller batches bounce more: spread ∝ 1/sqrt(B), here 4x
print(f"loss went up on {ups:.0%} of steps; epoch averages: " + ", ".join(f"{m:.3f}" for m in epoch_means))
print(f"spread of batch losses at fixed weights: B=4 {spread[4]:.3f}, B=64 {spread[64]:.3f}")
# --8<-- [end:bounce]

# --8<-- [start:memory]
wide = nn.Sequential(nn.Linear(3, 4096), nn.ReLU(), nn.Linear(4096, 1)).to(device)  # one wide hidden layer


def saved_bytes(model, B):
    """Bytes autograd keeps for backward in one forward pass of B examples, parameters left out."""
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    kept = {}  # one entry per block of memory: a tensor saved twice counts once

    def pack(t):  # called on every tensor autograd saves for the backward pass
        block = t.untyped_storage().data_ptr()
        if block not in parameters:
            kept[block] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        F.mse_loss(model(inputs[:B]), targets[:B])
    return sum(kept.values())


# per example, float32: the input (3, for the first weight's gradient), the ReLU output (4096, for
# the ReLU's mask and the second weight's gradient), the prediction and the target (1 + 1, for MSE)
per_example = (3 + 4096 + 1 + 1) * 4
for B in (8, 64):
    assert saved_bytes(wide, B) == B * per_example  # grows in proportion to the batch size
parameter_bytes = sum(p.nbytes for p in wide.parameters())  # the same for every batch size
print(f"autograd keeps {saved_bytes(wide, 8) // 1024} KiB at B=8, {saved_bytes(wide, 64) // 1024} KiB at B=64; "
      f"the parameters: {parameter_bytes // 1024} KiB at any B")
# --8<-- [end:memory]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_unbiased]
g = torch.tensor([4.0, -2.0, 1.0, -1.0], device=device)  # four examples' gradients for one weight
pairs = torch.combinations(torch.arange(4, device=device), r=2)  # all 6 batches of 2 distinct examples
g_pairs = g[pairs].mean(dim=1)  # 1.0, 2.5, 1.5, -0.5, -1.5, 0.0
print(f"full gradient {g.mean():.2f}, mean of the 6 batch gradients {g_pairs.mean():.2f}, "
      f"{int((g_pairs < 0).sum())} of 6 point the other way")
assert g_pairs.mean() == g.mean() == 0.5 and (g_pairs < 0).sum() == 2  # right on average, wrong in sign for two
# --8<-- [end:quiz_unbiased]

# --8<-- [start:quiz_noise]
noise_ratio = (variance[4] / variance[64]).sqrt()  # measured above over 4000 batches of each size
print(f"the B = 64 gradient is {noise_ratio:.0f} times less noisy")
assert 3.5 < noise_ratio < 4.5  # √(64 / 4) = 4: 16 times the examples, a quarter of the noise
# --8<-- [end:quiz_noise]

# --8<-- [start:quiz_epochs]
uses = torch.bincount(torch.cat(orders), minlength=N)  # how often each example was in a batch
print(f"{len(our_losses)} steps, every example used {int(uses.min())} times")
assert len(our_losses) == epochs * N // batch_size and (uses == uses.min()).all()  # all equally often
# --8<-- [end:quiz_epochs]

# --8<-- [start:quiz_memory]
memory_ratio = saved_bytes(wide, 64) / saved_bytes(wide, 8)
print(f"{memory_ratio:.0f} times the memory for activations")
assert memory_ratio == 8  # one row per example: saved tensors grow with the batch, the parameters do not
# --8<-- [end:quiz_memory]
