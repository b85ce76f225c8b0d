"""Embeddings: an array lookup that equals a one-hot vector times a matrix, checked against nn.Embedding."""
# --8<-- [start:setup]
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]


# --8<-- [start:lookup]
def embed_by_one_hot(idx, W):
    one_hot = F.one_hot(idx, num_classes=W.shape[0]).float()  # (batch, vocab): a single 1 in each row
    return one_hot @ W  # out_i = Σ_v onehot_iv W_v = W_{idx_i}: every other row is multiplied by 0


def embed_by_lookup(idx, W):
    return W[idx]  # the same rows, copied out of the table: no one-hot, no multiplications


vocab, dim = 10, 4
W = torch.randn(vocab, dim, device=device)  # the lookup table: one row of `dim` numbers per category
idx = torch.tensor([3, 1, 3, 7, 0], device=device)  # a batch of category ids; 3 appears twice
# 1·w + 0·(other rows) is exact in floating point, so the two agree bit for bit
assert torch.equal(embed_by_one_hot(idx, W), embed_by_lookup(idx, W))
assert embed_by_lookup(idx, W).shape == (5, dim)
sentences = torch.randint(0, vocab, (2, 6), device=device)  # any shape of ids: (2, 6) -> (2, 6, dim)
assert embed_by_lookup(sentences, W).shape == (2, 6, dim)
assert torch.equal(embed_by_lookup(sentences, W), embed_by_one_hot(sentences, W))
# --8<-- [end:lookup]

# --8<-- [start:check]
embedding = nn.Embedding(vocab, dim).to(device)
with torch.no_grad():
    embedding.weight.copy_(W)  # same table
assert torch.equal(embedding(idx), embed_by_lookup(idx, W))
assert torch.equal(F.embedding(idx, W), embed_by_lookup(idx, W))

# A categorical variable fed to a linear layer as one-hot columns is the same thing:
# nn.Linear(vocab, dim, bias=False) on one-hot input is an embedding whose table is the layer's weight, transposed.
linear = nn.Linear(vocab, dim, bias=False).to(device)
one_hot = F.one_hot(idx, num_classes=vocab).float()
assert torch.equal(linear(one_hot), F.embedding(idx, linear.weight.T))
print(f"lookup == one-hot @ W == nn.Embedding == F.embedding, exactly, for ids {idx.tolist()}")
# --8<-- [end:check]

# --8<-- [start:gradients]
upstream = torch.randn(len(idx), dim, device=device)  # ∂L/∂out, what the layers above send back


def table_gradient(embed, idx, W):
    """∂L/∂W for L = Σ out ⊙ upstream, so that ∂L/∂out = upstream."""
    W = W.clone().requires_grad_()
    (embed(idx, W) * upstream).sum().backward()
    return W.grad


grad_lookup = table_gradient(embed_by_lookup, idx, W)
grad_one_hot = table_gradient(embed_by_one_hot, idx, W)  # = one_hotᵀ @ upstream
assert torch.equal(grad_lookup, grad_one_hot)

used = torch.zeros(vocab, dtype=torch.bool, device=device)
used[idx] = True
assert (grad_lookup[~used] == 0).all()  # rows nobody looked up get exactly zero gradient
expected = torch.zeros(vocab, dim, device=device)
for position, row in enumerate(idx.tolist()):  # every occurrence adds its upstream gradient to its row
    expected[row] += upstream[position]
assert torch.equal(grad_lookup, expected)
assert torch.equal(grad_lookup[3], upstream[0] + upstream[2])  # id 3 was used twice

embedding(idx).mul(upstream).sum().backward()  # and nn.Embedding's backward does the same
assert torch.equal(embedding.weight.grad, grad_lookup)

# Many repeats: the sums are then added in different orders, so compare at float32 tolerance
many = torch.randint(0, vocab, (64,), device=device)
upstream = torch.randn(64, dim, device=device)
torch.testing.assert_close(table_gradient(embed_by_lookup, many, W), table_gradient(embed_by_one_hot, many, W),
                           rtol=1e-5, atol=1e-5)
