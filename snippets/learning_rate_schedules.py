"""Learning-rate schedules as plain functions of the step, checked against torch.optim.lr_scheduler."""
# --8<-- [start:setup]
import math
import warnings

import torch
from torch.optim import lr_scheduler

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]


# --8<-- [start:formulas]
# t counts the optimizer steps already taken: the rate below is the one step t uses (t = 0, 1, ...)
def step_decay(t, lr0, step_size, gamma):
    return lr0 * gamma ** (t // step_size)  # η_t = η_0 γ^⌊t/s⌋


def cos_anneal(start, end, frac):  # from start (frac = 0) to end (frac = 1) along half a cosine
    return end + (start - end) * (1 + math.cos(math.pi * frac)) / 2


def cosine(t, lr0, total, lr_min=0.0):
    return cos_anneal(lr0, lr_min, t / total)  # η_t = η_min + (η_0 - η_min)(1 + cos(π t/T))/2


def warmup(t, lr0, warmup_steps, start_factor):
    frac = min(t, warmup_steps) / warmup_steps
    return lr0 * (start_factor + (1 - start_factor) * frac)  # linear from start_factor·η_0 to η_0


def warmup_cosine(t, lr0, warmup_steps, start_factor, total):
    if t < warmup_steps:
        return warmup(t, lr0, warmup_steps, start_factor)
    return cosine(t - warmup_steps, lr0, total - warmup_steps)  # the cosine starts at the peak


def one_cycle(t, max_lr, total, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
              base_momentum=0.85, max_momentum=0.95):
    """(learning rate, momentum) at step t of torch's OneCycleLR (cos, two phases)."""
    initial_lr = max_lr / div_factor  # 0.004 for max_lr = 0.1
    min_lr = initial_lr / final_div_factor  # 4e-7
    peak = pct_start * total - 1  # the step at which the rate reaches max_lr (a float)
    if t <= peak:  # phase 1: rate up, momentum down
        frac = t / peak
        return cos_anneal(initial_lr, max_lr, frac), cos_anneal(max_momentum, base_momentum, frac)
    frac = (t - peak) / (total - 1 - peak)  # phase 2 ends at step total - 1
    return cos_anneal(max_lr, min_lr, frac), cos_anneal(base_momentum, max_momentum, frac)
# --8<-- [end:formulas]


# --8<-- [start:record]
def torch_rates(make_scheduler, steps, make_optimizer=lambda ps: torch.optim.SGD(ps, lr=0.1)):
    """The learning rate (and momentum) each optimizer step used, read from the optimizer."""
    params = [torch.zeros(1, device=device, requires_grad=True)]  # the schedule never reads it
    optimizer = make_optimizer(params)
    scheduler = make_scheduler(optimizer)  # construction sets the rate for step 0
    rates, momenta = [], []
    for _ in range(steps):
        group = optimizer.param_groups[0]
        rates.append(group["lr"])  # what optimizer.step() is about to use
        momenta.append(group["betas"][0] if "betas" in group else group["momentum"])
        optimizer.step()  # (a real loop computes a loss and calls backward() first)
        scheduler.step()  # after optimizer.step(): moves the rate on to the next step's value
    return rates, momenta
# --8<-- [end:record]


# --8<-- [start:check]
T = 100
# Python floats: float64, unit roundoff u = 2⁻⁵³ ≈ 1.1e-16. PyTorch derives each rate from the previous
# one, so its roundings add up, a few u per update: ~1e-14 after 100. Near the end of a cosine both
# forms also lose digits in 1 + cos(πt/T) ≈ 5e-4, up to u / 5e-4 ≈ 2e-13 relative. rtol 1e-12 covers
# both. No absolute part: where a cosine reaches 0, both forms give exactly 0 (cos π = -1 in float64).
exact = dict(rtol=1e-12, atol=0.0)
ours, theirs = {}, {}

ours["step"] = [step_decay(t, 0.1, step_size=30, gamma=0.1) for t in range(T)]
theirs["step"], _ = torch_rates(lambda opt: lr_scheduler.StepLR(opt, step_size=30, gamma=0.1), T)

ours["cosine"] = [cosine(t, 0.1, total=T) for t in range(T)]
theirs["cosine"], _ = torch_rates(lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=T), T)

ours["warmup"] = [warmup(t, 0.1, warmup_steps=10, start_factor=0.01) for t in range(20)]
theirs["warmup"], _ = torch_rates(
    lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.01, total_iters=10), 20)

