"""Weight decay: L2 in the loss, weight_decay= in torch.optim, decoupled AdamW; checked against PyTorch."""
# --8<-- [start:setup]
import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:gradient]
w = torch.randn(5, device=device, requires_grad=True)
wd = 0.1
(wd / 2 * (w**2).sum()).backward()  # penalty (λ/2) Σ w²
torch.testing.assert_close(w.grad, wd * w.detach())  # its gradient: λ w, what weight_decay=λ adds
w.grad = None
(wd * (w**2).sum()).backward()  # the notes' penalty λ Σ w²
torch.testing.assert_close(w.grad, 2 * wd * w.detach())  # gradient 2λ w: twice the decay
# --8<-- [end:gradient]

# --8<-- [start:data]
X = torch.randn(256, 4, device=device)  # synthetic regression: y = sin(X w) + noise
y = torch.sin(X @ torch.randn(4, 1, device=device)) + 0.1 * torch.randn(256, 1, device=device)
batches = [torch.randint(0, 256, (32,), device=device) for _ in range(100)]  # same for all runs
start = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1)).to(device)


def sum_of_squares(model):  # Σ w² over every parameter: weight_decay= applies to biases too
    return sum((p**2).sum() for p in model.parameters())


def train(make_optimizer, penalty=0.0, schedule=None):
    model = copy.deepcopy(start)  # every run starts from identical weights
    opt = make_optimizer(model.parameters())
    if schedule:  # the learning rate of step k (from 0) becomes lr · schedule(k)
        scheduler = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    for idx in batches:
        loss = F.mse_loss(model(X[idx]), y[idx]) + penalty * sum_of_squares(model)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if schedule:
            scheduler.step()
    return model


@torch.no_grad()
def gap(a, b):  # largest absolute difference between the parameters of two models
    return max((pa - pb).abs().max() for pa, pb in zip(a.parameters(), b.parameters()))
# --8<-- [end:data]

# --8<-- [start:sgd]
class DecayedSGD(torch.optim.Optimizer):
    """SGD that first shrinks every weight by the factor (1 - lr·wd), outside any momentum."""

    def __init__(self, params, lr, weight_decay, momentum=0.0):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, wd, mu = group["lr"], group["weight_decay"], group["momentum"]
            for p in group["params"]:
                p.mul_(1 - lr * wd)  # θ ← (1 - ηλ) θ: decay toward zero
                direction = p.grad  # the gradient of the data loss only
                if mu:  # momentum as torch.optim.SGD: v_1 = g_1, then v_t = μ v_{t-1} + g_t
                    state = self.state[p]
                    if "v" not in state:
                        state["v"] = direction.clone()
                    else:
                        state["v"].mul_(mu).add_(direction)
                    direction = state["v"]
                p.sub_(lr * direction)  # θ ← θ - η v


# Same math in three orders of float32 operations: ~1e-7 apart per step, far below 1e-5.
tolerance = dict(rtol=1e-5, atol=1e-5)
lr, wd = 0.05, 0.1
built_in = train(lambda ps: torch.optim.SGD(ps, lr=lr, weight_decay=wd))
in_loss = train(lambda ps: torch.optim.SGD(ps, lr=lr), penalty=wd / 2)  # loss + (λ/2) Σ w²
decayed = train(lambda ps: DecayedSGD(ps, lr=lr, weight_decay=wd))
torch.testing.assert_close(in_loss.state_dict(), built_in.state_dict(), **tolerance)
torch.testing.assert_close(decayed.state_dict(), built_in.state_dict(), **tolerance)

