"""Momentum from scratch: the notes' EWMA form and PyTorch's heavy ball, checked against torch.optim.SGD."""
# --8<-- [start:setup]
import copy

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:ewma]
beta, t = 0.9, 30
grads = torch.randn(t, device=device)  # g_1 ... g_t, one scalar gradient per step
u = torch.zeros((), device=device)  # u_0 = 0
for g in grads:
    u = beta * u + (1 - beta) * g  # the notes: update = 0.9 * previous update + 0.1 * gradient
k = torch.arange(1, t + 1, device=device)
weights = (1 - beta) * beta ** (t - k)  # weight of g_k in u_t: (1-β) β^(t-k)
torch.testing.assert_close(u, (weights * grads).sum())  # unrolled: a weighted sum of past gradients
torch.testing.assert_close(weights.sum(), torch.tensor(1 - beta**t, device=device))  # sums to 1-β^t
print(f"u_{t} weights: newest {weights[-1]:.3f}, oldest {weights[0]:.5f}, sum {weights.sum():.4f}")
# --8<-- [end:ewma]

# --8<-- [start:steady_state]
g = torch.tensor(2.0, device=device)  # a gradient that never changes
ewma = torch.zeros((), device=device)
heavy = torch.zeros((), device=device)
for _ in range(200):
    ewma = beta * ewma + (1 - beta) * g  # u_t = β u_{t-1} + (1-β) g  (the notes)
    heavy = beta * heavy + g  # v_t = μ v_{t-1} + g  (torch.optim.SGD, momentum=μ)
torch.testing.assert_close(ewma, g)  # the step is lr·g, like plain gradient descent
torch.testing.assert_close(heavy, g / (1 - beta))  # the step is lr·g/(1-μ) = 10 lr·g
torch.testing.assert_close(heavy, 10 * ewma)
print(f"constant gradient {g:.1f}: EWMA buffer {ewma:.4f}, heavy-ball buffer {heavy:.4f}")
# --8<-- [end:steady_state]


# --8<-- [start:optimizer]
class Momentum(torch.optim.Optimizer):
    """SGD with momentum; v_start="gradient" is PyTorch's v_1 = g_1, v_start="zero" the textbook v_0 = 0."""

    def __init__(self, params, lr, momentum=0.9, dampening=0.0, nesterov=False, v_start="gradient"):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov))
        self.v_start = v_start

    @torch.no_grad()  # changing the weights is not part of the graph
    def step(self):
        for group in self.param_groups:
            lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g, state = p.grad, self.state[p]
                if "v" not in state and self.v_start == "gradient":
                    state["v"] = g.clone()  # PyTorch: v_1 = g_1, no dampening on the first step
                elif "v" not in state:
                    state["v"] = (1 - tau) * g  # textbook: v_1 = μ·0 + (1-τ) g_1
                else:
                    state["v"].mul_(mu).add_(g, alpha=1 - tau)  # v_t = μ v_{t-1} + (1-τ) g_t
                v = state["v"]
                step = g + mu * v if group["nesterov"] else v  # Nesterov: look ahead along v
                p.add_(step, alpha=-lr)  # θ_t = θ_{t-1} - lr · step, in place
# --8<-- [end:optimizer]


# --8<-- [start:data]
X = torch.randn(256, 4, device=device)  # synthetic regression: y = sin(X w) + noise
y = torch.sin(X @ torch.randn(4, 1, device=device)) + 0.1 * torch.randn(256, 1, device=device)
batches = [torch.randint(0, 256, (32,), device=device) for _ in range(100)]  # same for all runs
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
# Same arithmetic, possibly another order (torch may use foreach kernels): float32 rounding
# of ~1e-7 per step stays far below 1e-5 over 100 steps, while the variants told apart below
# differ by 1e-2 or more.
tolerance = dict(rtol=1e-5, atol=1e-5)
lr = 0.05
heavy_ball = train(lambda ps: Momentum(ps, lr=lr, momentum=0.9))
torch_heavy_ball = train(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.9))
torch.testing.assert_close(heavy_ball.state_dict(), torch_heavy_ball.state_dict(), **tolerance)

