"""Broadcasting: the shape rule from scratch, checked against torch.broadcast_shapes and real tensors."""
# --8<-- [start:setup]
import re
import warnings

import torch
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:rule]
def broadcast_shape(a_shape, b_shape):
    """Shape of `a op b` for an elementwise op; ValueError if the shapes do not broadcast."""
    ndim = max(len(a_shape), len(b_shape))
    # a missing leading axis counts as size 1, so padding on the left aligns the shapes from the right
    a = (1,) * (ndim - len(a_shape)) + tuple(a_shape)
    b = (1,) * (ndim - len(b_shape)) + tuple(b_shape)
    out = []
    for axis, (m, n) in enumerate(zip(a, b)):
        if m == n or n == 1:
            out.append(m)  # equal, or b stretches; not max(m, n): sizes 0 and 1 give 0
        elif m == 1:
            out.append(n)  # a stretches
        else:
            raise ValueError(f"sizes {m} and {n} differ and neither is 1 (axis {axis} of {a} and {b})")
    return torch.Size(out)
# --8<-- [end:rule]

# --8<-- [start:examples]
examples = {  # the alignments drawn on the page: (a shape, b shape) -> result shape
    ((4, 3), (3,)): (4, 3),
    ((4, 1), (1, 3)): (4, 3),
    ((2, 1, 5), (3, 1)): (2, 3, 5),
}
for (a_shape, b_shape), expected in examples.items():
    a = torch.randn(a_shape, device=device)
    b = torch.randn(b_shape, device=device)
    assert broadcast_shape(a_shape, b_shape) == torch.broadcast_shapes(a_shape, b_shape) == expected
    assert (a + b).shape == (a * b).shape == expected
# --8<-- [end:examples]

# --8<-- [start:check]
cases = [((), (3,)), ((5,), (5,)), ((0, 3), (1, 3)), ((8, 1, 6, 1), (7, 1, 5)), ((1,), (2, 3, 1)),
         ((4, 3), (4,)), ((2, 3), (3, 2)), ((2, 1), (8, 4, 3)), ((0,), (2,))]  # the last four mismatch

def shape_or_mismatch(fn, error, a_shape, b_shape):
    try:
        return fn(a_shape, b_shape)
    except error:
        return "mismatch"

for a_shape, b_shape in cases:
    ours = shape_or_mismatch(broadcast_shape, ValueError, a_shape, b_shape)
    theirs = shape_or_mismatch(torch.broadcast_shapes, RuntimeError, a_shape, b_shape)  # torch raises RuntimeError
    assert ours == theirs == shape_or_mismatch(broadcast_shape, ValueError, b_shape, a_shape), (a_shape, b_shape)
    if ours != "mismatch":  # and real tensors of those shapes agree
        assert (torch.zeros(a_shape, device=device) + torch.zeros(b_shape, device=device)).shape == ours
n_mismatch = sum(shape_or_mismatch(broadcast_shape, ValueError, *case) == "mismatch" for case in cases)
assert n_mismatch == 4
# --8<-- [end:check]

# --8<-- [start:rows]
N, features, hidden = 6, 4, 3
X = torch.randn(N, features, device=device)  # one example per row: the examples axis comes first
col_mean = X.mean(dim=0)                      # (features,)
centred = X - col_mean                        # (N, features) - (features,) -> (N, features)
torch.testing.assert_close(centred, torch.stack([X[i] - col_mean for i in range(N)]), rtol=0, atol=0)

W = torch.randn(features, hidden, device=device)
bias = torch.randn(hidden, device=device)
XW = X @ W
out = XW + bias                               # (N, hidden) + (hidden,): one bias vector, every row
torch.testing.assert_close(out, torch.stack([XW[i] + bias for i in range(N)]), rtol=0, atol=0)
# the same as the column-of-ones trick: [X | 1] @ [W ; bias]; a different summation order, so float32 rounding
ones = torch.ones(N, 1, device=device)
torch.testing.assert_close(out, torch.cat([X, ones], 1) @ torch.cat([W, bias[None, :]], 0), rtol=1e-5, atol=1e-5)
# --8<-- [end:rows]

# --8<-- [start:outer]
u = torch.randn(4, device=device)
v = torch.randn(3, device=device)
outer = u[:, None] * v[None, :]               # (4, 1) * (1, 3) -> (4, 3): outer[i, j] = u_i v_j
torch.testing.assert_close(outer, torch.outer(u, v), rtol=0, atol=0)  # one product per entry: exact
# --8<-- [end:outer]

# --8<-- [start:error]
def broadcast_error(a_shape, b_shape):
    """The RuntimeError PyTorch raises for a + b, or None if the shapes broadcast."""
    try:
        torch.zeros(a_shape, device=device) + torch.zeros(b_shape, device=device)
    except RuntimeError as err:
        return err
    return None


def numbers_in(error):
    """The numbers a message names, in order: size in a, size in b, dimension."""
    return tuple(int(n) for n in re.findall(r"\d+", str(error)))


error = broadcast_error((4, 3), (4,))
assert "non-singleton dimension" in str(error)  # the stable part of the wording; the numbers are what matter
print(error)
assert numbers_in(error) == (3, 4, 1)  # a = left operand (size 3), b = right (size 4), dimension 1
assert numbers_in(broadcast_error((4,), (4, 3))) == (4, 3, 1)  # swap the operands and a, b swap
assert numbers_in(broadcast_error((2, 4, 3), (4,))) == (3, 4, 2)  # dimensions count in the aligned result
# --8<-- [end:error]

# --8<-- [start:fix]
M = torch.randn(4, 3, device=device)
per_row = torch.randn(4, device=device)       # one number per row, e.g. one per example
expected = torch.stack([M[i] + per_row[i] for i in range(4)])
for fixed in (M + per_row[:, None], M + per_row.unsqueeze(1), (M.T + per_row).T):
    torch.testing.assert_close(fixed, expected, rtol=0, atol=0)