ours["warmup+cosine"] = [warmup_cosine(t, 0.1, 10, 0.01, total=T) for t in range(T)]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    theirs["warmup+cosine"], _ = torch_rates(lambda opt: lr_scheduler.SequentialLR(opt, [
        lr_scheduler.LinearLR(opt, start_factor=0.01, total_iters=10),
        lr_scheduler.CosineAnnealingLR(opt, T_max=T - 10)], milestones=[10]), T)
epoch_warnings = [w for w in caught if issubclass(w.category, UserWarning) and "epoch parameter" in str(w.message)]
if torch.__version__ < "2.9":  # SequentialLR restarted the cosine with step(0): a spurious deprecation warning
    assert len(epoch_warnings) == 1
elif torch.__version__ >= "2.13":  # fixed (pytorch/pytorch#149392): no warning
    assert epoch_warnings == []

for name in ours:
    torch.testing.assert_close(ours[name], theirs[name], **exact)
    print(f"{name:14s} {len(ours[name]):3d} steps match: first {ours[name][0]:.4g}, "
          f"last {ours[name][-1]:.3g}")
assert lr_scheduler.StepLR(torch.optim.SGD([torch.zeros(1, device=device, requires_grad=True)], lr=0.1),
                           step_size=30).last_epoch == 0  # a new scheduler is already at step 0


def closed_form_rates(make_scheduler, steps):
    """PyTorch's own formula for η_t (a private method: η from base_lrs and last_epoch), step by step."""
    optimizer = torch.optim.SGD([torch.zeros(1, device=device, requires_grad=True)], lr=0.1)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(scheduler._get_closed_form_lr()[0])
        optimizer.step()
        scheduler.step()
    return rates


closed = {
    "step": closed_form_rates(lambda opt: lr_scheduler.StepLR(opt, step_size=30, gamma=0.1), T),
    "cosine": closed_form_rates(lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=T), T),
    "warmup": closed_form_rates(lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.01, total_iters=10), 20),
}
for name in closed:  # our formulas are PyTorch's formulas, written independently
    torch.testing.assert_close(ours[name], closed[name], **exact)
# --8<-- [end:check]

# --8<-- [start:recursive]
def sgd_at(lr):
    return torch.optim.SGD([torch.zeros(1, device=device, requires_grad=True)], lr=lr)


optimizer = sgd_at(0.1)
scheduler = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
optimizer.step()
scheduler.step()  # step 1 uses 0.1 too
optimizer.param_groups[0]["lr"] = 0.03  # a hand edit (or another scheduler) changes the rate
optimizer.step()
scheduler.step()  # a decay step: γ times whatever rate the optimizer holds
torch.testing.assert_close(optimizer.param_groups[0]["lr"], 0.5 * 0.03, **exact)  # η_2 = γ η_1: the edit is kept
torch.testing.assert_close(scheduler._get_closed_form_lr()[0], 0.5 * 0.1, **exact)  # η_0 γ^⌊2/2⌋ ignores it

# Each update rounds once, so the two forms drift apart as updates accumulate
optimizer = sgd_at(0.1)
scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=0.9)  # η_t = η_0 γ^t
u = 2.0**-53  # float64's unit roundoff: one product rounds by at most a factor 1 ± u
assert u == torch.finfo(torch.float64).eps / 2  # half the gap between 1 and the next float64 (powers of 2: exact)
gaps = []
for t in range(1000):
    recursive, formula = optimizer.param_groups[0]["lr"], scheduler._get_closed_form_lr()[0]
    gaps.append(abs(recursive - formula) / formula)
    # t products of the recursion, at most u each; the formula's pow and product, a few u more
    assert gaps[-1] <= (t + 3) * u, t
    optimizer.step()
    scheduler.step()
assert u < max(gaps[:10]) < max(gaps)  # the two forms do drift apart, and further with more updates
print(f"ExponentialLR(γ = 0.9), recursive vs closed form: largest relative gap {max(gaps[:10]) / u:.0f} u "
      f"in 10 steps, {max(gaps) / u:.0f} u in 1000 (u = 2⁻⁵³)")
# --8<-- [end:recursive]

# --8<-- [start:one_cycle]
def make_one_cycle(opt):
    return lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=T)  # pct_start=0.3, div 25, 1e4


cycle = [one_cycle(t, 0.1, T) for t in range(T)]
our_lr, our_momentum = [lr for lr, _ in cycle], [m for _, m in cycle]
sgd_lr, sgd_momentum = torch_rates(
    make_one_cycle, T, lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9))
adam_lr, adam_beta1 = torch_rates(make_one_cycle, T, lambda ps: torch.optim.Adam(ps, lr=0.1))
for lr, momentum in ((sgd_lr, sgd_momentum), (adam_lr, adam_beta1)):
    torch.testing.assert_close(our_lr, lr, **exact)
    torch.testing.assert_close(our_momentum, momentum, **exact)  # SGD's momentum, Adam's β1

