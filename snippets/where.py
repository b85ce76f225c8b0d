"""torch.where: elementwise selection, the MNIST-style loss, ReLU, masking, NaN filling, and the NaN-gradient trap."""
# --8<-- [start:setup]
import torch
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:scratch]
def where_loop(cond, a, b):
    """torch.where(cond, a, b), one element at a time."""
    cond, a, b = torch.broadcast_tensors(cond, a, b)  # stretch all three to one shape
    picks = cond.flatten().tolist()                   # one copy to the host, not one per element
    a, b = a.flatten(), b.flatten()
    out = [a[k] if pick else b[k] for k, pick in enumerate(picks)]  # out_k = a_k if cond_k else b_k
    return torch.stack(out).view(cond.shape)
# --8<-- [end:scratch]

# --8<-- [start:check]
x = torch.randn(3, 4, device=device)
cases = {  # (cond, a, b); b of the same shape, a scalar, a row; then a row cond and a column b
    "same shape": (x > 0, x, -x),
    "scalar b": (x > 0, x, torch.tensor(0.0, device=device)),
    "row b": (x > 0, x, torch.arange(4.0, device=device)),
    "row cond, column b": (torch.tensor([True, False, True, False], device=device), x,
                           torch.full((3, 1), 9.0, device=device)),
}
for name, (cond, a, b) in cases.items():
    ours, theirs = where_loop(cond, a, b), torch.where(cond, a, b)
    assert theirs.shape == torch.broadcast_shapes(cond.shape, a.shape, b.shape), name
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)  # a copy of a or b, never arithmetic: exact
same_shape = torch.where(*cases["same shape"])  # x where x > 0, else -x: the absolute value, built by selection
torch.testing.assert_close(same_shape, x.abs(), rtol=0, atol=0)  # copies of x or of -x, so exact again
torch.testing.assert_close(torch.where(x > 0, x, 0.0), where_loop(x > 0, x, torch.zeros((), device=device)),
                           rtol=0, atol=0)  # a Python number works as a branch too
# --8<-- [end:check]

# --8<-- [start:loss]
labels = [1, 0, 1, 1, 0, 0, 1, 0]            # 1: the digit is a 3, 0: it is a 7 (the lesson's two classes)
targets = torch.tensor(labels, device=device)
scores = 2 * torch.randn(8, device=device)   # a model's raw outputs: any real number


def mnist_loss(scores, targets):
    preds = scores.sigmoid()                 # squash into (0, 1)
    return torch.where(targets == 1, 1 - preds, preds).mean()  # distance from 1 for a 3, from 0 for a 7


def mnist_loss_loop(scores, labels):
    preds = scores.sigmoid()
    terms = [1 - preds[i] if label == 1 else preds[i] for i, label in enumerate(labels)]
    return torch.stack(terms).mean()
# --8<-- [end:loss]

# --8<-- [start:loss_check]
s_where = scores.clone().requires_grad_()
s_loop = scores.clone().requires_grad_()
loss_where = mnist_loss(s_where, targets)
loss_loop = mnist_loss_loop(s_loop, labels)
loss_where.backward()
loss_loop.backward()
# The same float32 operations on the same numbers; the tolerance allows only a mean summed in another order.
tolerance = dict(rtol=1e-6, atol=1e-7)
torch.testing.assert_close(loss_where, loss_loop, **tolerance)
torch.testing.assert_close(s_where.grad, s_loop.grad, **tolerance)

p = scores.sigmoid()
sign = torch.where(targets == 1, -1.0, 1.0)  # the loss falls as a 3's score rises and as a 7's score falls
torch.testing.assert_close(s_where.grad, sign * p * (1 - p) / len(labels), **tolerance)  # ±σ'(s_i) / N
print(f"loss {loss_where:.4f} (torch.where) vs {loss_loop:.4f} (loop); gradients agree")

column_scores = scores[:, None]              # (8, 1), as a model with one output unit returns them
assert torch.where(targets == 1, 1 - column_scores, column_scores).shape == (8, 8)  # broadcast, not (8,)
# --8<-- [end:loss_check]

# --8<-- [start:sigmoid]
def loss_without_sigmoid(scores, targets):
    return torch.where(targets == 1, 1 - scores, scores).mean()


