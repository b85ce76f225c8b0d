"""RMSProp from scratch, checked against torch.optim.RMSprop."""
# --8<-- [start:setup]
import copy

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]


# --8<-- [start:optimizer]
class RMSProp(torch.optim.Optimizer):
    """RMSProp as torch.optim.RMSprop computes it; eps_inside=True is the variant compared below."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, centered=False, momentum=0.0,
                 eps_inside=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, centered=centered, momentum=momentum,
                        eps_inside=eps_inside)
        super().__init__(params, defaults)

    @torch.no_grad()  # the update itself must not be recorded by autograd
    def step(self):
        for group in self.param_groups:
            lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g, state = p.grad, self.state[p]
                if not state:  # v_0 = 0, and no bias correction later
                    state.update(v=torch.zeros_like(p), g_avg=torch.zeros_like(p), buf=torch.zeros_like(p))
                v = state["v"].mul_(alpha).addcmul_(g, g, value=1 - alpha)  # v_t = α v_{t-1} + (1-α) g_t²
                if group["centered"]:
                    g_avg = state["g_avg"].mul_(alpha).add_(g, alpha=1 - alpha)  # ḡ_t = α ḡ_{t-1} + (1-α) g_t
                    v = v - g_avg * g_avg  # v_t - ḡ_t²: the variance of g instead of its mean square
                if group["eps_inside"]:
                    denominator = (v + eps).sqrt()  # √(v_t + ε): not what PyTorch does
                else:
                    denominator = v.sqrt().add_(eps)  # √v_t + ε: ε outside the root, as in PyTorch
                if mu:
                    buf = state["buf"].mul_(mu).add_(g / denominator)  # b_t = μ b_{t-1} + g_t/(√v_t + ε)
                    p.sub_(lr * buf)  # θ_t = θ_{t-1} - lr b_t
                else:
                    p.addcdiv_(g, denominator, value=-lr)  # θ_t = θ_{t-1} - lr g_t / (√v_t + ε)
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
# Same formula, different float32 rounding (torch may fuse or reorder the ops, or use foreach
# kernels): ~1e-7 per step, which stays well below 1e-5 over 100 steps.
tolerance = dict(rtol=1e-5, atol=1e-5)
for options in [dict(), dict(centered=True), dict(momentum=0.9)]:
    ours = train(lambda ps: RMSProp(ps, lr=1e-3, alpha=0.99, eps=1e-8, **options))
    reference = train(lambda ps: torch.optim.RMSprop(ps, lr=1e-3, alpha=0.99, eps=1e-8, **options))
    torch.testing.assert_close(ours.state_dict(), reference.state_dict(), **tolerance)
    print(f"ours vs torch.optim.RMSprop({options or ''}) after {len(batches)} steps:"
          f" max gap {gap(ours, reference):.1e}")
# --8<-- [end:check]

# --8<-- [start:fast]
class ForeachRMSProp(torch.optim.Optimizer):
    """Plain RMSProp (no centering, no momentum), each operation over the whole parameter list."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            grads = [p.grad for p in params]
            squares = [self.state[p].setdefault("v", torch.zeros_like(p)) for p in params]  # v_0 = 0
            torch._foreach_mul_(squares, group["alpha"])
            torch._foreach_addcmul_(squares, grads, grads, value=1 - group["alpha"])  # v_t = α v + (1-α) g²
            denominators = torch._foreach_sqrt(squares)
            torch._foreach_add_(denominators, group["eps"])  # √v_t + ε
            torch._foreach_addcdiv_(params, grads, denominators, value=-group["lr"])  # θ -= lr g / (√v_t + ε)


fast = train(lambda ps: ForeachRMSProp(ps, lr=1e-3))
reference = train(lambda ps: torch.optim.RMSprop(ps, lr=1e-3))
torch.testing.assert_close(fast.state_dict(), reference.state_dict(), **tolerance)
print(f"foreach version vs torch.optim.RMSprop: {gap(fast, reference):.1e}")
# --8<-- [end:fast]


# --8<-- [start:steps]
def step_sizes(optimizer_class, gradients, **options):
    """Feed a fixed sequence of gradients to an optimizer; return θ_t - θ_{t-1} at every step."""
    p = torch.zeros_like(gradients[0], requires_grad=True)
    opt, before, steps = optimizer_class([p], **options), p.detach().clone(), []
    for g in gradients:
        p.grad = g
        opt.step()
        steps.append(before - p.detach())  # positive when the step goes against a positive gradient
        before = p.detach().clone()
    return torch.stack(steps)