peak = max(range(T), key=lambda t: our_lr[t])
assert peak == 29 and our_lr[peak] == 0.1 and our_momentum[peak] == 0.85  # rate up, momentum down
torch.testing.assert_close(our_lr[0], 0.1 / 25, **exact)  # starts at max_lr / div_factor
torch.testing.assert_close(our_lr[-1], 0.1 / 25 / 1e4, **exact)  # ends at that / final_div_factor
assert sgd_momentum[0] == 0.95  # OneCycleLR overwrote the momentum=0.9 we gave SGD
_, plain_sgd_momentum = torch_rates(make_one_cycle, T)  # SGD created without momentum ...
assert plain_sgd_momentum == sgd_momentum  # ... gets the same cycling momentum (0 was a value too)

p = torch.zeros(1, device=device, requires_grad=True)
opt = torch.optim.SGD([p], lr=0.1)
scheduler = make_one_cycle(opt)
for _ in range(T):  # T optimizer steps, T scheduler steps: fine
    opt.step()
    scheduler.step()
opt.step()
try:
    scheduler.step()  # one more than total_steps
except ValueError as error:
    assert "total steps" in str(error)  # the type and one stable phrase, not the whole message
else:
    raise AssertionError("OneCycleLR let us step past total_steps")
print(f"one-cycle: lr {our_lr[0]:.0e} -> {our_lr[peak]} (step {peak}) -> {our_lr[-1]:.0e}; "
      f"momentum {our_momentum[0]} -> {our_momentum[peak]} -> {our_momentum[-1]}")
# --8<-- [end:one_cycle]

# --8<-- [start:why_decay]
def final_excess_loss(schedule, steps=200, lr=0.05, chains=32, batch=8):
    """Mini-batch SGD on least squares, `chains` independent runs at once; loss above the optimum."""
    g = torch.Generator(device=device).manual_seed(1)
    X = torch.randn(512, 8, device=device, generator=g)
    y = X @ torch.randn(8, 1, device=device, generator=g) + torch.randn(512, 1, device=device, generator=g)
    best = ((X @ torch.linalg.lstsq(X, y).solution - y) ** 2).mean()  # the floor no w can beat
    w = torch.zeros(chains, 8, 1, device=device)
    for t in range(steps):
        idx = torch.randint(0, 512, (chains, batch), device=device, generator=g)
        Xb, yb = X[idx], y[idx]  # (chains, batch, 8): a different mini-batch for every run
        grad = 2 * Xb.transpose(1, 2) @ (Xb @ w - yb) / batch  # ∇ of the batch MSE
        w = w - schedule(t, lr, steps) * grad
    return ((X @ w - y) ** 2).mean() - best


constant = final_excess_loss(lambda t, lr, steps: lr)
annealed = final_excess_loss(lambda t, lr, steps: cosine(t, lr, steps))
assert 0 < annealed < constant / 2  # above the floor (no w beats it), but decay lets SGD settle closer
half = final_excess_loss(lambda t, lr, steps: lr / 2)  # the kicks are ∝ the rate, so is how far SGD hovers:
assert 0.35 < half / constant < 0.65  # about half (32 runs average out most of the noise: 0.48 here)
print(f"excess loss after 200 SGD steps: constant rate {constant:.4f}, cosine {annealed:.4f}")
# --8<-- [end:why_decay]

# --8<-- [start:why_warmup]
def adam_first_step(lr, scheduler=None):
    p = torch.zeros(3, device=device, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr)
    if scheduler is not None:
        scheduler(opt)
    p.grad = torch.tensor([1e-4, 1.0, 1e4], device=device)  # gradients 10⁸ apart
    opt.step()
    return p.detach().abs()


# m̂_1 / √v̂_1 = g_1 / |g_1|: every parameter moves by the full rate on one gradient's say-so
torch.testing.assert_close(adam_first_step(0.01), torch.full((3,), 0.01, device=device), rtol=1e-3, atol=0)
warm = adam_first_step(0.01, lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=10))
torch.testing.assert_close(warm, torch.full((3,), 0.001, device=device), rtol=1e-3, atol=0)
# --8<-- [end:why_warmup]

# --8<-- [start:order]
def rates_used(scheduler_first, steps=3):
    """Rates seen by optimizer.step() with StepLR halving every step, and the order warnings raised."""
    p = torch.zeros(1, device=device, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=0.1)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    used = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            if scheduler_first:
                scheduler.step()  # wrong: moves the rate on before the step that should use it
            used.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if not scheduler_first:
                scheduler.step()  # right: after optimizer.step()
    return used, [w for w in caught if issubclass(w.category, UserWarning)
                  and "before `optimizer.step()`" in str(w.message)]  # PyTorch's order warning


