"""Derivatives, gradients and autograd: slopes, partial derivatives, finite differences vs .backward()."""
# --8<-- [start:setup]
import inspect
import warnings

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]


# --8<-- [start:slope]
def slope(f, x1, x2):
    return (f(x2) - f(x1)) / (x2 - x1)  # rise over run: Δy / Δx


def line(x):
    return 3 * x + 2  # y = m x + b with m = 3, b = 2


xs = torch.tensor([-2.0, 0.5, 1.0, 7.0], dtype=torch.float64, device=device)
for x1, x2 in [(xs[0], xs[1]), (xs[1], xs[3]), (xs[2], xs[0])]:
    torch.testing.assert_close(slope(line, x1, x2), torch.tensor(3.0, dtype=torch.float64, device=device))


def cube(x):
    return x**3  # a curve: its slope changes from point to point


x = torch.tensor(1.0, dtype=torch.float64, device=device)
hs = torch.tensor([1e-1, 1e-2, 1e-3, 1e-4], dtype=torch.float64, device=device)
secants = slope(cube, x, x + hs)  # (f(x + h) - f(x)) / h = 3x² + 3x h + h²
torch.testing.assert_close(secants, 3 + 3 * hs + hs**2)  # the exact algebra, float64 rounding only
errors = secants - 3  # the derivative at x = 1 is 3x² = 3: the error shrinks in proportion to h
assert (errors[1:] / errors[:-1] < 0.11).all()  # each 10x smaller h gives a ~10x smaller error

x_leaf = x.clone().requires_grad_()  # ask autograd to track x
cube(x_leaf).backward()  # d(x³)/dx, computed from the graph, no h at all
torch.testing.assert_close(x_leaf.grad, 3 * x**2)  # the limit of the secant slopes: 3x² = 3
print("secant slopes of x³ at x = 1:", ", ".join(f"{s:.4f}" for s in secants), f"-> autograd {x_leaf.grad:.4f}")
# --8<-- [end:slope]

# --8<-- [start:partials]
x_data = torch.rand(20, device=device) * 2 - 1  # the ice-cream example: y = 3x + 2 plus noise
y_data = 3 * x_data + 2 + 0.1 * torch.randn(20, device=device)


def mse(m, b):
    return ((m * x_data + b - y_data) ** 2).mean()  # L(m, b) = mean((m x + b - y)²)


m = torch.tensor(1.0, device=device, requires_grad=True)  # a wild guess for the two parameters
b = torch.tensor(0.5, device=device, requires_grad=True)
mse(m, b).backward()  # one call fills both m.grad and b.grad

residual = (m * x_data + b - y_data).detach()
dL_dm = (2 * residual * x_data).mean()  # ∂L/∂m = mean(2 (m x + b - y) x)
dL_db = (2 * residual).mean()  # ∂L/∂b = mean(2 (m x + b - y))
torch.testing.assert_close(m.grad, dL_dm)  # float32; default tolerance (rtol 1.3e-6) covers the order
torch.testing.assert_close(b.grad, dL_db)  # in which the 20 terms are summed
gradient = torch.stack([m.grad, b.grad])  # ∇L = (∂L/∂m, ∂L/∂b): one entry per parameter
assert not torch.isclose(gradient, m.detach()).any()  # rates of change of the loss; neither is the slope m
print(f"slope of the line m = {m:.1f}; gradient of the loss (dL/dm, dL/db) = ({m.grad:.3f}, {b.grad:.3f})")
# --8<-- [end:partials]


# --8<-- [start:finite_differences]
def numerical_gradient(f, w, h=1e-6):
    """Central differences, one parameter at a time."""
    g = torch.zeros_like(w)
    for i in range(w.numel()):
        step = torch.zeros_like(w)
        step.view(-1)[i] = h
        g.view(-1)[i] = (f(w + step) - f(w - step)) / (2 * h)  # ∂f/∂w_i ≈ (f(w + h e_i) - f(w - h e_i)) / 2h
    return g


X = torch.randn(16, 3, device=device, dtype=torch.float64)
y = torch.randn(16, device=device, dtype=torch.float64)


def loss_of(W, X=X, y=y):
    """A small network's loss as a function of its (3, 4) weight matrix: 12 variables."""
    return ((torch.tanh(X @ W).sum(dim=1) - y) ** 2).mean()