dampened = train(lambda ps: Momentum(ps, lr=lr, momentum=0.9, dampening=0.9))
torch_dampened = train(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.9, dampening=0.9))
torch.testing.assert_close(dampened.state_dict(), torch_dampened.state_dict(), **tolerance)

nesterov = train(lambda ps: Momentum(ps, lr=lr, momentum=0.9, nesterov=True))
torch_nesterov = train(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.9, nesterov=True))
torch.testing.assert_close(nesterov.state_dict(), torch_nesterov.state_dict(), **tolerance)
try:  # PyTorch's Nesterov form takes no dampening
    torch.optim.SGD(start.parameters(), lr=lr, momentum=0.9, dampening=0.9, nesterov=True)
except ValueError as error:
    assert "dampening" in str(error)  # the setting it refuses
else:
    raise AssertionError("SGD accepted nesterov=True with dampening")
print(f"ours vs torch.optim.SGD over {len(batches)} steps:"
      f" heavy ball {gap(heavy_ball, torch_heavy_ball):.1e}, dampening=0.9 {gap(dampened, torch_dampened):.1e},"
      f" Nesterov {gap(nesterov, torch_nesterov):.1e}")
# --8<-- [end:check]

# --8<-- [start:fast]
class ForeachMomentum(torch.optim.Optimizer):
    """The same heavy-ball update, each operation applied to the whole parameter list at once."""

    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            going = [p for p in params if "v" in self.state[p]]  # decided before the new buffers exist
            for p in params:
                if "v" not in self.state[p]:
                    self.state[p]["v"] = p.grad.clone()  # v_1 = g_1
            if going:
                buffers = [self.state[p]["v"] for p in going]
                torch._foreach_mul_(buffers, group["momentum"])
                torch._foreach_add_(buffers, [p.grad for p in going])  # v_t = μ v_{t-1} + g_t
            torch._foreach_add_(params, [self.state[p]["v"] for p in params], alpha=-group["lr"])  # θ -= lr v_t


fast = train(lambda ps: ForeachMomentum(ps, lr=lr, momentum=0.9))
torch.testing.assert_close(fast.state_dict(), torch_heavy_ball.state_dict(), **tolerance)
torch.testing.assert_close(fast.state_dict(), heavy_ball.state_dict(), **tolerance)
print(f"foreach version vs torch.optim.SGD: {gap(fast, torch_heavy_ball):.1e}")
# --8<-- [end:fast]

# --8<-- [start:first_step]
def torch_buffers(gradients, **sgd_options):
    """Feed a fixed sequence of gradients to torch.optim.SGD; return its buffer v_t after each step."""
    p = torch.zeros(1, device=device, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, **sgd_options)
    buffers = []
    for g in gradients:
        p.grad = g.reshape(1)
        opt.step()
        buffers.append(opt.state[p]["momentum_buffer"].clone())
    return torch.cat(buffers)


constant = torch.full((5,), 2.0, device=device)  # g_t = 2 at every step
t = torch.arange(1, 6, device=device)
dampened_buffers = torch_buffers(constant, momentum=0.9, dampening=0.9)
torch.testing.assert_close(dampened_buffers, constant)  # v_t = g from t = 1: no warm-up
torch.testing.assert_close(torch_buffers(constant, momentum=0.9), 2.0 * (1 - 0.9**t) / 0.1)  # 2, 3.8, 5.42, ...
ewma_from_zero = 2.0 * (1 - 0.9**t)  # the notes' u_t with u_0 = 0: 0.2, 0.38, 0.542, ...
u, notes_u = torch.zeros((), device=device), []
for g_t in constant:  # the notes' rule itself, step by step from u_0 = 0
    u = 0.9 * u + 0.1 * g_t
    notes_u.append(u)
torch.testing.assert_close(torch.stack(notes_u), ewma_from_zero)  # the closed form g (1 - β^t)
warm_up = 1 + int((1 - 0.9 ** torch.arange(1, 100, device=device) >= 0.9).nonzero()[0])
assert warm_up == 22  # steps until the EWMA from zero is within 10% of a constant gradient
print("torch, dampening=0.9:", ", ".join(f"{b:.3f}" for b in dampened_buffers))
print("notes, u_0 = 0:      ", ", ".join(f"{b:.3f}" for b in ewma_from_zero))
# --8<-- [end:first_step]