# --8<-- [end:gradients]

# --8<-- [start:memory]
big_vocab, batch, big_dim = 50_000, 1024, 64
one_hot_bytes = batch * big_vocab * torch.float32.itemsize  # the (batch, vocab) one-hot matrix, never built
index_bytes = batch * torch.int64.itemsize  # the ids themselves
assert one_hot_bytes == 204_800_000 and index_bytes == 8_192
matmul_flops = 2 * batch * big_vocab * big_dim  # one multiply and one add per one-hot entry and output column
copied = batch * big_dim  # the lookup copies batch rows of dim numbers
assert matmul_flops == 6_553_600_000 and copied == 65_536
dense_grad_bytes = big_vocab * big_dim * torch.float32.itemsize  # a dense ∂L/∂W: the whole table, every step
sparse_grad_bytes = batch * (torch.int64.itemsize + big_dim * torch.float32.itemsize)  # an id and a row per lookup
assert dense_grad_bytes == 12_800_000 and sparse_grad_bytes == 270_336
# the formula, on a size small enough to build
small = F.one_hot(torch.randint(0, 1000, (64,), device=device), num_classes=1000).float()
assert small.nbytes == 64 * 1000 * torch.float32.itemsize
print(f"one-hot ({batch}, {big_vocab}) float32: {one_hot_bytes / 2**20:.1f} MiB; ids: {index_bytes / 2**10:.0f} KiB")
print(f"one-hot @ W: {matmul_flops / 1e9:.1f} GFLOP; lookup: {copied:,} numbers copied")
print(f"gradient of the table: dense {dense_grad_bytes / 1e6:.1f} MB, sparse at most {sparse_grad_bytes / 1e3:.1f} kB")
# --8<-- [end:memory]

# --8<-- [start:sparse]
sparse_embedding = nn.Embedding(vocab, dim, sparse=True).to(device)
with torch.no_grad():
    sparse_embedding.weight.copy_(W)
upstream = torch.randn(len(idx), dim, device=device)
sparse_embedding(idx).mul(upstream).sum().backward()
grad = sparse_embedding.weight.grad
assert grad.layout == torch.sparse_coo and not grad.is_coalesced()  # one entry per lookup, 3 stored twice
grad = grad.coalesce()  # add up the duplicates
assert torch.equal(grad.indices()[0], idx.unique())  # only the rows that were used: 0, 1, 3, 7
assert grad.values().shape == (4, dim)  # 4 rows stored instead of vocab = 10
assert torch.equal(grad.to_dense(), table_gradient(embed_by_lookup, idx, W))

# SGD applies a sparse gradient to the used rows only; Adam refuses it (SparseAdam exists for this)
before = sparse_embedding.weight.detach().clone()
torch.optim.SGD(sparse_embedding.parameters(), lr=0.1).step()
after = sparse_embedding.weight.detach()
assert torch.equal(after[~used], before[~used])  # rows no id pointed at are left exactly as they were
torch.testing.assert_close(after[used], before[used] - 0.1 * grad.to_dense()[used])  # w ← w − lr g
adam_error = None
try:
    torch.optim.Adam(sparse_embedding.parameters()).step()
except RuntimeError as error:
    adam_error = error
assert isinstance(adam_error, RuntimeError) and "SparseAdam" in str(adam_error)  # refuses, points to SparseAdam
before = sparse_embedding.weight.detach().clone()
torch.optim.SparseAdam(sparse_embedding.parameters(), lr=0.1).step()  # Adam's averages, for the used rows only
assert torch.equal(sparse_embedding.weight[~used], before[~used])
assert not torch.equal(sparse_embedding.weight[used], before[used])
# --8<-- [end:sparse]