notes = train(lambda ps: torch.optim.SGD(ps, lr=lr), penalty=wd)  # the notes: loss + λ Σ w²
doubled = train(lambda ps: torch.optim.SGD(ps, lr=lr, weight_decay=2 * wd))
torch.testing.assert_close(notes.state_dict(), doubled.state_dict(), **tolerance)  # = weight_decay=2λ
assert gap(notes, built_in) > 1e-3  # not weight_decay=λ:
assert gap(notes, built_in) > 100 * gap(notes, doubled)  # far above the rounding gap of equal math
with_momentum = train(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.9, weight_decay=wd))
momentum_in_loss = train(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.9), penalty=wd / 2)
torch.testing.assert_close(momentum_in_loss.state_dict(), with_momentum.state_dict(), **tolerance)
decayed_momentum = train(lambda ps: DecayedSGD(ps, lr=lr, weight_decay=wd, momentum=0.9))
assert gap(decayed_momentum, with_momentum) > 1e-3  # with momentum, shrinking outside the buffer differs
momentum_only = train(lambda ps: DecayedSGD(ps, lr=lr, weight_decay=0.0, momentum=0.9))  # λ = 0: ...
torch_momentum_only = train(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.9))  # ... the same momentum
torch.testing.assert_close(momentum_only.state_dict(), torch_momentum_only.state_dict(), **tolerance)
print(f"SGD(weight_decay={wd}) vs loss + {wd / 2}·Σw²: {gap(built_in, in_loss):.1e},"
      f" vs shrink by (1 - lr·wd): {gap(built_in, decayed):.1e},"
      f" vs the notes' loss + {wd}·Σw²: {gap(built_in, notes):.1e}")
print(f"with momentum 0.9: SGD(weight_decay) vs loss + penalty {gap(with_momentum, momentum_in_loss):.1e},"
      f" vs shrinking outside the buffer {gap(with_momentum, decayed_momentum):.1e}")
# --8<-- [end:sgd]

# --8<-- [start:adam_l2]
lr, wd = 0.01, 0.1
adam_l2 = train(lambda ps: torch.optim.Adam(ps, lr=lr, weight_decay=wd))
adam_in_loss = train(lambda ps: torch.optim.Adam(ps, lr=lr), penalty=wd / 2)  # Adam on loss + (λ/2) Σ w²
torch.testing.assert_close(adam_in_loss.state_dict(), adam_l2.state_dict(), **tolerance)
print(f"Adam(weight_decay={wd}) vs Adam on loss + {wd / 2}·Σw²: {gap(adam_l2, adam_in_loss):.1e}")
# --8<-- [end:adam_l2]