# --8<-- [start:notes_form]
notes = train(lambda ps: Momentum(ps, lr=lr, momentum=0.9, dampening=0.9, v_start="zero"))  # u_0 = 0
torch_tenth = train(lambda ps: torch.optim.SGD(ps, lr=lr / 10, momentum=0.9))  # u_t = v_t / 10 exactly
torch.testing.assert_close(notes.state_dict(), torch_tenth.state_dict(), **tolerance)
assert gap(notes, torch_dampened) > 5e-3  # the first step differs (0.1 g_1 vs g_1), and it shows:
assert gap(notes, torch_dampened) > 100 * gap(notes, torch_tenth)  # far above the rounding gap of equal math
assert gap(notes, torch_heavy_ball) > 1e-1  # same lr, ten times the step: another run entirely
print(f"notes' form vs SGD(lr/10, momentum=0.9): {gap(notes, torch_tenth):.1e};"
      f" vs SGD(lr, dampening=0.9): {gap(notes, torch_dampened):.1e}")
# --8<-- [end:notes_form]

# --8<-- [start:lr_inside]
def steps_lr_inside(lrs, g=1.0, mu=0.9):
    """Sutskever et al.'s form, also Keras's: v_t = μ v_{t-1} + lr_t g_t, θ_t = θ_{t-1} - v_t. Returns the steps."""
    v, steps = torch.zeros((), device=device), []
    for lr_t in lrs:
        v = mu * v + lr_t * g  # the rate enters with each new gradient ...
        steps.append(v)  # ... and the step is the velocity itself
    return torch.stack(steps)


def steps_torch(lrs, g=1.0, mu=0.9):
    """torch.optim.SGD with its lr changed between steps, as a scheduler does. Returns θ_{t-1} - θ_t."""
    p = torch.zeros(1, device=device, requires_grad=True)
    opt, before, steps = torch.optim.SGD([p], lr=lrs[0], momentum=mu), p.detach().clone(), []
    for lr_t in lrs:
        opt.param_groups[0]["lr"] = lr_t
        p.grad = torch.full_like(p, g)
        opt.step()  # θ_t = θ_{t-1} - lr_t v_t: the rate multiplies the whole velocity
        steps.append(before - p.detach())
        before = p.detach().clone()
    return torch.cat(steps)


schedule = [0.1] * 50 + [0.01] * 10  # the rate drops tenfold after 50 steps
inside, outside = steps_lr_inside(schedule), steps_torch(schedule)
# θ reaches ~45, where float32 numbers are 4e-6 apart: the measured steps (~1) carry that rounding
torch.testing.assert_close(outside[:50], inside[:50], rtol=1e-4, atol=0.0)  # constant rate: the same steps
assert 0.09 < outside[50] / outside[49] < 0.11  # PyTorch: the whole velocity at the new rate, 10x smaller at once
assert 0.9 < inside[50] / inside[49] < 0.92  # rate inside: the old velocity decays by μ per step
assert 3.5 < inside[-1] / (0.01 / (1 - 0.9)) < 4.5  # ten steps on: ~4x the new steady step lr·g/(1-μ)
print(f"step 50 → 51 after the drop: torch.optim.SGD {outside[49]:.3f} → {outside[50]:.3f},"
      f" rate inside the velocity {inside[49]:.3f} → {inside[50]:.3f} (→ {inside[-1]:.3f} at step 60)")
# --8<-- [end:lr_inside]


# --8<-- [start:quadratic]
L = 100.0  # largest curvature
curvature = torch.tensor([1.0, L], device=device)  # f(θ) = ½ Σ h_i θ_i²: condition number 100


