"""AdaGrad from scratch, checked against torch.optim.Adagrad."""
# --8<-- [start:setup]
import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]


# --8<-- [start:optimizer]
class AdaGrad(torch.optim.Optimizer):
    """AdaGrad as torch.optim.Adagrad computes it, for dense gradients."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, defaults)

    @torch.no_grad()  # the update itself must not be recorded by autograd
    def step(self):
        for group in self.param_groups:
            lr, lr_decay, weight_decay, eps = group["lr"], group["lr_decay"], group["weight_decay"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:  # G_0: zeros, or initial_accumulator_value in every entry
                    state.update(step=0, sum=torch.full_like(p, group["initial_accumulator_value"]))
                state["step"] += 1
                t, g = state["step"], p.grad
                if weight_decay:
                    g = g.add(p, alpha=weight_decay)  # g_t + λ θ_{t-1}: L2, so it enters G_t too
                lr_t = lr / (1 + (t - 1) * lr_decay)  # η_t = η / (1 + (t-1) d): exactly η at t = 1
                G = state["sum"].addcmul_(g, g)  # G_t = G_{t-1} + g_t²: a running sum, it never shrinks
                p.addcdiv_(g, G.sqrt().add_(eps), value=-lr_t)  # θ_t = θ_{t-1} - η_t g_t / (√G_t + ε)
# --8<-- [end:optimizer]


# --8<-- [start:data]
X = torch.randn(256, 4, device=device)  # synthetic regression: y = sin(X w) + noise
y = torch.sin(X @ torch.randn(4, 1, device=device)) + 0.1 * torch.randn(256, 1, device=device)
batches = [torch.randint(0, 256, (32,), device=device) for _ in range(200)]  # same for all runs
start = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1)).to(device)


def train(make_optimizer):
    model = copy.deepcopy(start)  # every run starts from identical weights
    opt = make_optimizer(model.parameters())
    for idx in batches:
        loss = F.mse_loss(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@torch.no_grad()
def gap(a, b):  # largest absolute difference between the parameters of two models
    return max((pa - pb).abs().max() for pa, pb in zip(a.parameters(), b.parameters()))
# --8<-- [end:data]

# --8<-- [start:check]
# Same formula, different float32 rounding (torch may fuse or reorder the ops, or use foreach
# kernels): ~1e-7 per step. The steps shrink like 1/√t, so late rounding moves the weights less
# still, and the gap stays far below 1e-5 over 200 steps.
tolerance = dict(rtol=1e-5, atol=1e-5)
for options in [dict(), dict(lr_decay=0.01), dict(weight_decay=0.01), dict(initial_accumulator_value=0.1),
                dict(lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)]:
    ours = train(lambda ps: AdaGrad(ps, lr=0.05, **options))
    reference = train(lambda ps: torch.optim.Adagrad(ps, lr=0.05, **options))
    torch.testing.assert_close(ours.state_dict(), reference.state_dict(), **tolerance)
    assert gap(ours, reference) < tolerance["atol"]  # the max gap printed below: far below 1e-5, as argued
    if not options:
        default = reference  # plain AdaGrad, to measure what each option changes
    else:  # each option moves the weights by 1000 times the tolerance or more: ignoring it would fail
        assert gap(reference, default) > 1000 * tolerance["atol"]
    effect = f", effect of the option {gap(reference, default):.1e}" if options else ""
    print(f"ours vs torch.optim.Adagrad({options or ''}) after {len(batches)} steps:"
          f" max gap {gap(ours, reference):.1e}{effect}")
# --8<-- [end:check]


# --8<-- [start:steps]
def step_sizes(optimizer_class, gradients, **options):
    """Feed a fixed sequence of gradients to an optimizer; return θ_{t-1} - θ_t at every step."""
    p = torch.zeros_like(gradients[0], requires_grad=True)
    opt, before, steps = optimizer_class([p], **options), p.detach().clone(), []
    for g in gradients:
        p.grad = g
        opt.step()
        steps.append(before - p.detach())  # positive when the step goes against a positive gradient
        before = p.detach().clone()
    return torch.stack(steps)


lr, T = 0.1, 500
scales = torch.tensor([1e-3, 1.0, 1e3], device=device)  # three parameters, gradients 10⁶ apart
t = torch.arange(1, T + 1, device=device)
for optimizer_class in (AdaGrad, torch.optim.Adagrad):
    constant = step_sizes(optimizer_class, [scales] * T, lr=lr)
    # constant g: G_t = t g², step = lr |g| / (√t |g| + ε) = lr / √t whatever the scale of g.
    # rtol 1e-4: G_t is a float32 sum of t equal terms (relative rounding up to ~t·6e-8 ≈ 3e-5, halved by √)
    torch.testing.assert_close(constant, (lr / t.sqrt())[:, None].expand(-1, 3), rtol=1e-4, atol=0.0)
ratios = constant[[0, 3, 99, 399], 1] / lr  # steps 1, 4, 100 and 400, in units of lr
torch.testing.assert_close(ratios, torch.tensor([1.0, 0.5, 0.1, 0.05], device=device), rtol=1e-4, atol=0.0)
distance = constant[:, 1].sum() / lr  # Σ 1/√t lies between 2√(T+1) - 2 and 2√T - 1: it grows like √T, not T
assert 2 * math.sqrt(T + 1) - 2 < distance < 2 * math.sqrt(T) - 1
rmsprop = step_sizes(torch.optim.RMSprop, [scales] * T, lr=lr)  # a moving average of g² instead of a sum
assert (rmsprop[-100:] > 0.99 * lr).all()  # RMSProp's steps settle at about lr and stay there ...
assert rmsprop[:, 1].sum() / lr > 10 * distance  # ... and cover more than ten times the distance
print("AdaGrad step / lr at steps 1, 4, 100, 400:", ", ".join(f"{r:.3f}" for r in ratios))
print(f"distance in {T} steps: AdaGrad {distance:.1f} lr, RMSProp {rmsprop[:, 1].sum() / lr:.1f} lr")
# --8<-- [end:steps]

# --8<-- [start:eps]
g = torch.tensor([1e-8, 1e-3, 1.0, 1e3], device=device)  # one first gradient, four scales
p = torch.zeros(4, device=device, requires_grad=True)
p.grad = g
torch.optim.Adagrad([p], lr=lr).step()  # eps = 1e-10 by default
first = -p.detach()
# G_1 = g², so the first step is lr · g / (|g| + ε): ε added after the root, as in our class
torch.testing.assert_close(first, lr * g / (g.abs() + 1e-10), rtol=1e-6, atol=0.0)
torch.testing.assert_close(step_sizes(AdaGrad, [g], lr=lr)[0], first, rtol=1e-6, atol=0.0)  # ours too: ε/g = 1% here
assert (first[1:] > 0.99999 * lr).all() and first[0] > 0.98 * lr  # about lr, even for g = 1e-8
inside = lr * g / (g * g + 1e-10).sqrt()  # √(G + ε): a floor of √ε = 1e-5 on the root instead of 1e-10
assert abs(inside[0] / lr - 1e-3) < 1e-6  # 1e-8 / √1e-10 = 1e-3: the tiny gradient would barely move
print(f"first step / lr for g = 1e-8: torch {first[0] / lr:.3f}, eps inside the root {inside[0] / lr:.4f}")
# --8<-- [end:eps]

# --8<-- [start:shrink]
big, small = torch.full((1,), 10.0, device=device), torch.full((1,), 0.1, device=device)
gradients = [big] * 100 + [small] * 1400  # large gradients, then 100 times smaller ones for good
p = torch.zeros(1, device=device, requires_grad=True)
adagrad = torch.optim.Adagrad([p], lr=lr)
effective = []  # lr / (√G_t + ε), read from torch's own state after every step
for g in gradients:
    p.grad = g
    adagrad.step()
    effective.append(lr / (adagrad.state[p]["sum"].sqrt() + 1e-10))
effective = torch.cat(effective)
assert (effective.diff() <= 0).all()  # it never goes up, not even when the gradients shrink 100-fold
torch.testing.assert_close(effective[[0, 99]], torch.tensor([lr / 10, lr / 100], device=device))  # g = 10: lr / √(10² t)
ada = step_sizes(torch.optim.Adagrad, gradients, lr=lr)[:, 0] / lr
rms = step_sizes(torch.optim.RMSprop, gradients, lr=lr)[:, 0] / lr
assert ada[-1] < 0.002  # 0.1 / √(100·10² + 1400·0.1²) ≈ 0.001: AdaGrad has all but stopped
assert rms[-1] > 0.95  # RMSProp forgot the large gradients: back to about lr
assert 1.3 < ada[100:].sum() < 1.5  # 1400 steps of about 0.001 lr: 1.4 lr in all
assert ada[100:].sum() < 0.01 * rms[100:].sum()  # under 1% of RMSProp's distance after the switch
# RMSProp also drops at the switch (v still holds the large gradients), then recovers as α^k wipes them out:
# v ≈ 63·0.99^k + 0.01 after k small steps, below 0.0124 (a step of 0.9 lr) from k ≈ 1015 on
assert (rms[100:1100] < 0.9).all() and (rms[1200:] > 0.9).all()
print(f"after the switch, step / lr at step 1500: AdaGrad {ada[-1]:.4f}, RMSProp {rms[-1]:.3f};"
      f" distance {ada[100:].sum():.2f} lr against {rms[100:].sum():.0f} lr")
# --8<-- [end:shrink]

# --8<-- [start:figure]
import matplotlib.pyplot as plt
import torch

device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
gradients = [torch.full((1,), 10.0, device=device)] * 100 + [torch.full((1,), 0.1, device=device)] * 1400


def steps_over_lr(optimizer_class, lr=0.1):
    p = torch.zeros(1, device=device, requires_grad=True)
    opt, out = optimizer_class([p], lr=lr), []
    for g in gradients:
        before = p.detach().clone()
        p.grad = g
        opt.step()
        out.append((before - p.detach()) / lr)
    return torch.cat(out).cpu()


fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(range(1, 1501), steps_over_lr(torch.optim.Adagrad), label="AdaGrad (sum of g²)")
ax.semilogy(range(1, 1501), steps_over_lr(torch.optim.RMSprop), label="RMSProp (moving average, α = 0.99)")
ax.axvline(100, color="gray", linestyle=":", linewidth=1)
ax.text(110, 3, "gradient drops from 10 to 0.1", color="gray")
ax.set_xlabel("step")
ax.set_ylabel("step size / lr")
ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
# --8<-- [end:figure]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_hundredth]
steady = step_sizes(AdaGrad, [torch.ones(1, device=device)] * 100, lr=0.1)
ratio = steady[99, 0] / steady[0, 0]  # step 100 over step 1
print(f"{ratio:.3g}")
torch.testing.assert_close(ratio, torch.tensor(0.1, device=device), rtol=1e-4, atol=0.0)  # 1/√100
# --8<-- [end:quiz_hundredth]

# --8<-- [start:quiz_first]
first = step_sizes(torch.optim.Adagrad, [torch.tensor([1e-3, 1e3], device=device)], lr=0.1)[0]
print(", ".join(f"{s:.3g}" for s in first))
torch.testing.assert_close(first, torch.full_like(first, 0.1), rtol=1e-6, atol=0.0)  # lr · sign(g)
# --8<-- [end:quiz_first]

# --8<-- [start:quiz_shrink]
print(f"AdaGrad {ada[-1]:.2g} lr, RMSProp {rms[-1]:.2g} lr")
assert ada[-1] < 0.002 < 0.95 < rms[-1]  # AdaGrad stays stopped; RMSProp recovers
# --8<-- [end:quiz_shrink]

# --8<-- [start:quiz_rare]
usual = torch.tensor([1.0, 0.0], device=device)  # the second weight's feature is absent ...
both = torch.tensor([1.0, 1.0], device=device)  # ... except at every 16th step
p = torch.zeros(2, device=device, requires_grad=True)
opt = torch.optim.Adagrad([p], lr=0.1)
for k in range(1600):
    p.grad = both if k % 16 == 0 else usual
    opt.step()
G = opt.state[p]["sum"]  # 1600 and 100
print(f"{(G[0] / G[1]).sqrt():.2f}")  # effective lr of the rare weight / that of the frequent one
assert torch.equal(G, torch.tensor([1600.0, 100.0], device=device))
# --8<-- [end:quiz_rare]