lr, alpha = 1e-3, 0.99
scales = torch.tensor([1e-3, 1.0, 1e3], device=device)  # three parameters, gradients 10⁶ apart
t = torch.arange(1, 501, device=device)
expected = lr / torch.sqrt(1 - alpha**t)  # constant g: v_t = (1-α^t) g², step = lr / √(1-α^t)
for optimizer_class in (RMSProp, torch.optim.RMSprop):
    constant = step_sizes(optimizer_class, [scales] * 500, lr=lr)
    # rtol 1e-3: ε = 1e-8 against √v_1 = 1e-4 for the smallest gradient shifts step 1 by 1e-4
    torch.testing.assert_close(constant, expected[:, None].expand(-1, 3), rtol=1e-3, atol=0.0)
ratios = constant[[0, 9, 99, 499], 1] / lr  # steps 1, 10, 100 and 500, in units of lr
# step 1: g / √(0.01 g²) = 10 lr, ten times the learning rate; then slowly down to lr
formula = torch.tensor([10.0, 3.2339, 1.2559, 1.0033], device=device)  # 1 / √(1 - 0.99^t)
torch.testing.assert_close(ratios, formula, rtol=1e-4, atol=0.0)
assert (constant[:174] > 1.1 * lr).all() and (constant[174:] < 1.1 * lr).all()  # >10% above lr until t = 174
adam_first = step_sizes(torch.optim.Adam, [scales], lr=lr)[0]
torch.testing.assert_close(adam_first, torch.full_like(adam_first, lr), rtol=1e-3, atol=0.0)  # Adam: lr
print("RMSProp step / lr at steps 1, 10, 100, 500:", ", ".join(f"{r:.3f}" for r in ratios))
# --8<-- [end:steps]

# --8<-- [start:volatile]
noise = torch.randn(500, 1, device=device)
steady = step_sizes(RMSProp, [torch.ones(1, device=device)] * 500, lr=lr)  # g = 1 every step
volatile = step_sizes(RMSProp, list(1 + 3 * noise), lr=lr)  # mean 1, standard deviation 3
flips = [torch.ones(1, device=device) * (-1) ** k for k in range(500)]  # size 1, the sign flips every step
flipping = step_sizes(RMSProp, flips, lr=lr)
late = slice(100, None)  # after the warm-up of v
mean_size = {name: s[late].abs().mean() for name, s in [("steady", steady), ("volatile", volatile),
                                                         ("flipping", flipping)]}
progress = {name: s[late].mean() for name, s in [("steady", steady), ("volatile", volatile),
                                                  ("flipping", flipping)]}
assert 1.0 < mean_size["steady"] / lr < 1.1  # about lr (the last of the warm-up)
assert mean_size["volatile"] < 0.9 * mean_size["steady"]  # volatile gradients: smaller steps ...
assert 0.2 < progress["volatile"] / lr < 0.4  # ... and about lr·1/√(1+3²) ≈ 0.3 lr of progress
torch.testing.assert_close(mean_size["flipping"], mean_size["steady"])  # |g| fixed: same size steps
assert progress["flipping"].abs() < 0.01 * progress["steady"]  # which cancel out
adam_flipping = step_sizes(torch.optim.Adam, flips, lr=lr)  # Adam's first moment averages +1 and -1
assert (adam_flipping[late].abs() < 0.1 * lr).all()  # (1-β1)/(1+β1) ≈ 0.05 lr: momentum damps the zig-zag
for name in mean_size:
    print(f"{name:9s} mean |step| / lr {mean_size[name] / lr:.3f},"
          f" mean progress / lr {progress[name] / lr:+.3f}")
print(f"flipping, Adam: mean |step| / lr {adam_flipping[late].abs().mean() / lr:.3f}")
# --8<-- [end:volatile]

