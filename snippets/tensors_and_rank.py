"""Tensors, shapes and rank: ndim, the examples axis, flattening, view vs reshape, -1, squeeze, keepdim."""
# --8<-- [start:setup]
import math

import torch

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:rank]
scalar = torch.tensor(3.0, device=device)                # one number: no axes
coefficients = torch.tensor([3.0, 2], device=device)     # a vector: one axis (the notes' "(3., 2)")
matrix = torch.randn(4, 2, device=device)                # rows and columns: two axes
grey_images = torch.rand(16, 28, 28, device=device)      # a batch of grey images: image, row, column
rgb_images = torch.rand(16, 3, 28, 28, device=device)    # image, channel, row, column

for t, rank in ((scalar, 0), (coefficients, 1), (matrix, 2), (grey_images, 3), (rgb_images, 4)):
    assert t.ndim == t.dim() == len(t.shape) == rank        # rank = number of axes = len(shape)
    assert t.numel() == math.prod(t.shape)                  # a scalar's empty shape () gives prod = 1
assert scalar.shape == () and coefficients.shape == (2,) and grey_images.shape == (16, 28, 28)

len_error = None
try:  # len() is the size of the first axis, and a scalar has none
    len(scalar)
except TypeError as error:
    len_error = error
assert isinstance(len_error, TypeError) and "0-d tensor" in str(len_error)
assert len(grey_images) == grey_images.shape[0] == 16
# --8<-- [end:rank]

# --8<-- [start:examples_axis]
n_examples, n_features = 6, 3
X = torch.randn(n_examples, n_features, device=device)  # one training example per row
assert X[2].shape == (n_features,)           # an integer index removes an axis: example 2 alone, rank 1
assert X[2:3].shape == (1, n_features)       # a slice keeps it: a batch that holds one example, rank 2
per_feature = X.mean(dim=0)                  # reduce over the examples axis: one number per feature
per_example = X.mean(dim=1)                  # reduce over the features axis: one number per example
assert per_feature.shape == (n_features,) and per_example.shape == (n_examples,)
torch.testing.assert_close(per_feature, sum(X[i] for i in range(n_examples)) / n_examples,
                           rtol=1e-6, atol=1e-6)  # float32: a loop may add in another order

W = torch.randn(n_features, 2, device=device)
assert (X @ W).shape == (n_examples, 2)      # a layer keeps the examples axis in front
assert (grey_images.flatten(1) @ torch.randn(784, 10, device=device)).shape == (16, 10)
# --8<-- [end:examples_axis]

# --8<-- [start:matrix_rank]
ones = torch.ones(3, 3, device=device)
identity = torch.eye(3, device=device)
u, v = torch.randn(3, device=device), torch.randn(4, device=device)
outer = torch.outer(u, v)                    # every row is a multiple of v

assert ones.ndim == identity.ndim == outer.ndim == 2         # tensor rank: all three have two axes
assert torch.linalg.matrix_rank(ones) == 1                   # matrix rank: three equal rows, one direction
assert torch.linalg.matrix_rank(identity) == 3               # three independent rows
assert torch.linalg.matrix_rank(outer) == 1
stack = torch.stack([ones, identity])                        # tensor rank 3: a batch of two matrices
assert stack.ndim == 3
assert torch.equal(torch.linalg.matrix_rank(stack), torch.tensor([1, 3], device=device))  # one per matrix
# --8<-- [end:matrix_rank]