sevens = torch.zeros(4, dtype=torch.long, device=device)  # four 7s: every prediction should be near 0
raw = torch.tensor([-8.0, 0.9, 0.9, 0.9], device=device, requires_grad=True)  # one very right, three wrong
assert loss_without_sigmoid(raw, sevens) < 0  # below 0, the best a prediction in [0, 1] can do
assert mnist_loss(raw, sevens) > 0.5         # with the sigmoid the three wrong ones dominate
threes = torch.ones_like(sevens)             # the mirror image: four 3s, scores 8, -0.9, -0.9, -0.9
assert loss_without_sigmoid(-raw, threes) < 0  # 1 - 8 = -7: a 3's "distance from 1" goes negative too

loss_without_sigmoid(raw, sevens).backward()
torch.testing.assert_close(raw.grad, torch.full_like(raw, 1 / 4))  # every example pushed equally, forever
raw.grad = None
mnist_loss(raw, sevens).backward()
assert raw.grad[0] < 0.01 * raw.grad[1]      # the confident right one is left alone, the wrong ones fixed
# --8<-- [end:sigmoid]

# --8<-- [start:uses]
z = torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5], device=device, requires_grad=True)
relu_where = torch.where(z > 0, z, 0.0)      # ReLU: keep positives, replace the rest by 0
torch.testing.assert_close(relu_where, F.relu(z), rtol=0, atol=0)
(grad_where,) = torch.autograd.grad(relu_where.sum(), z)
(grad_relu,) = torch.autograd.grad(F.relu(z).sum(), z)
torch.testing.assert_close(grad_where, grad_relu, rtol=0, atol=0)
assert grad_where[2] == grad_relu[2] == 0  # z = 0 exactly: both give 0

lo, hi = -1.0, 1.0
clamped = torch.where(z < lo, lo, torch.where(z > hi, hi, z))  # clamp: two selections
torch.testing.assert_close(clamped, z.clamp(lo, hi), rtol=0, atol=0)

lengths = [5, 2, 4]                          # three sequences, padded to length 5
per_token = torch.rand(3, 5, device=device)  # e.g. a loss per token
mask = torch.arange(5, device=device) < torch.tensor(lengths, device=device)[:, None]  # (5,) vs (3, 1)
masked_mean = torch.where(mask, per_token, 0.0).sum() / mask.sum()  # padding contributes nothing
loop_mean = sum(per_token[i, t] for i, n in enumerate(lengths) for t in range(n)) / sum(lengths)
torch.testing.assert_close(masked_mean, loop_mean, rtol=1e-6, atol=1e-6)  # float32 sums, another order
torch.testing.assert_close(masked_mean, per_token[mask].mean(), rtol=1e-6, atol=1e-6)

data = torch.randn(6, 3, device=device)
data[1, 0] = data[4, 2] = data[5, 0] = float("nan")  # missing values
col_means = data.nanmean(dim=0)              # (3,): the mean of each column, NaNs ignored
filled = torch.where(data.isnan(), col_means, data)  # (6, 3) cond, (3,) a, (6, 3) b
for i, j in ((1, 0), (4, 2), (5, 0)):  # each gap gets the mean of the values present in its column
    torch.testing.assert_close(filled[i, j], data[~data[:, j].isnan(), j].mean(), rtol=1e-6, atol=1e-6)
assert not filled.isnan().any() and torch.equal(filled[0], data[0])
torch.testing.assert_close(torch.where(data.isnan(), 0.0, data), torch.nan_to_num(data, nan=0.0),
                           rtol=0, atol=0)
infinities = torch.tensor([float("inf"), -float("inf")], device=device)
biggest = torch.finfo(infinities.dtype).max
assert torch.equal(torch.nan_to_num(infinities), torch.tensor([biggest, -biggest], device=device))  # ±inf too
# --8<-- [end:uses]

# --8<-- [start:nan_grad]
x = torch.tensor([-4.0, -1.0, 0.0, 1.0, 4.0], device=device, requires_grad=True)
y = torch.where(x > 0, x.sqrt(), 0.0)        # x.sqrt() is computed for every x, NaN for negatives
assert not y.isnan().any()                   # the forward pass looks fine: the NaNs were not selected
y.sum().backward()
assert x.grad[:3].isnan().all()              # but 0 · d√x/dx = 0 · NaN (or 0 · ∞ at 0) = NaN
torch.testing.assert_close(x.grad[3:], 0.5 / x[3:].detach().sqrt())  # d√x/dx = 1 / (2√x)