W = torch.randn(3, 4, device=device, dtype=torch.float64, requires_grad=True)
# the loss is the mean squared error of the summed tanh units: F.mse_loss computes the same, float64
torch.testing.assert_close(loss_of(W), F.mse_loss(torch.tanh(X @ W).sum(dim=1), y))
loss_of(W).backward()
numeric = numerical_gradient(loss_of, W.detach())
assert W.grad.shape == W.shape  # the gradient has one entry per parameter, laid out like them
# float64: truncation error ~h² = 1e-12, rounding ~1e-16/h = 1e-10; 1e-7 leaves a 1000x margin
torch.testing.assert_close(W.grad, numeric, rtol=1e-7, atol=1e-7)
assert torch.autograd.gradcheck(loss_of, (W,))  # PyTorch's own finite-difference check
defaults = inspect.signature(torch.autograd.gradcheck).parameters
assert [defaults[name].default for name in ("eps", "atol", "rtol")] == [1e-6, 1e-5, 1e-3]

# Machine epsilon: the gap between 1 and the next float. Rounding to nearest errs by at most half
# of it, the unit roundoff: 2⁻²⁴ ≈ 6e-8 in float32, 2⁻⁵³ ≈ 1.1e-16 in float64.
assert torch.finfo(torch.float32).eps == 2.0**-23  # ≈ 1.19e-7
assert torch.finfo(torch.float64).eps == 2.0**-52  # ≈ 2.2e-16
one = torch.ones((), device=device)  # float32
eps32 = torch.finfo(torch.float32).eps
assert one + eps32 > one and one + eps32 / 2 == one  # 1 + 2⁻²⁴ lies halfway and rounds back to 1

# The same differences in float32: rounding (~1e-7 relative) / h or truncation ~h², whichever h
float64_error = (numeric - W.grad).abs().max()
float32_errors = {}
for h in (1e-2, 1e-3, 1e-4):
    numeric32 = numerical_gradient(lambda W: loss_of(W, X.float(), y.float()), W.detach().float(), h=h)
    float32_errors[h] = (numeric32.double() - W.grad).abs().max()
float32_error = min(float32_errors.values())
assert float32_error > 1000 * float64_error  # the best float32 step keeps only about half of its 7 digits
# ... but it keeps them: rounding ~1e-7/h and truncation ~h² balance near h = 1e-2 to 1e-3 at a relative
# error of about 1e-4, so the best step lands within 1e-3 of the largest gradient entry (10x margin)
assert float32_error < 1e-3 * W.grad.abs().max()
print(f"max |autograd - central difference|: float64 (h=1e-6) {float64_error:.1e}; float32 "
      + ", ".join(f"(h={h:.0e}) {e:.1e}" for h, e in float32_errors.items()))
# --8<-- [end:finite_differences]

# --8<-- [start:accumulation]
W = W.detach().clone().requires_grad_()  # a fresh leaf, .grad is None
loss_of(W).backward()
once = W.grad.clone()
loss_of(W).backward()  # a second forward and backward, without zeroing first
torch.testing.assert_close(W.grad, 2 * once)  # .grad += new gradient: now twice the true gradient

W.grad = None  # the fix: clear before each backward (optimizer.zero_grad() does this)
loss_of(W).backward()
torch.testing.assert_close(W.grad, once)

optimizer = torch.optim.SGD([W], lr=0.1)
optimizer.zero_grad()  # set_to_none=True by default: .grad becomes None, not a tensor of zeros
assert W.grad is None

loss = loss_of(W)
loss.backward()
try:
    loss.backward()  # the same graph again: its saved intermediate values were freed
except RuntimeError as error:
    assert "second time" in str(error)  # the type and one stable phrase, not the whole message
else:
    raise AssertionError("a second backward() through the same graph should have failed")
# --8<-- [end:accumulation]

# --8<-- [start:micro_batches]
model = nn.Linear(3, 1).to(device)
inputs = torch.randn(8, 3, device=device)
targets = torch.randn(8, 1, device=device)

model.zero_grad()
F.mse_loss(model(inputs), targets).backward()  # one backward over the full batch of 8
full_batch = [p.grad.clone() for p in model.parameters()]

model.zero_grad()
for xb, yb in zip(inputs.split(4), targets.split(4)):  # two micro-batches of 4
    # mean over 8 = (mean over first 4 + mean over last 4) / 2: each half contributes half
    (F.mse_loss(model(xb), yb) / 2).backward()  # .grad accumulates the two contributions
accumulated = [p.grad for p in model.parameters()]
torch.testing.assert_close(accumulated, full_batch, rtol=1e-5, atol=1e-6)  # float32, another summation order
print("two half-batch backward() calls add up to the full-batch gradient")
# --8<-- [end:micro_batches]