# --8<-- [start:layout]
def row_major_strides(shape):
    """How many elements to step in memory to move by one along each axis (last axis fastest)."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size                         # s_t = s_{t+1} d_{t+1}
    return tuple(reversed(strides))


def flat_position(index, shape):
    return sum(i * s for i, s in zip(index, row_major_strides(shape)))  # Σ_t i_t s_t
# --8<-- [end:layout]

# --8<-- [start:layout_check]
for shape in ((), (5,), (4, 2), (28, 28), (16, 28, 28), (16, 3, 28, 28), (2, 1, 3)):
    assert row_major_strides(shape) == torch.empty(shape, device=device).stride(), shape
assert row_major_strides((28, 28)) == (28, 1)  # pixel (r, c) sits at 28 r + c
assert flat_position((5, 11), (28, 28)) == 28 * 5 + 11 == 151
# --8<-- [end:layout_check]

# --8<-- [start:flatten]
images = torch.randint(0, 256, (16, 28, 28), device=device)  # pixel values as image files store them
flat = images.flatten(1)                     # (16, 28, 28) -> (16, 784): keep axis 0, merge the others
assert flat.shape == (16, 784) and flat.ndim == 2
assert torch.equal(flat, images.view(16, 784)) and torch.equal(flat, images.reshape(16, -1))

rows, cols = torch.meshgrid(torch.arange(28, device=device), torch.arange(28, device=device), indexing="ij")
positions = torch.tensor([flat_position((r, c), (28, 28)) for r in range(28) for c in range(28)],
                         device=device)
assert torch.equal(positions, (28 * rows + cols).flatten())  # every pixel: (r, c) -> 28 r + c
assert torch.equal(flat[:, positions], images[:, rows, cols].flatten(1))

r, c = 5, 11
i = 28 * r + c
assert torch.equal(flat[:, i], images[:, i // 28, i % 28])  # and back: row i // 28, column i % 28
assert torch.equal(flat[:, i + 1], images[:, r, c + 1])   # right-hand neighbour: still next door
assert torch.equal(flat[:, i + 28], images[:, r + 1, c])  # neighbour below: 28 positions away
assert torch.equal(flat[:, 28 * r + 27 + 1], images[:, r + 1, 0])  # end of a row, then the next row
assert torch.equal(flat.view(16, 28, 28), images)        # unflattening restores the picture exactly
# --8<-- [end:flatten]

# --8<-- [start:view]
a = torch.arange(12, device=device).reshape(3, 4)
flat_view = a.view(-1)                       # same memory, new shape
assert flat_view.data_ptr() == a.data_ptr()  # no copy was made
flat_view[0] = 100                           # so writing through the view changes a
assert a[0, 0] == 100

at = a.T                                     # transposing is a view too: only the strides swap
assert at.data_ptr() == a.data_ptr() and a.stride() == (4, 1) and at.stride() == (1, 4)
assert a.is_contiguous() and a.stride() == row_major_strides(a.shape)
assert not at.is_contiguous()                # reading at row by row jumps around in memory:
assert [i * at.stride(0) + j * at.stride(1) for i in range(4) for j in range(3)] == [
    0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]     # positions Σ i_t s_t in row order: no single step

view_error = None
try:  # no single stride can walk a.T in row order
    at.view(-1)
except RuntimeError as error:
    view_error = error
assert isinstance(view_error, RuntimeError) and "view size is not compatible" in str(view_error)
print(view_error)

copied = at.reshape(-1)                      # reshape falls back to a copy when a view is impossible
assert copied.data_ptr() != a.data_ptr()
assert torch.equal(copied, at.contiguous().view(-1))  # the same as: copy to row order, then view
copied[0] = -1                               # the copy is independent of a
assert a[0, 0] == 100
assert a.reshape(-1).data_ptr() == a.data_ptr()  # on a contiguous tensor reshape is a view
assert a.flatten().data_ptr() == a.data_ptr() and at.flatten().data_ptr() != a.data_ptr()  # flatten too
# --8<-- [end:view]

# --8<-- [start:infer]
b = torch.arange(12, device=device)
assert b.view(3, -1).shape == (3, 4) and b.view(-1, 6).shape == (2, 6)  # -1: whatever makes 12
assert b.view(2, -1, 3).shape == (2, 2, 3)

def shape_error(*shape):
    """The RuntimeError's message for b.view(*shape), or None if the view works."""
    try:
        b.view(*shape)
    except RuntimeError as error:
        return str(error)
    return None

assert "only one dimension can be inferred" in shape_error(-1, -1)
assert "is invalid for input of size 12" in shape_error(-1, 5)  # 12 is not a multiple of 5
# --8<-- [end:infer]