# --8<-- [start:adamw]
class AdamW(torch.optim.Optimizer):
    """Adam with decoupled weight decay (Loshchilov and Hutter): shrink θ, then a plain Adam step."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                g, state = p.grad, self.state[p]
                if not state:
                    state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["t"] += 1
                t, m, v = state["t"], state["m"], state["v"]
                p.mul_(1 - lr * wd)  # θ ← (1 - ηλ) θ: the decay never enters m or v
                m.mul_(beta1).add_(g, alpha=1 - beta1)  # m_t = β1 m_{t-1} + (1-β1) g_t
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v_t = β2 v_{t-1} + (1-β2) g_t²
                m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)  # new tensors: m and v stay as they are
                p.addcdiv_(m_hat, v_hat.sqrt_().add_(eps), value=-lr)  # θ ← θ - η m̂_t / (√v̂_t + ε)


assert torch.optim.AdamW(start.parameters()).defaults["weight_decay"] == 1e-2  # Adam's default is 0
ours = train(lambda ps: AdamW(ps, lr=lr, weight_decay=wd))
reference = train(lambda ps: torch.optim.AdamW(ps, lr=lr, weight_decay=wd))
torch.testing.assert_close(ours.state_dict(), reference.state_dict(), **tolerance)
assert gap(reference, adam_l2) > 1e-2  # decoupled decay is another optimizer, not a rounding gap
print(f"ours vs torch.optim.AdamW after {len(batches)} steps: {gap(ours, reference):.1e};"
      f" AdamW vs Adam(weight_decay): {gap(reference, adam_l2):.1e}")
# --8<-- [end:adamw]

# --8<-- [start:decoupled_flag]
if torch.__version__ >= "2.7":  # Adam(decoupled_weight_decay=True) is AdamW, and AdamW a subclass of Adam
    flagged = train(lambda ps: torch.optim.Adam(ps, lr=lr, weight_decay=wd, decoupled_weight_decay=True))
    torch.testing.assert_close(flagged.state_dict(), reference.state_dict(), **tolerance)
    assert issubclass(torch.optim.AdamW, torch.optim.Adam)
    print(f"torch {torch.__version__}: Adam(decoupled_weight_decay=True) vs AdamW: {gap(flagged, reference):.1e}")
else:  # torch 2.6: no such argument, and AdamW is a class of its own
    try:
        torch.optim.Adam(start.parameters(), lr=lr, weight_decay=wd, decoupled_weight_decay=True)
    except TypeError as error:
        assert "decoupled_weight_decay" in str(error)  # the argument it does not know
    else:
        raise AssertionError("torch < 2.7 accepted decoupled_weight_decay")
    assert not issubclass(torch.optim.AdamW, torch.optim.Adam)
    print(f"torch {torch.__version__}: no decoupled_weight_decay in Adam; use torch.optim.AdamW")
# --8<-- [end:decoupled_flag]

# --8<-- [start:decay_speed]
def shrink_without_data(optimizer_class, wd, steps=50, lr=0.01, **options):
    """A weight whose data gradient is always zero: only the decay moves it. Returns its final value."""
    p = torch.ones(1, device=device, requires_grad=True)
    opt = optimizer_class([p], lr=lr, weight_decay=wd, **options)
    for _ in range(steps):
        p.grad = torch.zeros_like(p)  # the loss does not depend on this weight
        opt.step()
    return p.detach()


small, large = 1e-4, 1e-1  # two weight decays, a thousand times apart
l2_small = shrink_without_data(torch.optim.Adam, small)
l2_large = shrink_without_data(torch.optim.Adam, large)
torch.testing.assert_close(l2_small, l2_large, rtol=1e-2, atol=0.0)  # same shrinkage: λ cancels out
assert 0.45 < l2_small < 0.55  # about lr per step, 50 steps: 1 → 0.5
for decay in (small, large):  # AdamW: θ_t = (1 - ηλ)^t θ_0, proportional to λ as intended
    expected = torch.full((1,), (1 - 0.01 * decay) ** 50, device=device)
    torch.testing.assert_close(shrink_without_data(torch.optim.AdamW, decay), expected)
l2_momentum = shrink_without_data(torch.optim.SGD, 0.1, steps=100, momentum=0.9)
shrunk_momentum = shrink_without_data(DecayedSGD, 0.1, steps=100, momentum=0.9)  # (1 - ηλ)^100
assert 8 < l2_momentum.log() / shrunk_momentum.log() < 12  # via the buffer: ~1/(1-μ) = 10 times the decay
print(f"weight 1.0, zero data gradient, 50 steps: Adam(weight_decay=λ) {l2_small.item():.3f} (λ={small}),"
      f" {l2_large.item():.3f} (λ={large}); AdamW {(1 - 0.01 * small) ** 50:.5f}, {(1 - 0.01 * large) ** 50:.4f}")
print(f"same, 100 steps of momentum 0.9, λ=0.1: SGD(weight_decay) {l2_momentum.item():.3f},"
      f" shrinking outside the buffer {shrunk_momentum.item():.3f}")
# --8<-- [end:decay_speed]

# --8<-- [start:paper]
class PaperAdamW(torch.optim.Optimizer):
    """AdamW as Algorithm 2 of Loshchilov and Hutter writes it: base step α, schedule multiplier η_t, decay λ."""

    def __init__(self, params, alpha, weight_decay, schedule, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(alpha=alpha, weight_decay=weight_decay, betas=betas, eps=eps))
        self.schedule, self.t = schedule, 0

    @torch.no_grad()
    def step(self):
        self.t += 1
        t, eta = self.t, self.schedule(self.t - 1)  # η_t: a multiplier (1 at the start), not a learning rate
        for group in self.param_groups:
            alpha, lam, (beta1, beta2), eps = group["alpha"], group["weight_decay"], group["betas"], group["eps"]
            for p in group["params"]:
                g, state = p.grad, self.state[p]
                if not state:
                    state.update(m=torch.zeros_like(p), v=torch.zeros_like(p))
                m = state["m"].mul_(beta1).add_(g, alpha=1 - beta1)  # m_t = β1 m_{t-1} + (1-β1) g_t
                v = state["v"].mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v_t = β2 v_{t-1} + (1-β2) g_t²
                adam_step = (m / (1 - beta1**t)) / (v / (1 - beta2**t)).sqrt().add_(eps)  # m̂_t / (√v̂_t + ε)
                p.sub_(eta * (alpha * adam_step + lam * p))  # θ_t = θ_{t-1} - η_t (α m̂/(√v̂+ε) + λ θ_{t-1})


def cosine(k):  # the schedule multiplier η for step k (from 0): 1 at the start, down toward 0
    return 0.5 * (1 + math.cos(math.pi * k / len(batches)))


scheduled = torch.optim.SGD([torch.zeros(1, device=device, requires_grad=True)], lr=1.0)
annealing = torch.optim.lr_scheduler.CosineAnnealingLR(scheduled, T_max=len(batches))  # η_min = 0
multipliers = []
for _ in batches:
    multipliers.append(scheduled.param_groups[0]["lr"])
    scheduled.step()
    annealing.step()
# PyTorch's cosine annealing, from 1 down to 0 over the run, gives the same multipliers; it computes
# them recursively in float64, so they agree to ~1e-15, far inside float32's default tolerance
torch.testing.assert_close(torch.tensor(multipliers, device=device),
                           torch.tensor([cosine(k) for k in range(len(batches))], device=device))

alpha, lam_paper = 0.01, 1e-3  # the paper's base step size α and its λ
paper = train(lambda ps: PaperAdamW(ps, alpha=alpha, weight_decay=lam_paper, schedule=cosine))
# PyTorch: lr_t = α η_t (lr=α and the scheduler), decay lr_t · weight_decay = η_t λ when weight_decay = λ / α
converted = train(lambda ps: torch.optim.AdamW(ps, lr=alpha, weight_decay=lam_paper / alpha), schedule=cosine)
# Same products, another order (η_t·λ here, (α η_t)·(λ/α) in torch): float32 gaps ~1e-7, under 1e-5
torch.testing.assert_close(paper.state_dict(), converted.state_dict(), **tolerance)
copied = train(lambda ps: torch.optim.AdamW(ps, lr=alpha, weight_decay=lam_paper), schedule=cosine)
assert gap(copied, paper) > 1e-3  # λ copied as it is: 1/α = 100 times too little decay
print(f"paper (α={alpha}, λ={lam_paper}) vs AdamW(lr={alpha}, weight_decay={lam_paper / alpha:g}):"
      f" {gap(paper, converted):.1e}; vs weight_decay={lam_paper}: {gap(paper, copied):.1e}")
# --8<-- [end:paper]

# --8<-- [start:fast]
class ForeachAdamW(AdamW):
    """The AdamW above (same settings and state), each operation applied to the whole parameter list at once."""

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            params = [p for p in group["params"] if p.grad is not None]
            grads, states = [p.grad for p in params], [self.state[p] for p in params]
            for p, state in zip(params, states):
                if not state:
                    state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["t"] += 1
            ms, vs, ts = [s["m"] for s in states], [s["v"] for s in states], [s["t"] for s in states]
            torch._foreach_mul_(params, 1 - lr * wd)  # θ ← (1 - ηλ) θ
            torch._foreach_mul_(ms, beta1)
            torch._foreach_add_(ms, grads, alpha=1 - beta1)  # m_t = β1 m_{t-1} + (1-β1) g_t
            torch._foreach_mul_(vs, beta2)
            torch._foreach_addcmul_(vs, grads, grads, value=1 - beta2)  # v_t = β2 v_{t-1} + (1-β2) g_t²
            denominators = torch._foreach_sqrt(vs)
            torch._foreach_div_(denominators, [(1 - beta2**t) ** 0.5 for t in ts])  # √v̂_t
            torch._foreach_add_(denominators, eps)
            torch._foreach_addcdiv_(params, ms, denominators, [-lr / (1 - beta1**t) for t in ts])  # θ -= η m̂/(√v̂+ε)


fast = train(lambda ps: ForeachAdamW(ps, lr=lr, weight_decay=wd))
torch.testing.assert_close(fast.state_dict(), reference.state_dict(), **tolerance)
print(f"foreach version vs torch.optim.AdamW: {gap(fast, reference):.1e}")
# --8<-- [end:fast]

# --8<-- [start:overfit]
n, d = 30, 25  # barely more examples than weights: least squares overfits the noise
w_true = 0.3 * torch.randn(d, 1, device=device)
X_train, X_valid = torch.randn(n, d, device=device), torch.randn(1000, d, device=device)
y_train = X_train @ w_true + torch.randn(n, 1, device=device)  # noise of standard deviation 1
y_valid = X_valid @ w_true + torch.randn(1000, 1, device=device)
linear = nn.Linear(d, 1, bias=False).to(device)


def fit(weight_decay, steps=400):
    model = copy.deepcopy(linear)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=weight_decay)
    for _ in range(steps):  # full batch: every step sees all 30 examples
        loss = F.mse_loss(model(X_train), y_train)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        losses = F.mse_loss(model(X_train), y_train), F.mse_loss(model(X_valid), y_valid)
    return model.weight.detach().T, *losses


w_plain, train_plain, valid_plain = fit(weight_decay=0.0)
w_decay, train_decay, valid_decay = fit(weight_decay=0.5)
assert w_decay.norm() < 0.8 * w_plain.norm()  # smaller weights ...
assert train_decay > train_plain  # ... fit the training set less closely ...
assert valid_decay < 0.7 * valid_plain  # ... and predict new data better
# The minimum of mean((Xw - y)²) + (λ/2)|w|² in closed form, ridge regression: (XᵀX + nλ/2 I) w = Xᵀy
penalty_matrix = n * 0.5 / 2 * torch.eye(d, device=device)
ridge = torch.linalg.solve(X_train.T @ X_train + penalty_matrix, X_train.T @ y_train)
torch.testing.assert_close(w_decay, ridge, rtol=1e-4, atol=1e-4)  # 400 steps converge to ~1e-6
print(f"without / with weight decay: |w| {w_plain.norm():.2f} / {w_decay.norm():.2f},"
      f" train MSE {train_plain:.2f} / {train_decay:.2f}, validation MSE {valid_plain:.2f} / {valid_decay:.2f}")
# --8<-- [end:overfit]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_factor]
w = torch.tensor([1.0, -2.0, 4.0], device=device, requires_grad=True)
(0.1 * (w**2).sum()).backward()  # the notes' penalty wd · Σ w², with wd = 0.1
matching = w.grad / w.detach()  # weight_decay=λ adds λ w to the gradient, so λ = gradient / w
print(f"weight_decay={matching.mean():.1f}")
torch.testing.assert_close(matching, torch.full_like(matching, 0.2))  # 2 · wd, not wd
# --8<-- [end:quiz_factor]

# --8<-- [start:quiz_step]
layer = nn.Linear(2, 1).to(device)
opt = torch.optim.SGD(layer.parameters(), lr=0.1, weight_decay=0.5)
for p in layer.parameters():  # the weights and the bias
    nn.init.constant_(p, 2.0)
    p.grad = torch.zeros_like(p)  # no gradient from the data: only the decay acts
opt.step()  # θ ← θ - lr (0 + λ θ) = (1 - lr λ) θ
print(f"weight {layer.weight[0, 0]:.2f}, bias {layer.bias[0]:.2f}")
assert all(torch.allclose(p, torch.full_like(p, 1.9)) for p in layer.parameters())  # the bias decays too
# --8<-- [end:quiz_step]

# --8<-- [start:quiz_adam]
adam = torch.cat([shrink_without_data(torch.optim.Adam, wd) for wd in (1e-4, 1e-1)])  # 50 steps, lr 0.01
adamw = torch.cat([shrink_without_data(torch.optim.AdamW, wd) for wd in (1e-4, 1e-1)])
print(f"Adam: {adam[0]:.2f}, {adam[1]:.2f}; AdamW: {adamw[0]:.2f}, {adamw[1]:.2f}")
assert abs(adam[0] - adam[1]) < 1e-2 * adam[0]  # L2 inside Adam: λ cancels out of m̂ / √v̂
assert adamw[1] < adamw[0] - 0.04  # decoupled decay: a 1000 times larger λ shrinks more
# --8<-- [end:quiz_adam]

# --8<-- [start:quiz_default]
param = torch.zeros(1, device=device, requires_grad=True)
adam_wd = torch.optim.Adam([param]).defaults["weight_decay"]
adamw_wd = torch.optim.AdamW([param]).defaults["weight_decay"]
print(f"Adam {adam_wd:g}, AdamW {adamw_wd:g}")
assert adam_wd == 0 and adamw_wd == 1e-2  # AdamW decays unless told otherwise
# --8<-- [end:quiz_default]
