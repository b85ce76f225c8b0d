"""Collaborative filtering: rating = user·item + user bias + item bias, trained on synthetic ratings."""
# --8<-- [start:setup]
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:data]
n_users, n_items, n_true_factors = 200, 100, 3


def make_ratings():
    """Ratings from known tastes and biases, observed for about 20% of (user, item) pairs."""
    user_tastes = torch.randn(n_users, n_true_factors, device=device)
    item_traits = torch.randn(n_items, n_true_factors, device=device)
    user_bias = 0.3 * torch.randn(n_users, device=device)  # some users rate everything a little higher
    item_bias = 1.0 * torch.randn(n_items, device=device)  # popularity: some items nearly everyone likes
    true = 3.0 + 0.5 * user_tastes @ item_traits.T + user_bias[:, None] + item_bias[None, :]  # (users, items)
    users, items = (torch.rand(n_users, n_items, device=device) < 0.2).nonzero(as_tuple=True)
    ratings = true[users, items] + 0.3 * torch.randn(len(users), device=device)  # noise: nobody is consistent
    return true, user_tastes, user_bias, item_bias, users, items, ratings


true, user_tastes, user_bias, item_bias, users, items, ratings = make_ratings()
order = torch.randperm(len(ratings), device=device)
n_train = int(0.8 * len(ratings))
train, valid = order[:n_train], order[n_train:]  # held-out ratings are never seen in training
train_users, train_items, train_ratings = users[train], items[train], ratings[train]
mean = train_ratings.mean()  # the global mean of the training ratings: a fixed offset in every model
# --8<-- [end:data]


# --8<-- [start:model]
def init_params(n_factors, biases=True):
    params = {"user_emb": 0.3 * torch.randn(n_users, n_factors, device=device),  # one row per user
              "item_emb": 0.3 * torch.randn(n_items, n_factors, device=device)}  # one row per item
    if biases:
        params["user_bias"] = torch.zeros(n_users, device=device)
        params["item_bias"] = torch.zeros(n_items, device=device)
    return {name: p.requires_grad_() for name, p in params.items()}


def predict(params, users, items):
    # embedding lookups, one row per rating; index_select(0, idx) is table[idx] with a faster backward on CPU
    p = params["user_emb"].index_select(0, users)
    q = params["item_emb"].index_select(0, items)
    prediction = mean + (p * q).sum(dim=1)  # r̂ = μ + p_u·q_i ...
    if "user_bias" in params:  # ... + b_u + c_i: added after the dot product, not multiplied into it
        prediction = prediction + params["user_bias"].index_select(0, users) + params["item_bias"].index_select(0, items)
    return prediction


def rmse(params, subset):
    with torch.no_grad():
        return F.mse_loss(predict(params, users[subset], items[subset]), ratings[subset]).sqrt()
# --8<-- [end:model]


# --8<-- [start:loop]
def per_pair(params, u, i):
    """The formula for one (user, item) pair, written out."""
    rating = mean + torch.dot(params["user_emb"][u], params["item_emb"][i])
    return rating + params["user_bias"][u] + params["item_bias"][i]


params = init_params(3)
with torch.no_grad():
    for table in params.values():
        table.normal_()  # random values everywhere, so that every term matters in the check
    looped = torch.stack([per_pair(params, u, i) for u, i in zip(users[:20], items[:20])])
    # the dot product sums 3 products in whatever order each kernel likes: float32 tolerance
    torch.testing.assert_close(looped, predict(params, users[:20], items[:20]), rtol=1e-5, atol=1e-5)
# --8<-- [end:loop]