def steps_to_converge(lr, momentum, tol=1e-6, max_steps=1500):
    """Run on the quadratic; return how many steps until |θ| stays below tol."""
    theta = torch.ones(2, device=device, requires_grad=True)
    opt = Momentum([theta], lr=lr, momentum=momentum)
    distance = torch.empty(max_steps, device=device)
    for t in range(max_steps):
        theta.grad = curvature * theta.detach()  # ∇f(θ) = h ⊙ θ, no autograd needed
        opt.step()
        distance[t] = theta.detach().norm()  # stays on the device: no sync per step
    above = (~(distance < tol)).nonzero()  # NaN counts as above: a diverged run never converges
    return 0 if len(above) == 0 else int(above[-1]) + 1


plain = steps_to_converge(1 / L, momentum=0.0)  # lr = 1/L: the steep direction allows at most 2/L
heavy = steps_to_converge(1 / L, momentum=0.9)
assert 1300 < plain < 1450 and 240 < heavy < 290  # contraction 0.99 vs √0.9 ≈ 0.95 per step
assert steps_to_converge(2.1 / L, momentum=0.0, max_steps=300) == 300  # above 2/L plain GD diverges
print(f"steps to |θ| < 1e-6: plain gradient descent {plain}, momentum 0.9 {heavy}")
# --8<-- [end:quadratic]

# --8<-- [start:figure]
import matplotlib.pyplot as plt
import torch

device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
h = torch.tensor([1.0, 100.0], device=device)  # f(θ) = ½ (θ_1² + 100 θ_2²)


def distances(lr, mu, steps=1500):
    theta, v, out = torch.ones(2, device=device), torch.zeros(2, device=device), []
    for _ in range(steps):
        v = mu * v + h * theta  # v_t = μ v_{t-1} + ∇f(θ)
        theta = theta - lr * v
        out.append(theta.norm())
    return torch.stack(out).cpu()


fig, ax = plt.subplots(figsize=(6, 3.5))
for lr, mu, label in [(0.01, 0.0, "gradient descent, lr = 1/L"),
                      (0.019, 0.0, "gradient descent, lr = 1.9/L"),
                      (0.01, 0.9, "momentum 0.9, lr = 1/L")]:
    ax.semilogy(distances(lr, mu), label=label)
ax.axhline(1e-6, color="gray", linestyle=":", linewidth=1)
ax.set_xlabel("step")
ax.set_ylabel("distance to the minimum")
ax.set_ylim(1e-9, 10)
ax.legend()
# --8<-- [end:figure]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_ten_times]
twos = torch.full((200,), 2.0, device=device)  # a gradient of 2, two hundred times
torch_v = torch_buffers(twos, momentum=0.9)[-1]  # torch.optim.SGD: v = 0.9 v + g
ewma_u = torch.zeros((), device=device)
for g_t in twos:
    ewma_u = 0.9 * ewma_u + 0.1 * g_t  # the notes: u = 0.9 u + 0.1 g
print(f"torch.optim.SGD buffer {torch_v:.2f}, the notes' update {ewma_u:.2f}")
torch.testing.assert_close(torch_v, 10 * ewma_u)  # ten times the step for the same lr
# --8<-- [end:quiz_ten_times]

# --8<-- [start:quiz_first_buffer]
first_buffer = torch_buffers(torch.tensor([2.0], device=device), momentum=0.9, dampening=0.9)[0]
print(f"buffer after step 1: {first_buffer:.3f}")
assert first_buffer == 2.0  # v_1 = g_1: dampening only applies from step 2; the notes' EWMA gives 0.2
# --8<-- [end:quiz_first_buffer]

# --8<-- [start:quiz_sum_not_average]
buffer_10 = torch_buffers(torch.ones(10, device=device), momentum=0.9)[-1]  # a gradient of 1, ten times
print(f"buffer after 10 steps: {buffer_10:.3f}")
torch.testing.assert_close(buffer_10, torch.tensor((1 - 0.9**10) / (1 - 0.9), device=device))  # Σ 0.9^k
# --8<-- [end:quiz_sum_not_average]

# --8<-- [start:quiz_diverge]
converged_in = steps_to_converge(2.1 / L, momentum=0.0, max_steps=300)  # plain GD, just above 2/L
print("lr = 2.1/L: " + ("diverges" if converged_in == 300 else f"converges in {converged_in} steps"))
assert converged_in == 300  # never within 1e-6 of the minimum: the steep direction grows every step
# --8<-- [end:quiz_diverge]
