"""Adam from scratch, checked against torch.optim.Adam."""
# --8<-- [start:setup]
import copy

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:bias_correction]
beta1, beta2 = 0.9, 0.999
g = torch.tensor(2.0, device=device)  # the same gradient at every step
m = torch.zeros((), device=device)  # m_0 = 0: the average starts at zero, not at g
v = torch.zeros((), device=device)
for t in range(1, 11):
    m = beta1 * m + (1 - beta1) * g  # m_t = β1 m_{t-1} + (1-β1) g_t
    v = beta2 * v + (1 - beta2) * g**2  # v_t = β2 v_{t-1} + (1-β2) g_t²
    if t == 1:  # after one step the raw averages are far too small: m_1 = 0.1 g, v_1 = 0.001 g² ...
        assert 3 < m / v.sqrt() < 3.3  # uncorrected, step 1 would be 3.2 lr instead of lr
    torch.testing.assert_close(m / (1 - beta1**t), g)  # ... m̂_t = m_t / (1-β1^t) = g at every t
    torch.testing.assert_close(v / (1 - beta2**t), g**2)  # v̂_t = v_t / (1-β2^t) = g² at every t
assert 6 < m / v.sqrt() < 7  # uncorrected, step 10 would be 6.5 lr instead of lr
print(f"after 10 steps: m = {m:.4f}, m̂ = {m / (1 - beta1**10):.4f}, g = {g:.4f}")
# --8<-- [end:bias_correction]


# --8<-- [start:optimizer]
def moments(p, g, state, beta1, beta2):
    """Update both moving averages in place; return them bias-corrected."""
    if not state:  # first step for this parameter
        state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
    state["t"] += 1
    t, m, v = state["t"], state["m"], state["v"]
    m.mul_(beta1).add_(g, alpha=1 - beta1)  # m_t = β1 m_{t-1} + (1-β1) g_t
    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v_t = β2 v_{t-1} + (1-β2) g_t²
    return m / (1 - beta1**t), v / (1 - beta2**t)  # m̂_t, v̂_t


def adam_update(p, g, state, lr, betas, eps):
    m_hat, v_hat = moments(p, g, state, *betas)
    p.addcdiv_(m_hat, v_hat.sqrt_().add_(eps), value=-lr)  # θ_t = θ_{t-1} - lr m̂_t / (√v̂_t + ε)


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, update=adam_update):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))
        self.update = update  # the per-tensor rule; swapped below to test variants

    @torch.no_grad()  # the update itself must not be recorded by autograd
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:  # every tensor keeps its own m, v and t
                    lr, betas, eps = group["lr"], group["betas"], group["eps"]
                    self.update(p, p.grad, self.state[p], lr, betas, eps)
# --8<-- [end:optimizer]


# --8<-- [start:data]
X = torch.randn(256, 4, device=device)  # synthetic regression: y = sin(X w) + noise
y = torch.sin(X @ torch.randn(4, 1, device=device)) + 0.1 * torch.randn(256, 1, device=device)
batches = [torch.randint(0, 256, (32,), device=device) for _ in range(100)]  # same for all runs
start = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1)).to(device)