# --8<-- [start:eps_tiny]
tiny = 1e-8  # scales every gradient by 1e-8, so √v is comparable to ε = 1e-8
ours_tiny = train(lambda ps: RMSProp(ps, lr=1e-3), loss_scale=tiny)
reference_tiny = train(lambda ps: torch.optim.RMSprop(ps, lr=1e-3), loss_scale=tiny)
inside_tiny = train(lambda ps: RMSProp(ps, lr=1e-3, eps_inside=True), loss_scale=tiny)
torch.testing.assert_close(ours_tiny.state_dict(), reference_tiny.state_dict(), **tolerance)
moved_ref, moved_inside = gap(reference_tiny, start), gap(inside_tiny, start)
assert moved_ref > 1e-3  # PyTorch's RMSprop still trains: √v + ε is of the order of |g|
assert moved_inside < 0.01 * moved_ref  # √(v+ε) ≈ 1e-4 ≫ |g|: the weights barely move
reference = train(lambda ps: torch.optim.RMSprop(ps, lr=1e-3))  # ordinary gradients
inside = train(lambda ps: RMSProp(ps, lr=1e-3, eps_inside=True))
assert gap(inside, reference) < 0.25 * gap(reference, start)  # a nearby trajectory ...
with torch.no_grad():
    loss_inside, loss_reference = F.mse_loss(inside(X), y), F.mse_loss(reference(X), y)
    loss_start = F.mse_loss(start(X), y)
torch.testing.assert_close(loss_inside, loss_reference, rtol=0.01, atol=0.0)  # ... and the same loss to 1%
assert loss_reference < 0.9 * loss_start  # a loss both lowered: 100 steps at lr 1e-3 take off about 20%
print(f"gradients ~1e-8: torch moved weights {moved_ref:.1e}, eps-inside moved {moved_inside:.1e}")
print(f"ordinary gradients: eps-inside vs torch.optim.RMSprop: max gap {gap(inside, reference):.1e},"
      f" training loss {loss_inside:.4f} vs {loss_reference:.4f}")
# --8<-- [end:eps_tiny]

# --8<-- [start:no_momentum]
p = torch.zeros(3, device=device, requires_grad=True)
p.grad = torch.ones(3, device=device)
rmsprop = torch.optim.RMSprop([p])  # the defaults: momentum=0, centered=False
rmsprop.step()
assert set(rmsprop.state[p]) == {"step", "square_avg"}  # only v: no average of the gradients at all
adam = torch.optim.Adam([p])
adam.step()
assert set(adam.state[p]) == {"step", "exp_avg", "exp_avg_sq"}  # Adam: momentum's m and RMSProp's v
print("state kept per parameter: RMSprop", sorted(rmsprop.state[p]), "Adam", sorted(adam.state[p]))
# --8<-- [end:no_momentum]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_first_step]
first_step = step_sizes(torch.optim.RMSprop, [torch.tensor([5.0], device=device)], lr=0.01)[0]
print(f"first step {first_step.item():.4f}")
assert abs(first_step.item() - 10 * 0.01) < 1e-6  # g / √(0.01 g²) = 10, whatever g: ten times lr
# --8<-- [end:quiz_first_step]

# --8<-- [start:quiz_scales]
tiny_and_huge = torch.tensor([1e-3, 1e3], device=device)  # constant gradients, a million times apart
last_steps = step_sizes(RMSProp, [tiny_and_huge] * 500, lr=lr)[-1] / lr
print("step / lr at step 500: " + ", ".join(f"{s:.2f}" for s in last_steps.tolist()))
torch.testing.assert_close(last_steps[0], last_steps[1], rtol=1e-4, atol=0.0)  # the same step for both
assert abs(last_steps[0] - (1 - alpha**500) ** -0.5) < 1e-4  # both lr / √(1 - α^500) ≈ 1.003 lr: v_t = (1 - α^t) g²
# --8<-- [end:quiz_scales]

# --8<-- [start:quiz_flips]
ones200 = [torch.ones(1, device=device)] * 200
flip200 = [torch.ones(1, device=device) * (-1) ** k for k in range(200)]  # the same size, the sign flips
steady_last = step_sizes(RMSProp, ones200, lr=lr)[-1].abs() / lr
flip_steps = step_sizes(RMSProp, flip200, lr=lr)
flip_last = flip_steps[-1].abs() / lr
print(f"|step| / lr at step 200: steady {steady_last.item():.2f}, flipping {flip_last.item():.2f}")
torch.testing.assert_close(flip_last, steady_last)  # g² cannot see the sign: full-size steps
assert (flip_steps[1:] * flip_steps[:-1] < 0).all()  # that flip with the gradient: a zig-zag
# --8<-- [end:quiz_flips]

# --8<-- [start:quiz_state]
w = torch.zeros(2, device=device, requires_grad=True)
w.grad = torch.ones(2, device=device)
optimizer = torch.optim.RMSprop([w])  # the defaults
optimizer.step()
print(f"state per parameter: {sorted(optimizer.state[w])}")
assert "momentum_buffer" not in optimizer.state[w] and "grad_avg" not in optimizer.state[w]  # no average of g
# --8<-- [end:quiz_state]