# --8<-- [start:train]
def fit(params, steps=250, lr=0.1, weight_decay=3e-4):
    """Full-batch Adam on the training ratings; mean squared error."""
    opt = torch.optim.Adam(params.values(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        loss = F.mse_loss(predict(params, train_users, train_items), train_ratings)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return params


torch.manual_seed(1)  # every model below starts from the same random draws
full = fit(init_params(3))  # r̂ = μ + p_u·q_i + b_u + c_i
biases_only = fit(init_params(0))  # r̂ = μ + b_u + c_i (zero factors: the dot product is an empty sum)
no_biases = fit(init_params(3, biases=False))  # r̂ = μ + p_u·q_i
results = {
    "global mean": F.mse_loss(mean.expand(len(valid)), ratings[valid]).sqrt(),
    "biases only": rmse(biases_only, valid),
    "dot product, no biases": rmse(no_biases, valid),
    "dot product + biases": rmse(full, valid),
}
for name, value in results.items():
    print(f"held-out RMSE, {name:<24} {value:.3f}")
assert results["dot product + biases"] < results["global mean"] - 0.5
assert results["dot product + biases"] < results["biases only"] - 0.3
assert results["dot product + biases"] < results["dot product, no biases"] - 0.1
# The noise is the floor: even the true, noise-free ratings miss the held-out ones by its standard deviation, 0.3
noise_floor = F.mse_loss(true[users[valid], items[valid]], ratings[valid]).sqrt()
assert noise_floor < results["dot product + biases"] < noise_floor + 0.2  # no model beats it; ours is within 0.2
# The global mean predicts one number, so its RMSE is the held-out ratings' standard deviation, with (μ - their
# mean)² under the root: the means of ~3100 training and ~800 held-out ratings differ by ~0.06, adding < 1%
torch.testing.assert_close(results["global mean"], ratings[valid].std(correction=0), rtol=0.01, atol=0)
# The biases learn what they stand for: who rates generously, what is popular (the true biases are known here)
for learned, truth in ((full["user_bias"], user_bias), (full["item_bias"], item_bias)):
    assert torch.corrcoef(torch.stack([learned.detach(), truth]))[0, 1] > 0.8
# --8<-- [end:train]


# --8<-- [start:biases]
# A bias is a factor whose other side is fixed at 1: [p_u, b_u, 1] · [q_i, 1, c_i] = p_u·q_i + b_u + c_i
ones_u, ones_i = torch.ones(n_users, 1, device=device), torch.ones(n_items, 1, device=device)
as_factors = {"user_emb": torch.cat([full["user_emb"], full["user_bias"][:, None], ones_u], dim=1),
              "item_emb": torch.cat([full["item_emb"], ones_i, full["item_bias"][:, None]], dim=1)}
with torch.no_grad():  # two more terms in the dot product, summed in another order: float32 tolerance
    torch.testing.assert_close(predict(as_factors, users, items), predict(full, users, items), rtol=1e-5, atol=1e-5)
# so a model without biases can imitate them, but it has to spend two factors, and learn the ones
torch.manual_seed(1)
no_biases_5 = fit(init_params(5, biases=False))
results["no biases, 5 factors"] = rmse(no_biases_5, valid)
print(f"held-out RMSE, {'no biases, 5 factors':<24} {results['no biases, 5 factors']:.3f}")
assert results["no biases, 5 factors"] < results["dot product, no biases"] - 0.1
gap_3, gap_5 = (results[name] - results["dot product + biases"] for name in ("dot product, no biases", "no biases, 5 factors"))
assert gap_5 < 0.25 * gap_3  # more than three quarters of the gap to the full model closed
# --8<-- [end:biases]


# --8<-- [start:check]
class DotProductBias(nn.Module):
    """The same model with nn.Embedding tables, as a PyTorch user would write it."""

    def __init__(self, params):
        super().__init__()
        self.user_emb = nn.Embedding.from_pretrained(params["user_emb"].detach().clone(), freeze=False)
        self.item_emb = nn.Embedding.from_pretrained(params["item_emb"].detach().clone(), freeze=False)
        self.user_bias = nn.Embedding.from_pretrained(params["user_bias"].detach()[:, None].clone(), freeze=False)
        self.item_bias = nn.Embedding.from_pretrained(params["item_bias"].detach()[:, None].clone(), freeze=False)

    def forward(self, users, items):
        dot = (self.user_emb(users) * self.item_emb(items)).sum(dim=1)
        return mean + dot + self.user_bias(users).squeeze(1) + self.item_bias(items).squeeze(1)


torch.manual_seed(1)
ours = init_params(3)
reference = DotProductBias(ours)  # same starting values
fit(ours, steps=50)
opt = torch.optim.Adam(reference.parameters(), lr=0.1, weight_decay=3e-4)
for _ in range(50):
    loss = F.mse_loss(reference(train_users, train_items), train_ratings)
    opt.zero_grad()
    loss.backward()
    opt.step()
# Same arithmetic, but the gather and its backward (index vs embedding kernels) add in different orders:
# float32 rounding of a few ulps per step that Adam's normalised steps carry forward. 1e-4 leaves room.
torch.testing.assert_close(reference.user_emb.weight.detach(), ours["user_emb"].detach(), rtol=1e-4, atol=1e-4)
for name in ("user_bias", "item_bias"):  # every parameter, not only the predictions: same model, same values
    torch.testing.assert_close(getattr(reference, name).weight.detach().squeeze(1), ours[name].detach(),
                               rtol=1e-4, atol=1e-4)
with torch.no_grad():
    torch.testing.assert_close(reference(users, items), predict(ours, users, items), rtol=1e-4, atol=1e-4)
# --8<-- [end:check]


# --8<-- [start:matrix]
def predict_all(params):
    """Every user's predicted rating of every item: (users, k) @ (k, items) plus broadcast biases."""
    P, Q = params["user_emb"].detach(), params["item_emb"].detach()
    return mean + P @ Q.T + params["user_bias"].detach()[:, None] + params["item_bias"].detach()[None, :]


R_hat = predict_all(full)  # (200, 3) @ (3, 100) + (200, 1) + (1, 100) -> (200, 100)
assert R_hat.shape == (n_users, n_items)
with torch.no_grad():  # matmul vs elementwise dot: a different summation order, so float32 tolerance
    torch.testing.assert_close(R_hat[users, items], predict(full, users, items), rtol=1e-5, atol=1e-5)


def correlation(a, b):
    return torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1]


seen = torch.zeros(n_users, n_items, dtype=torch.bool, device=device)
seen[train_users, train_items] = True
assert 0.8 < (~seen).float().mean() < 0.88  # about 84% of the matrix: pairs the model never saw
r_unseen = correlation(R_hat[~seen], true[~seen])
assert r_unseen > 0.9
print(f"correlation of predicted and true ratings on never-seen pairs: {r_unseen:.3f}")
# --8<-- [end:matrix]


# --8<-- [start:rotation]
P, Q = full["user_emb"].detach(), full["item_emb"].detach()
O = torch.linalg.qr(torch.randn(3, 3, device=device)).Q  # a random orthogonal matrix: a rotation (or reflection)
# Equal in exact arithmetic; in float32 the products of three factors of order 1 are re-associated and O is
# orthogonal only to rounding: a few ulps, ~1e-6 here, so 1e-4 is generous. inv(A) below adds its own rounding,
# amplified by A's condition number (modest: A is near 3 I), hence 1e-3 there.
torch.testing.assert_close((P @ O) @ (Q @ O).T, P @ Q.T, rtol=1e-4, atol=1e-4)  # O Oᵀ = I: same predictions
torch.testing.assert_close((P @ O).norm(), P.norm(), rtol=1e-4, atol=1e-4)  # and the same weight decay
A = torch.randn(3, 3, device=device) + 3 * torch.eye(3, device=device)  # any invertible A: (P A)(Q A⁻ᵀ)ᵀ = P Qᵀ
torch.testing.assert_close((P @ A) @ (Q @ torch.linalg.inv(A).T).T, P @ Q.T, rtol=1e-3, atol=1e-3)

# So the learned factors are not the true tastes, but they carry them: the best linear map from learned to true
# (least squares, 3 x 3) explains most of the true tastes' variance, and it is not the identity.
to_true = torch.linalg.lstsq(P, user_tastes).solution
explained = 1 - (P @ to_true - user_tastes).pow(2).sum() / (user_tastes - user_tastes.mean(0)).pow(2).sum()
assert explained > 0.8
# the same fraction from torch.var: Σ (x - x̄)² over all users and tastes is n_users × the variance per taste
total = n_users * user_tastes.var(dim=0, correction=0).sum()
torch.testing.assert_close(explained, 1 - torch.linalg.matrix_norm(P @ to_true - user_tastes) ** 2 / total,
                           rtol=1e-5, atol=1e-5)  # float32 sums of 600 squares in two orders
assert not torch.allclose(to_true, torch.eye(3, device=device), atol=0.5)
print(f"true tastes explained by a linear map of the learned factors: {100 * explained:.0f}%")
for t in range(n_true_factors):  # user_tastes ≈ P @ to_true: each true taste is a mix of learned dimensions
    print(f"  true taste {t} ≈ " + " ".join(f"{to_true[j, t]:+.2f} × learned {j}" for j in range(3)))
print(f"all collaborative-filtering checks passed on {device.type}")
# --8<-- [end:rotation]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_rating]
p_u = torch.tensor([1.0, 2.0], device=device)   # a user's tastes
q_i = torch.tensor([3.0, -1.0], device=device)  # an item's traits
mu, b_u, c_i = 3.0, 0.5, 1.0                    # global mean, user bias, item bias
rating = mu + torch.dot(p_u, q_i) + b_u + c_i   # the biases are added after the dot product
print(f"predicted rating {rating:g}")
as_factors_u = torch.cat([p_u, torch.tensor([b_u, 1.0], device=device)])  # [p_u, b_u, 1]
as_factors_i = torch.cat([q_i, torch.tensor([1.0, c_i], device=device)])  # [q_i, 1, c_i]
assert rating == mu + torch.dot(as_factors_u, as_factors_i) == 5.5  # small binary fractions: exact
# --8<-- [end:quiz_rating]

# --8<-- [start:quiz_bias_bug]
P_all, Q_all = full["user_emb"].detach(), full["item_emb"].detach()  # (200, 3), (100, 3)
b_all, c_all = full["user_bias"].detach(), full["item_bias"].detach()  # (200,), (100,)
try:
    P_all @ Q_all.T + b_all + c_all  # (200, 100) + (200,): the user biases meet the items axis
    outcome = "it runs"
except RuntimeError as error:
    outcome = type(error).__name__
fixed = P_all @ Q_all.T + b_all[:, None] + c_all[None, :]
print(f"{outcome}; with user_bias[:, None]: {fixed.shape}")
assert outcome == "RuntimeError" and fixed.shape == (n_users, n_items)
torch.testing.assert_close(fixed[7, 3], P_all[7] @ Q_all[3] + b_all[7] + c_all[3])  # user 7's bias, item 3's
# --8<-- [end:quiz_bias_bug]

# --8<-- [start:quiz_rotation]
O2 = torch.linalg.qr(torch.randn(3, 3, device=device)).Q  # another random rotation (or reflection)
same_predictions = torch.allclose((P @ O2) @ (Q @ O2).T, P @ Q.T, rtol=1e-4, atol=1e-4)  # tolerance as above
same_factors = torch.allclose(P @ O2, P, rtol=1e-4, atol=1e-4)
print(f"predictions unchanged: {same_predictions}; factors unchanged: {same_factors}")
assert same_predictions and not same_factors
# --8<-- [end:quiz_rotation]

# --8<-- [start:quiz_count]
n_params = sum(table.numel() for table in full.values())  # two embedding tables, two bias vectors
print(f"{n_params} parameters for a {n_users * n_items}-entry matrix")
assert n_params == (n_users + n_items) * (3 + 1)  # 3 factors and a bias per user and per item
# --8<-- [end:quiz_count]