# --8<-- [start:misconception]
fresh = nn.Embedding(1000, 16).to(device)  # before any training: just random numbers, N(0, 1)
assert isinstance(fresh.weight, nn.Parameter) and fresh.weight.requires_grad
assert abs(fresh.weight.mean()) < 0.05 and abs(fresh.weight.std() - 1) < 0.05
pretrained = nn.Embedding.from_pretrained(W)  # "pretrained" = a table someone else trained, loaded in
assert torch.equal(pretrained(idx), W[idx]) and not pretrained.weight.requires_grad  # frozen by default

# Meaning comes from training. Eight categories in two hidden groups (0-3 and 4-7); the only signal is
# whether two categories belong together (+1) or not (-1), predicted by the dot product of their vectors.
group = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1], device=device)
together = (group[:, None] == group[None, :]).float() * 2 - 1  # (8, 8) targets, +1 or -1
table = nn.Embedding(8, 4).to(device)
start = F.normalize(table.weight.detach(), dim=1)
cosine_before = start @ start.T  # cosine similarity of every pair of vectors, before training
opt = torch.optim.Adam(table.parameters(), lr=0.1)
for _ in range(100):
    vectors = table.weight
    loss = F.mse_loss(vectors @ vectors.T, together)  # every pair's dot product against its target
    opt.zero_grad()
    loss.backward()
    opt.step()
vectors = F.normalize(table.weight.detach(), dim=1)
cosine = vectors @ vectors.T
same = (together > 0) & ~torch.eye(8, dtype=torch.bool, device=device)  # pairs of different categories
assert cosine[same].min() > 0.5 and cosine[together < 0].max() < -0.5  # the groups now show in the geometry
for when, c in (("before", cosine_before), ("after", cosine)):
    print(f"{when} training: cosine within groups {c[same].min():+.2f} to {c[same].max():+.2f}, "
          f"across groups {c[together < 0].min():+.2f} to {c[together < 0].max():+.2f}")
print(f"all embedding checks passed on {device.type}")
# --8<-- [end:misconception]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_shape]
words = nn.Embedding(100, 8).to(device)      # 100 words, 8 numbers each
ids = torch.randint(0, 100, (32, 20), device=device)  # 32 sentences of 20 word ids
print(words(ids).shape)
assert words(ids).shape == (32, 20, 8)       # one vector per id: the ids' shape, plus one axis
# --8<-- [end:quiz_shape]

# --8<-- [start:quiz_grad]
W6 = torch.randn(6, 4, device=device, requires_grad=True)  # a table of 6 rows
W6[torch.tensor([2, 5, 2], device=device)].sum().backward()  # L = sum of everything looked up
print(W6.grad[:, 0].tolist())
assert torch.equal(W6.grad, W6.grad[:, :1].expand(6, 4))  # every column alike: the count of each id
assert W6.grad[:, 0].tolist() == [0.0, 0.0, 2.0, 0.0, 0.0, 1.0]
# --8<-- [end:quiz_grad]

# --8<-- [start:quiz_trainable]
new_table = nn.Embedding(50, 3).to(device)
loaded = nn.Embedding.from_pretrained(new_table.weight.detach().clone())
print(f"nn.Embedding: trainable {new_table.weight.requires_grad}; "
      f"from_pretrained: trainable {loaded.weight.requires_grad}")
assert new_table.weight.requires_grad and not loaded.weight.requires_grad
# --8<-- [end:quiz_trainable]

# --8<-- [start:quiz_sparse]
sparse_table = nn.Embedding(10, 4, sparse=True).to(device)
sparse_table(idx).sum().backward()           # weight.grad is a sparse tensor
try:
    torch.optim.Adam(sparse_table.parameters()).step()
    outcome = "Adam takes the step"
except RuntimeError as error:
    outcome = f"RuntimeError, points to SparseAdam: {'SparseAdam' in str(error)}"
print(outcome)
assert outcome.startswith("RuntimeError")
# --8<-- [end:quiz_sparse]