# --8<-- [end:fix]

# --8<-- [start:expand]
row = torch.randn(3, device=device)
col = torch.randn(4, 1, device=device)
shape = torch.broadcast_shapes(row.shape, col.shape)  # (4, 3)
torch.testing.assert_close(row + col, row.expand(shape) + col.expand(shape), rtol=0, atol=0)
assert (row + col).untyped_storage().nbytes() == 4 * 3 * row.element_size()  # the result itself is full size

stretched = row.expand(shape)                 # a view: four rows that are the same three numbers
assert stretched.stride() == (0, 1)           # stride 0: the next row starts at the same address
assert stretched.data_ptr() == row.data_ptr()
assert stretched.untyped_storage().nbytes() == row.untyped_storage().nbytes() == 3 * row.element_size()
copied = row.repeat(4, 1)                     # the same values, written out four times
assert torch.equal(copied, stretched) and copied.stride() == (3, 1)
assert copied.data_ptr() != row.data_ptr()
assert copied.untyped_storage().nbytes() == 4 * row.untyped_storage().nbytes()
# --8<-- [end:expand]

# --8<-- [start:trap]
y = torch.randn(N, device=device)             # targets, shape (N,)
y_pred = torch.randn(N, 1, device=device)     # a model's output, shape (N, 1): one column
diff = y_pred - y                             # (N, 1) - (N,) -> (N, 1) - (1, N) -> (N, N)
assert diff.shape == (N, N)
wrong = (diff ** 2).mean()                    # runs without a word: every prediction vs every target
right = ((y_pred.squeeze(1) - y) ** 2).mean()  # (N,) - (N,) -> (N,)
torch.testing.assert_close(right, ((y_pred.view(-1) - y) ** 2).mean(), rtol=0, atol=0)
assert not torch.isclose(wrong, right)

# d wrong / d p_i = 2/N (p_i - mean(y)): every prediction is pulled to the same number, the mean target
p = y_pred.squeeze(1).clone().requires_grad_()
((p[:, None] - y) ** 2).mean().backward()
torch.testing.assert_close(p.grad, 2 / N * (p.detach() - y.mean()), rtol=1e-5, atol=1e-6)  # float32 sums

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    builtin = F.mse_loss(y_pred, y)           # the built-in loss broadcasts the same way, but warns
assert any(issubclass(w.category, UserWarning) and "different to the input size" in str(w.message) for w in caught)
torch.testing.assert_close(builtin, wrong)
torch.testing.assert_close(F.mse_loss(y_pred.view(-1), y), right)
# --8<-- [end:trap]

# --8<-- [start:keepdim]
row_mean = X.mean(dim=1, keepdim=True)        # (N, 1): the reduced axis stays, with size 1
assert row_mean.shape == (N, 1) and X.mean(dim=1).shape == (N,)
row_centred = X - row_mean                    # (N, features) - (N, 1) -> (N, features)
loop = torch.stack([X[i] - X[i].mean() for i in range(N)])
torch.testing.assert_close(row_centred, loop, rtol=1e-5, atol=1e-6)  # reductions may sum in another order

assert isinstance(broadcast_error((N, features), (N,)), RuntimeError)  # without keepdim: an error, N != features
S = torch.randn(3, 3, device=device)          # but on a square matrix it runs, and is wrong
assert not torch.allclose(S - S.mean(dim=1), S - S.mean(dim=1, keepdim=True))
assert torch.equal((S - S.mean(dim=1))[:, 1], S[:, 1] - S[1].mean())  # column j minus the mean of row j
# --8<-- [end:keepdim]

# --8<-- [start:summary]
print(f"{len(cases)} shape pairs agree with torch.broadcast_shapes ({n_mismatch} mismatches raise in both)")
print(f"expand: stride {stretched.stride()}, {stretched.untyped_storage().nbytes()} bytes; "
      f"repeat: stride {copied.stride()}, {copied.untyped_storage().nbytes()} bytes")
print(f"MSE of (N, 1) against (N,): {wrong:.4f} (broadcast to {tuple(diff.shape)}), correct {right:.4f}")
print(f"all broadcasting checks passed on {device.type}")
# --8<-- [end:summary]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_shape]
shape = (torch.ones(4, 1, device=device) + torch.ones(3, device=device)).shape
print(shape)
assert shape == (4, 3)  # (4, 1) stretches along columns, (3,) along rows
# --8<-- [end:quiz_shape]

# --8<-- [start:quiz_rows]
try:
    torch.ones(4, 3, device=device) + torch.ones(4, device=device)
    outcome = "it runs"
except RuntimeError as error:
    outcome = f"RuntimeError at non-singleton dimension {str(error).split()[-1]}"
print(outcome)
assert outcome == "RuntimeError at non-singleton dimension 1"  # (4,) meets the last axis, of size 3
# --8<-- [end:quiz_rows]

# --8<-- [start:quiz_trap]
predictions = torch.zeros(5, 1, device=device)  # a model with one output unit
targets = torch.arange(5.0, device=device)
residual = predictions - targets  # no error, no warning
print(residual.shape)
assert residual.shape == (5, 5)
assert torch.equal(residual[2], -targets)  # row i: prediction i (0 here) minus all five targets
# --8<-- [end:quiz_trap]

# --8<-- [start:quiz_expand]
row = torch.arange(3.0, device=device)
wide = row.expand(1000, 3)
print(f"{wide.untyped_storage().nbytes()} bytes, stride {wide.stride()}")
assert wide.untyped_storage().nbytes() == 3 * row.element_size()  # still the 3 original floats
# --8<-- [end:quiz_expand]