# --8<-- [start:squeeze]
vec = torch.randn(3, device=device)
assert vec.unsqueeze(0).shape == (1, 3)      # a new axis of size 1 in front: a row
assert vec.unsqueeze(1).shape == (3, 1)      # at the end: a column
assert torch.equal(vec.unsqueeze(1), vec[:, None])  # None in an index does the same
assert vec.unsqueeze(1).squeeze(1).shape == (3,)    # squeeze removes an axis of size 1

one_example = torch.randn(1, 10, device=device)  # a batch holding one example, ten class scores
assert one_example.squeeze().shape == (10,)      # squeeze() drops every size-1 axis: the batch axis too
assert one_example.squeeze(-1).shape == (1, 10)  # naming the axis drops nothing here: its size is 10
column = torch.randn(1, 1, device=device)        # one example, one output
assert column.squeeze().shape == () and column.squeeze(-1).shape == (1,)
# --8<-- [end:squeeze]

# --8<-- [start:keepdim]
scores = torch.rand(n_examples, 4, device=device)     # positive, e.g. counts
total = scores.sum(dim=1)                         # the reduced axis disappears: rank 2 -> rank 1
kept = scores.sum(dim=1, keepdim=True)            # or stays with size 1: rank 2 -> rank 2
assert total.shape == (n_examples,) and kept.shape == (n_examples, 1)
shares = scores / kept                            # (6, 4) / (6, 1): each row divided by its own total
torch.testing.assert_close(shares.sum(dim=1), torch.ones(n_examples, device=device), rtol=1e-5, atol=1e-5)
assert torch.equal(kept, total.unsqueeze(1))      # keepdim=True is unsqueeze after the reduction
# --8<-- [end:keepdim]

# --8<-- [start:summary]
for name, t in (("scalar", scalar), ("vector", coefficients), ("matrix", matrix),
                ("grey batch", grey_images), ("colour batch", rgb_images)):
    print(f"{name:>12}: shape {str(tuple(t.shape)):<16} rank {t.ndim}")
print(f"ones(3, 3): tensor rank {ones.ndim}, matrix rank {torch.linalg.matrix_rank(ones)}")
print(f"all rank and shape checks passed on {device.type}")
# --8<-- [end:summary]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_rank]
colour_batch = torch.rand(16, 3, 28, 28, device=device)  # 16 colour images of 28 x 28 pixels
print(f"rank {colour_batch.ndim}, flattened {colour_batch.flatten(1).shape}")
assert colour_batch.ndim == 4 and colour_batch.flatten(1).shape == (16, 3 * 28 * 28)
# --8<-- [end:quiz_rank]

# --8<-- [start:quiz_matrix_rank]
M = torch.arange(1.0, 5.0, device=device)[:, None] * torch.arange(1.0, 4.0, device=device)  # (4, 3)
print(f"tensor rank {M.ndim}, matrix rank {int(torch.linalg.matrix_rank(M))}")
assert M.ndim == 2 and torch.linalg.matrix_rank(M) == 1
assert M[0].tolist() == [1.0, 2.0, 3.0] and torch.equal(M[3], 4 * M[0])  # row i is i times (1, 2, 3)
# --8<-- [end:quiz_matrix_rank]

# --8<-- [start:quiz_reshape]
a = torch.zeros(2, 3, device=device)
a.T.reshape(-1)[0] = 5.0                     # a.T is not contiguous: reshape copies, the write hits the copy
after_copy = float(a[0, 0])
a.reshape(-1)[0] = 5.0                       # a is contiguous: reshape is a view, the write reaches a
print(f"after a.T.reshape(-1)[0] = 5: {after_copy:g}; after a.reshape(-1)[0] = 5: {float(a[0, 0]):g}")
assert after_copy == 0 and a[0, 0] == 5
# --8<-- [end:quiz_reshape]

# --8<-- [start:quiz_squeeze]
last_batch = torch.randn(1, 1, device=device)  # one example, one output: the last batch of an epoch
print(f"squeeze(): {last_batch.squeeze().shape}, squeeze(1): {last_batch.squeeze(1).shape}")
assert last_batch.squeeze().ndim == 0 and last_batch.squeeze(1).shape == (1,)
# --8<-- [end:quiz_squeeze]