x.grad = None
safe = torch.where(x > 0, x, 1.0)            # a harmless input wherever the result will be thrown away
y_fixed = torch.where(x > 0, safe.sqrt(), 0.0)
assert torch.equal(y_fixed, y)               # the same values ...
y_fixed.sum().backward()
torch.testing.assert_close(x.grad, torch.where(x > 0, 0.5 / safe.sqrt(), 0.0).detach())  # ... clean gradients

p = torch.tensor([0.0, 0.5], device=device, requires_grad=True)
torch.where(p > 0, p * p.log(), 0.0).sum().backward()  # entropy-style p log p, with 0 log 0 := 0
assert p.grad[0].isnan()                     # log 0 = -∞ in the discarded branch: the same trap
torch.testing.assert_close(p.grad[1], p[1].detach().log() + 1)  # the kept one is fine: d(p log p)/dp = log p + 1

masked_product = (x > 0) * x.sqrt()          # "multiply by the mask" instead of selecting
assert masked_product[:2].isnan().all()      # fails already in the forward pass: 0 · NaN = NaN
torch.testing.assert_close(masked_product[2:], y[2:].detach())  # elsewhere the same values as the selection
# --8<-- [end:nan_grad]

# --8<-- [start:indices]
cond = torch.tensor([[True, False, True], [False, False, True]], device=device)
rows, cols = torch.where(cond)               # one argument: the positions where cond is True
for ours, theirs in zip((rows, cols), cond.nonzero(as_tuple=True)):
    assert torch.equal(ours, theirs)
assert torch.equal(rows, torch.tensor([0, 0, 1], device=device))
assert torch.equal(cols, torch.tensor([0, 2, 2], device=device))
assert torch.equal(torch.stack([rows, cols], dim=1), cond.nonzero())  # one (row, col) pair per line
grid = torch.arange(6, device=device).view(2, 3)
assert torch.equal(grid[rows, cols], grid[cond])  # indexing with them = indexing with the mask
# --8<-- [end:indices]

# --8<-- [start:summary]
print(f"{len(cases)} broadcast cases agree with the loop; ReLU, clamp, masked mean and NaN filling agree")
print(f"where(x > 0, x.sqrt(), 0) gradient at x = -4, -1, 0, 1, 4: NaN NaN NaN, then 1/(2 sqrt x); "
      f"fixed: {', '.join(f'{g:.3f}' for g in x.grad)}")
print(f"all torch.where checks passed on {device.type}")
# --8<-- [end:summary]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_shape]
four_targets = torch.tensor([1, 0, 1, 0], device=device)  # shape (4,)
preds = torch.rand(4, 1, device=device)                   # one output unit: shape (4, 1)
picked = torch.where(four_targets == 1, 1 - preds, preds)
print(picked.shape)
assert picked.shape == (4, 4)                             # (4,) against (4, 1): every pair
assert torch.equal(picked[:, 0], 1 - preds[:, 0]) and torch.equal(picked[:, 1], preds[:, 0])  # column j: target j
# --8<-- [end:quiz_shape]

# --8<-- [start:quiz_sigmoid]
four_sevens = torch.zeros(4, dtype=torch.long, device=device)  # target 0 for all four
raw_scores = torch.tensor([-6.0, 1.0, 1.0, 1.0], device=device)  # one very right, three wrong
without, with_sigmoid = loss_without_sigmoid(raw_scores, four_sevens), mnist_loss(raw_scores, four_sevens)
print(f"without sigmoid {without:.2f}, with sigmoid {with_sigmoid:.2f}")
assert without < 0 < 0.5 < with_sigmoid                   # "better than perfect", then honest
# --8<-- [end:quiz_sigmoid]

# --8<-- [start:quiz_nan]
t = torch.tensor([-1.0, 4.0], device=device, requires_grad=True)
torch.where(t > 0, t.sqrt(), 0.0).sum().backward()  # sqrt(-1) is computed too, then not selected
print(t.grad.tolist())
assert t.grad[0].isnan() and t.grad[1] == 0.25      # 0 * NaN = NaN; 1 / (2 sqrt 4) = 0.25
# --8<-- [end:quiz_nan]

# --8<-- [start:quiz_indices]
found = torch.where(torch.tensor([0, 3, 0, 5], device=device) > 0)  # one argument
print(f"a tuple of {len(found)} tensor: {found[0].tolist()}")
assert isinstance(found, tuple) and found[0].tolist() == [1, 3]  # positions, not values
# --8<-- [end:quiz_indices]