def train(make_optimizer, loss_scale=1.0):
    model = copy.deepcopy(start)  # every run starts from identical weights
    opt = make_optimizer(model.parameters())
    for idx in batches:
        loss = loss_scale * F.mse_loss(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@torch.no_grad()
def gap(a, b):  # largest absolute difference between the parameters of two models
    return max((pa - pb).abs().max() for pa, pb in zip(a.parameters(), b.parameters()))
# --8<-- [end:data]

# --8<-- [start:check]
ours = train(lambda ps: Adam(ps, lr=0.01))
reference = train(lambda ps: torch.optim.Adam(ps, lr=0.01))
# Same math, different float32 rounding (torch uses lerp_ and divides √v by √(1-β2^t)): a few
# ulps (~1e-7) per step drift to ~5e-7 over 100 steps. 1e-5 leaves 20x room, and the wrong
# variants below miss it by orders of magnitude.
tolerance = dict(rtol=1e-5, atol=1e-5)
torch.testing.assert_close(ours.state_dict(), reference.state_dict(), **tolerance)
with torch.no_grad():  # and what both do is train: the loss on all 256 examples falls to a third
    assert F.mse_loss(ours(X), y) < 0.5 * F.mse_loss(start(X), y)
print(f"ours vs torch.optim.Adam after {len(batches)} steps: max gap {gap(ours, reference):.1e}")
# --8<-- [end:check]

# --8<-- [start:fast]
class ForeachAdam(torch.optim.Optimizer):
    """The same Adam, each operation applied to the whole parameter list at once."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            params = [p for p in group["params"] if p.grad is not None]
            grads, states = [p.grad for p in params], [self.state[p] for p in params]
            for p, state in zip(params, states):
                if not state:
                    state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["t"] += 1
            ms, vs, ts = [s["m"] for s in states], [s["v"] for s in states], [s["t"] for s in states]
            torch._foreach_mul_(ms, beta1)
            torch._foreach_add_(ms, grads, alpha=1 - beta1)  # m_t = β1 m_{t-1} + (1-β1) g_t
            torch._foreach_mul_(vs, beta2)
            torch._foreach_addcmul_(vs, grads, grads, value=1 - beta2)  # v_t = β2 v_{t-1} + (1-β2) g_t²
            denominators = torch._foreach_sqrt(vs)
            torch._foreach_div_(denominators, [(1 - beta2**t) ** 0.5 for t in ts])  # √v̂_t = √v_t / √(1-β2^t)
            torch._foreach_add_(denominators, eps)
            # θ_t = θ_{t-1} - lr m̂_t / (√v̂_t + ε), with m̂_t = m_t / (1-β1^t) folded into the step size
            torch._foreach_addcdiv_(params, ms, denominators, [-lr / (1 - beta1**t) for t in ts])


fast = train(lambda ps: ForeachAdam(ps, lr=0.01))
torch.testing.assert_close(fast.state_dict(), reference.state_dict(), **tolerance)
torch.testing.assert_close(fast.state_dict(), ours.state_dict(), **tolerance)
print(f"foreach version vs torch.optim.Adam: max gap {gap(fast, reference):.1e}")
# --8<-- [end:fast]


# --8<-- [start:eps_tiny]
def eps_inside_update(p, g, state, lr, betas, eps):
    m_hat, v_hat = moments(p, g, state, *betas)
    p.sub_(lr * m_hat / (v_hat + eps).sqrt())  # θ_t = θ_{t-1} - lr m̂_t / √(v̂_t + ε): wrong


tiny = 1e-8  # scales every gradient to ~1e-8, so √v̂ is comparable to ε
ours_tiny = train(lambda ps: Adam(ps, lr=0.01), loss_scale=tiny)
inside_tiny = train(lambda ps: Adam(ps, lr=0.01, update=eps_inside_update), loss_scale=tiny)
reference_tiny = train(lambda ps: torch.optim.Adam(ps, lr=0.01), loss_scale=tiny)
torch.testing.assert_close(ours_tiny.state_dict(), reference_tiny.state_dict(), **tolerance)
moved_ref, moved_inside = gap(reference_tiny, start), gap(inside_tiny, start)
assert moved_inside < 0.01 * moved_ref  # √(v̂+ε) ≈ 1e-4 ≫ |g|: the weights barely move
inside = train(lambda ps: Adam(ps, lr=0.01, update=eps_inside_update))  # ordinary gradients
assert gap(inside, reference) < 0.05 * gap(reference, start)  # nearly the same trajectory
print(f"gradients ~1e-8: torch moved weights {moved_ref:.1e}, eps-inside moved {moved_inside:.1e}")
print(f"ordinary gradients: eps-inside vs torch.optim.Adam: max gap {gap(inside, reference):.1e}")
# --8<-- [end:eps_tiny]


# --8<-- [start:eps_zero]
def step_on_zero_gradient(optimizer_class, eps):
    p = torch.ones(3, device=device, requires_grad=True)
    p.grad = torch.zeros(3, device=device)  # e.g. a unit that got no signal from this batch
    optimizer_class([p], eps=eps).step()
    return p.detach()


for optimizer_class in (Adam, torch.optim.Adam):
    assert step_on_zero_gradient(optimizer_class, eps=0.0).isnan().all()  # 0 / (√0 + 0) = 0/0
    unmoved = step_on_zero_gradient(optimizer_class, eps=1e-8)  # 0 / (√0 + ε) = 0
    torch.testing.assert_close(unmoved, torch.ones(3, device=device))
# --8<-- [end:eps_zero]


# --8<-- [start:notes_reading]
def notes_update(p, g, state, lr, betas, eps):
    """The notes read literally: divide by the square root of the previous squared gradient."""
    m_hat, _ = moments(p, g, state, *betas)
    previous = state.get("previous", g)  # no previous gradient at t = 1: use this one
    p.sub_(lr * m_hat / ((previous * previous).sqrt() + eps))  # lr m̂_t / (√(g_{t-1}²) + ε)
    state["previous"] = g.clone()  # p.grad may be overwritten in place next step


def one_step(make_optimizer, g):
    p = torch.zeros_like(g, requires_grad=True)
    p.grad = g
    make_optimizer([p]).step()
    return p.detach()


# Step 1 agrees for any g_1: the previous gradient is g_1 itself, and m̂_1 = g_1, √v̂_1 = |g_1|, so both
# step lr·g_1/(|g_1| + ε) ≈ lr·sign(g_1). Same math rounded two ways: the tolerance of the runs above.
g_1 = torch.randn(5, device=device)
torch.testing.assert_close(one_step(lambda ps: Adam(ps, lr=0.01, update=notes_update), g_1),
                           one_step(lambda ps: torch.optim.Adam(ps, lr=0.01), g_1), **tolerance)
notes = train(lambda ps: Adam(ps, lr=0.01, update=notes_update))
assert gap(notes, reference) > 1.0  # not a rounding gap: it blows up (ours passed at 1e-5)
print(f"notes' reading vs torch.optim.Adam: max gap {gap(notes, reference):.1e}")
# --8<-- [end:notes_reading]


# --8<-- [start:step_size]
def steps(optimizer_class, gradients, lr=1e-3, **options):
    """Feed a fixed sequence of gradients to an optimizer; return θ_{t-1} - θ_t at every step."""
    p = torch.zeros_like(gradients[0], requires_grad=True)
    opt, before, out = optimizer_class([p], lr=lr, **options), p.detach().clone(), []
    for g in gradients:
        p.grad = g
        opt.step()
        out.append(before - p.detach())  # positive when the step goes against a positive gradient
        before = p.detach().clone()
    return torch.stack(out)


lr = 1e-3
scales = torch.tensor([1e-3, 1.0, 1e3], device=device)  # three parameters, gradients 10⁶ apart
for optimizer_class in (Adam, torch.optim.Adam):
    constant = steps(optimizer_class, [scales] * 50, lr=lr)
    # rtol 1e-4: ε = 1e-8 against √v̂ = 1e-3 for the smallest gradient moves the step by 1e-5
    torch.testing.assert_close(constant, torch.full_like(constant, lr), rtol=1e-4, atol=0.0)  # ≈ lr
print("gradients                   ", ", ".join(f"{s:.0e}" for s in scales))
print("steps with torch.optim.Adam ", ", ".join(f"{s:.2e}" for s in constant[-1]))
# --8<-- [end:step_size]

# --8<-- [start:flipping]
flipping = [scales * (-1) ** t for t in range(200)]  # the same sizes, the sign flips at every step
rmsprop = steps(torch.optim.RMSprop, flipping, lr=lr)  # only the division by √v: no average of g
rmsprop_steady = steps(torch.optim.RMSprop, [scales] * 200, lr=lr)
# v sees only g², the same for ±g, so the sizes are those of the steady gradient; rtol 1e-4 covers
# the float32 rounding of θ_{t-1} - θ_t (θ up to 0.3 here, steps of 1e-3: ~1e-5 relative)
torch.testing.assert_close(rmsprop.abs(), rmsprop_steady, rtol=1e-4, atol=0.0)
assert (rmsprop[1:] * rmsprop[:-1] < 0).all()  # full-size steps that flip with the gradient: a zig-zag
no_m = steps(torch.optim.Adam, flipping, lr=lr, betas=(0.0, 0.999))  # Adam without its first moment
torch.testing.assert_close(no_m.abs(), torch.full_like(no_m, lr), rtol=1e-4, atol=0.0)  # still lr
adam = steps(torch.optim.Adam, flipping, lr=lr)  # β1 = 0.9: m averages +g and -g
# m settles at ±(1-β1)/(1+β1) g; after 100 steps the start has faded (β1^100 ≈ 3e-5), hence rtol 1e-3
damped = torch.full_like(adam[100:], (1 - 0.9) / (1 + 0.9) * lr)
torch.testing.assert_close(adam[100:].abs(), damped, rtol=1e-3, atol=0.0)  # about 0.053 lr
print(f"sign flipping, |step| / lr at step {len(flipping)}: RMSprop {rmsprop[-1, 1].abs() / lr:.3f},"
      f" Adam(betas=(0, 0.999)) {no_m[-1, 1].abs() / lr:.3f}, Adam {adam[-1, 1].abs() / lr:.3f}")
# --8<-- [end:flipping]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_scale]
two_sizes = torch.tensor([1e-2, 1e2], device=device)  # constant gradients, ten thousand times apart
last = steps(torch.optim.Adam, [two_sizes] * 20, lr=0.01)[-1]
print("step at step 20: " + ", ".join(f"{s:.1e}" for s in last.tolist()))
torch.testing.assert_close(last, torch.full_like(last, 0.01), rtol=1e-4, atol=0.0)  # both about lr
# --8<-- [end:quiz_scale]

# --8<-- [start:quiz_first_step]
g1, lr1 = torch.tensor([5.0], device=device), 0.1
first = steps(torch.optim.Adam, [g1], lr=lr1)[0]  # bias-corrected: lr · g / |g|
m1, v1 = (1 - 0.9) * g1, (1 - 0.999) * g1**2  # the raw averages after one step
uncorrected = lr1 * m1 / v1.sqrt()  # the same step without bias correction
print(f"corrected {first.item():.4f}, uncorrected {uncorrected.item():.4f}")
assert abs(first.item() - lr1) < 1e-6 and 3 * lr1 < uncorrected < 3.3 * lr1  # 0.1/√0.001 ≈ 3.16
# --8<-- [end:quiz_first_step]

# --8<-- [start:quiz_flipping]
sign_flips = [torch.tensor([1.0], device=device) * (-1) ** t for t in range(200)]
size_rmsprop = steps(torch.optim.RMSprop, sign_flips, lr=lr)[-1].abs() / lr  # the division only
size_adam = steps(torch.optim.Adam, sign_flips, lr=lr)[-1].abs() / lr  # the division and momentum
print(f"|step| / lr at step 200: RMSprop {size_rmsprop.item():.2f}, Adam {size_adam.item():.2f}")
assert size_rmsprop > 1 and size_adam < 0.06  # only the average of the gradients damps the zig-zag
# exactly: RMSprop's v_t = 1 - 0.99^t (g² = 1); Adam's v̂_t = 1 and, at every even t, |m̂_t| = (1 - β1) / (1 + β1)
torch.testing.assert_close(torch.cat([size_rmsprop, size_adam]),
                           torch.tensor([(1 - 0.99**200) ** -0.5, 0.1 / 1.9], device=device), rtol=1e-4, atol=0.0)
# --8<-- [end:quiz_flipping]

# --8<-- [start:quiz_eps_zero]
after = step_on_zero_gradient(torch.optim.Adam, eps=0.0)  # a weight of 1 whose gradient is exactly 0
print(f"weights after one step with eps=0: {after.tolist()}")
assert after.isnan().all()  # m̂ / (√v̂ + ε) = 0 / 0
# --8<-- [end:quiz_eps_zero]