# --8<-- [start:no_grad]
w = torch.ones(3, device=device, requires_grad=True)
(w**2).sum().backward()  # gradient 2w
try:
    w -= 0.1 * w.grad  # an update recorded by autograd, in place on the leaf it differentiates
except RuntimeError as error:
    assert "leaf Variable" in str(error)  # the type and one stable phrase, not the whole message
else:
    raise AssertionError("an in-place update of a leaf that requires grad should have failed")

with torch.no_grad():  # the update is not part of the function we differentiate
    w -= 0.1 * w.grad  # w ← w - lr ∇f
    assert not (w * 2).requires_grad and (w * 2).is_leaf  # nothing inside the block is recorded
assert w.requires_grad and w.is_leaf  # still the same trainable leaf afterwards
torch.testing.assert_close(w, torch.full((3,), 0.8, device=device))  # 1 - 0.1 · 2

# A leaf is a tensor that no recorded operation produced (grad_fn is None), requires_grad or not
data = torch.ones(3, device=device)
assert data.is_leaf and not data.requires_grad  # a leaf autograd does not track: inputs, targets
assert w.is_leaf and w.grad_fn is None and w.grad is not None  # a tracked leaf: backward() fills .grad
doubled = w * 2
assert not doubled.is_leaf and doubled.grad_fn is not None  # made by a recorded operation: not a leaf
grad_before = w.grad.clone()
(doubled**2).sum().backward()
# the chain rule runs through the non-leaf to the leaf: d/dw Σ (2w)² = 8w, added to what .grad held
torch.testing.assert_close(w.grad, grad_before + 8 * w.detach())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    assert doubled.grad is None  # .grad is kept for leaves only (unless you call .retain_grad())
assert any(issubclass(c.category, UserWarning) and "not a leaf" in str(c.message) for c in caught)
assert (data * 2).is_leaf and w.detach().is_leaf  # nothing recorded, or history cut off: leaves too
# --8<-- [end:no_grad]

# --8<-- [start:misconception]
model = nn.Linear(3, 1).to(device)
before = [p.detach().clone() for p in model.parameters()]
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

optimizer.zero_grad()
F.mse_loss(model(inputs), targets).backward()
for p, p0 in zip(model.parameters(), before):
    assert torch.equal(p, p0)  # backward() filled .grad and left every weight untouched
    assert p.grad is not None

optimizer.step()  # the update happens here
for p, p0 in zip(model.parameters(), before):
    torch.testing.assert_close(p.detach(), p0 - 0.1 * p.grad)  # θ ← θ - lr ∇L
print("backward() computed gradients; only optimizer.step() changed the weights")
# --8<-- [end:misconception]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_backward]
w = torch.tensor(2.0, device=device, requires_grad=True)
loss = (w - 5) ** 2
loss.backward()  # d/dw (w - 5)² = 2 (w - 5) = -6
print(f"w = {w:.1f}, w.grad = {w.grad:.1f}")
assert w == 2.0 and w.grad == -6.0  # the gradient is computed, the weight has not moved
# --8<-- [end:quiz_backward]

# --8<-- [start:quiz_accumulate]
w = torch.ones(3, device=device, requires_grad=True)
x = torch.tensor([1.0, 2.0, 3.0], device=device)
for _ in range(2):  # two training steps, and no zero_grad() between them
    (w * x).sum().backward()  # the gradient of Σ w x is x
print(w.grad.tolist())
assert torch.equal(w.grad, 2 * x)  # added to .grad twice
# --8<-- [end:quiz_accumulate]

# --8<-- [start:quiz_shape]
W = torch.zeros(3, 4, device=device, dtype=torch.float64, requires_grad=True)
loss = loss_of(W)  # the tiny network's loss: a single number
loss.backward()
print(f"loss {tuple(loss.shape)}, gradient {W.grad.shape}")
assert loss.shape == () and W.grad.shape == W.shape  # one partial derivative per weight
# --8<-- [end:quiz_shape]

# --8<-- [start:quiz_leaf]
w = torch.ones(3, device=device, requires_grad=True)
(w**2).sum().backward()
try:
    w -= 0.1 * w.grad  # the update, outside torch.no_grad()
    outcome = "it runs"
except RuntimeError as error:
    outcome = "RuntimeError about a leaf Variable" if "leaf Variable" in str(error) else "another RuntimeError"
print(outcome)
assert outcome == "RuntimeError about a leaf Variable"
# --8<-- [end:quiz_leaf]