right, right_warnings = rates_used(scheduler_first=False)
wrong, wrong_warnings = rates_used(scheduler_first=True)
assert right == [0.1, 0.05, 0.025] and right_warnings == []
assert wrong == [0.05, 0.025, 0.0125]  # the first value of the schedule, 0.1, is never used
assert len(wrong_warnings) == 1  # warned once, at the first scheduler.step()
print(f"right order uses {right}; scheduler first uses {wrong}")
# --8<-- [end:order]

# --8<-- [start:no_restart]
plain, _ = torch_rates(lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=20), 41)
restarts, _ = torch_rates(lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=20), 41)
# CosineAnnealingLR past T_max: the cosine simply goes on, back up as smoothly as it came down
torch.testing.assert_close(plain[20:41], plain[20::-1], **exact)  # η_{20+k} = η_{20-k}
torch.testing.assert_close(plain, [cosine(t, 0.1, 20) for t in range(41)], **exact)
assert plain[20] < 1e-15 and plain[21] < 0.001 and abs(plain[40] - 0.1) < 1e-12
# A restart is a jump, and it takes the other scheduler
assert restarts[19] < 0.001 and restarts[20] == 0.1
print(f"step 19, 20, 21: CosineAnnealingLR {plain[19]:.4f} {plain[20]:.4f} {plain[21]:.4f}; "
      f"WarmRestarts {restarts[19]:.4f} {restarts[20]:.4f} {restarts[21]:.4f}")
# --8<-- [end:no_restart]

# --8<-- [start:figure]
import matplotlib.pyplot as plt
import torch
from torch.optim import lr_scheduler

device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")


def rates(make_scheduler, steps=100):
    optimizer = torch.optim.SGD([torch.zeros(1, device=device, requires_grad=True)], lr=0.1, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return out


curves = {
    "StepLR (step_size=30, gamma=0.1)": lambda opt: lr_scheduler.StepLR(opt, 30, gamma=0.1),
    "CosineAnnealingLR (T_max=100)": lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=100),
    "warm-up 10 + cosine 90": lambda opt: lr_scheduler.SequentialLR(opt, [
        lr_scheduler.LinearLR(opt, start_factor=0.01, total_iters=10),
        lr_scheduler.CosineAnnealingLR(opt, T_max=90)], milestones=[10]),
    "OneCycleLR (max_lr=0.1)": lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100),
}
fig, ax = plt.subplots(figsize=(6, 3.5))
for label, make_scheduler in curves.items():
    ax.plot(range(100), rates(make_scheduler), label=label)
ax.set_xlabel("optimizer step")
ax.set_ylabel("learning rate")
ax.legend(fontsize=8)
fig.tight_layout()
# --8<-- [end:figure]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_order]
used, warned = rates_used(scheduler_first=True)  # StepLR halving 0.1 every step, scheduler stepped first
print(f"first step uses {used[0]}, {len(warned)} UserWarning")
assert used[0] == 0.05 and len(warned) == 1  # 0.1, the schedule's first value, is never used
# --8<-- [end:quiz_order]

# --8<-- [start:quiz_cosine]
cosine_rates, _ = torch_rates(lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=20), 31)
print(f"step 10: {cosine_rates[10]:.3f}, step 30: {cosine_rates[30]:.3f}")
torch.testing.assert_close(cosine_rates[30], cosine_rates[10], **exact)  # η_{20+k} = η_{20-k}: no restart
# --8<-- [end:quiz_cosine]

# --8<-- [start:quiz_per_batch]
per_batch, _ = torch_rates(lambda opt: lr_scheduler.StepLR(opt, step_size=30, gamma=0.1), 46)
print(f"step 45 uses {per_batch[45]:.3g}")  # in the 5th epoch, at 10 batches per epoch
torch.testing.assert_close(per_batch[45], 0.1 * 0.1, **exact)  # 30 calls of step() were 3 epochs, not 30
# --8<-- [end:quiz_per_batch]

# --8<-- [start:quiz_adam_first]
first_step = adam_first_step(0.01)  # gradients 1e-4, 1 and 1e4, no warm-up
print(", ".join(f"{move:.3g}" for move in first_step.tolist()))
torch.testing.assert_close(first_step, torch.full((3,), 0.01, device=device), rtol=1e-3, atol=0)
# --8<-- [end:quiz_adam_first]
