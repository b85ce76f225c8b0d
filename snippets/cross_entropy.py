"""Softmax and cross-entropy from scratch, stable on large logits, checked against F.cross_entropy."""
# --8<-- [start:setup]
import torch
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]


# --8<-- [start:distributions]
# xlogy(a, b) = a log b, but 0 where a = 0: the convention 0 log 0 = 0 (its limit)
def entropy(p):
    return -torch.xlogy(p, p).sum()  # H(p) = -Σ p log p


def cross_entropy_pq(p, q):
    return -torch.xlogy(p, q).sum()  # H(p, q) = -Σ p log q


def kl(p, q):
    return torch.xlogy(p, p / q).sum()  # KL(p‖q) = Σ p log(p/q)


p = torch.softmax(torch.randn(5, device=device), dim=0)  # two distributions over five classes
q = torch.softmax(torch.randn(5, device=device), dim=0)
# float32 sums of five terms of order 1: a few ulps apart at most
tol = dict(rtol=1e-5, atol=1e-6)
torch.testing.assert_close(cross_entropy_pq(p, q), entropy(p) + kl(p, q), **tol)  # H(p,q) = H(p) + KL(p‖q)
torch.testing.assert_close(kl(p, q), F.kl_div(q.log(), p, reduction="sum"), **tol)  # F.kl_div takes log q first
torch.testing.assert_close(entropy(p), torch.distributions.Categorical(probs=p).entropy(), **tol)
# --8<-- [end:distributions]

# --8<-- [start:not_a_distance]
assert not torch.isclose(cross_entropy_pq(p, q), cross_entropy_pq(q, p))  # H(p,q) ≠ H(q,p)
assert not torch.isclose(kl(p, q), kl(q, p))  # KL is not symmetric either
torch.testing.assert_close(cross_entropy_pq(p, p), entropy(p))  # H(p,p) = H(p) ...
assert entropy(p) > 0.1  # ... which is not 0 for this p, spread over five classes
assert cross_entropy_pq(p, q) > cross_entropy_pq(p, p)  # p is the q that minimises H(p, q): Gibbs

target = F.one_hot(torch.tensor(2, device=device), num_classes=5).float()  # a one-hot p: a sure thing
assert cross_entropy_pq(target, target) == 0  # H(p,p) = H(p) = 0: exactly 0 here (0·log 0 = 0, 1·log 1 = 0)
assert cross_entropy_pq(target, q) > 0  # and above 0 for any q ≠ p: zero only when p is one-hot AND q = p

bern = lambda a: torch.tensor([a, 1 - a], device=device)  # a coin with heads-probability a
a, b, c = bern(0.3), bern(0.5), bern(0.7)
assert kl(a, c) > kl(a, b) + kl(b, c)  # no triangle inequality: 0.34 > 0.08 + 0.09
# the page quotes the three values to three decimals, so they may differ from them by up to 5e-4
torch.testing.assert_close(torch.stack([kl(a, c), kl(a, b), kl(b, c)]),
                           torch.tensor([0.339, 0.082, 0.087], device=device), rtol=0, atol=5e-4)
# --8<-- [end:not_a_distance]

# --8<-- [start:one_hot]
y = torch.tensor(2, device=device)
onehot = F.one_hot(y, num_classes=5).float()
# 0 · log q_c = 0 for every wrong class, so only the true class survives: H(onehot, q) = -log q_y
torch.testing.assert_close(cross_entropy_pq(onehot, q), -q[y].log())
torch.testing.assert_close(entropy(onehot), torch.tensor(0.0, device=device))  # a sure thing: H = 0
# --8<-- [end:one_hot]


# --8<-- [start:naive]
def softmax_naive(z):
    e = z.exp()  # e^{z_c}
    return e / e.sum(dim=-1, keepdim=True)  # softmax_c = e^{z_c} / Σ_k e^{z_k}


edges = torch.tensor([88.7, 88.8, -105.0], device=device).exp()
assert edges[0].isfinite() and edges[1].isinf() and edges[2] == 0  # float32's exp: inf above ~88.7, 0 below ~-104
big = torch.tensor([1000.0, 999.0, 998.0], device=device)
assert big.exp().isinf().all()  # e^1000 ≈ 10^434: far beyond float32's 3.4·10^38
assert softmax_naive(big).isnan().all()  # inf / inf = nan
far = torch.tensor([0.0, -200.0], device=device)
assert softmax_naive(far)[1] == 0  # e^-200 ≈ 10^-87 underflows to 0 ...
assert softmax_naive(far).log()[1] == -float("inf")  # ... and log 0 = -inf, though the answer is -200
# --8<-- [end:naive]


# --8<-- [start:stable]
def logsumexp(z):
    m = z.max(dim=-1, keepdim=True).values  # subtract the largest logit: every exponent is ≤ 0
    return m.squeeze(-1) + (z - m).exp().sum(dim=-1).log()  # log Σ e^{z_k} = m + log Σ e^{z_k - m}


def log_softmax(z):
    m = z.max(dim=-1, keepdim=True).values
    shifted = z - m  # softmax is unchanged by adding a constant to every logit
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()  # log softmax_c = z_c - logsumexp(z)


ordinary = 3 * torch.randn(8, 5, device=device)
huge = 1000 + torch.randn(8, 5, device=device)  # logits around 1000, as an unnormalised model may emit
for z in (ordinary, huge, far):
    # float32; torch computes the same shifted sums, maybe in another order: a few ulps. Near 1000
    # one ulp is 6e-5, so a relative tolerance is the one that matters for logsumexp there
    torch.testing.assert_close(logsumexp(z), torch.logsumexp(z, dim=-1), rtol=1e-6, atol=1e-5)
    torch.testing.assert_close(log_softmax(z), F.log_softmax(z, dim=-1), rtol=1e-6, atol=1e-5)
assert log_softmax(far)[1] == -200  # exactly right where log(softmax) gave -inf
torch.testing.assert_close(log_softmax(big), log_softmax(big - 998))  # same as for logits 2, 1, 0
assert torch.nextafter(big[0], big[0] + 1) - big[0] == 2**-14  # one float32 step at 1000: 6.1e-5
# --8<-- [end:stable]


# --8<-- [start:cross_entropy]
def cross_entropy(z, target, label_smoothing=0.0):
    """Mean cross-entropy of logits z (N, C) against class indices (N,) or probabilities (N, C)."""
    logq = log_softmax(z)
    n, classes = z.shape
    if target.dtype == torch.long:  # class indices: the one-hot case, -log q_y
        if label_smoothing == 0.0:
            return -logq[torch.arange(n, device=z.device), target].mean()
        target = F.one_hot(target, classes).float()
    # smoothing mixes the target with the uniform distribution: (1 - ε) p + ε / C
    target = (1 - label_smoothing) * target + label_smoothing / classes
    return -(target * logq).sum(dim=1).mean()  # (1/N) Σ_i H(p_i, q_i)


labels = torch.randint(0, 5, (8,), device=device)
soft = torch.softmax(torch.randn(8, 5, device=device), dim=1)  # probability targets, one row per example
for z in (ordinary, huge):
    torch.testing.assert_close(cross_entropy(z, labels), F.cross_entropy(z, labels), **tol)
    torch.testing.assert_close(cross_entropy(z, soft), F.cross_entropy(z, soft), **tol)
    torch.testing.assert_close(cross_entropy(z, labels, label_smoothing=0.1),
                               F.cross_entropy(z, labels, label_smoothing=0.1), **tol)
    torch.testing.assert_close(cross_entropy(z, soft, label_smoothing=0.1),
                               F.cross_entropy(z, soft, label_smoothing=0.1), **tol)
smoothed = 0.9 * F.one_hot(labels, 5).float() + 0.1 / 5  # the target that label_smoothing=0.1 trains towards
perfect = F.cross_entropy(smoothed.log(), labels, label_smoothing=0.1)  # a model that predicts it exactly
torch.testing.assert_close(perfect, entropy(smoothed[0]), **tol)  # its loss is H(p) ...
assert 0.38 < perfect < 0.40  # ... ≈ 0.39, not 0
naive = -softmax_naive(huge)[torch.arange(8, device=device), labels].log().mean()
assert naive.isnan() and cross_entropy(huge, labels).isfinite()  # same formula, computed stably

s = torch.randn(8, device=device)  # one logit per example: binary classification
t = torch.randint(0, 2, (8,), device=device)
two_class = torch.stack([torch.zeros_like(s), s], dim=1)  # sigmoid(s) = softmax([0, s])[1]
torch.testing.assert_close(F.binary_cross_entropy_with_logits(s, t.float()), cross_entropy(two_class, t), **tol)
# --8<-- [end:cross_entropy]

# --8<-- [start:gradient]
for target in (labels, soft):
    z = ordinary.clone().requires_grad_()
    F.cross_entropy(z, target).backward()
    p_target = F.one_hot(target, 5).float() if target.dtype == torch.long else target
    # ∂L/∂z = (softmax(z) - p) / N: predicted minus wanted, for every logit of every example
    expected = (torch.softmax(ordinary, dim=1) - p_target) / len(ordinary)
    torch.testing.assert_close(z.grad, expected, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(z.grad.sum(dim=1), torch.zeros(8, device=device), rtol=0, atol=1e-6)  # Σ_c = 1 - 1
    assert z.grad.abs().max() <= 1 / len(ordinary)  # bounded by 1/N, however wrong the model
# --8<-- [end:gradient]

# --8<-- [start:summary]
print(f"H(p) = {entropy(p):.4f}, KL(p‖q) = {kl(p, q):.4f}, H(p,q) = {cross_entropy_pq(p, q):.4f}, "
      f"H(q,p) = {cross_entropy_pq(q, p):.4f}")
print(f"naive softmax of {big.tolist()}: {softmax_naive(big).tolist()}")
print(f"stable log_softmax of the same: {[round(v, 4) for v in log_softmax(big).tolist()]}")
print(f"cross-entropy on logits near 1000: ours {cross_entropy(huge, labels):.4f}, "
      f"F.cross_entropy {F.cross_entropy(huge, labels):.4f}, naive {naive:.4f}")
print(f"all cross-entropy checks passed on {device.type}")
# --8<-- [end:summary]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_floor]
fair_coin = torch.tensor([0.5, 0.5], device=device)  # a soft target, and a model that predicts exactly it
print(f"H(p, p) = {cross_entropy_pq(fair_coin, fair_coin):.4f}")
torch.testing.assert_close(cross_entropy_pq(fair_coin, fair_coin), torch.tensor(2.0, device=device).log())  # log 2
# --8<-- [end:quiz_floor]

# --8<-- [start:quiz_swap]
skewed = torch.tensor([0.9, 0.1], device=device)
uniform = torch.tensor([0.5, 0.5], device=device)
print(f"H(p, q) = {cross_entropy_pq(skewed, uniform):.4f}, H(q, p) = {cross_entropy_pq(uniform, skewed):.4f}")
assert cross_entropy_pq(uniform, skewed) > cross_entropy_pq(skewed, uniform) + 0.5  # not symmetric
# --8<-- [end:quiz_swap]

# --8<-- [start:quiz_softmax_first]
confident = torch.tensor([[10.0, 0.0, 0.0]], device=device)  # sure of class 0, and right
label = torch.tensor([0], device=device)
right_way = cross_entropy(confident, label)
softmax_first = F.cross_entropy(torch.softmax(confident, dim=1), label)  # the bug: softmax, then softmax again
print(f"from logits: {right_way:.4f}, softmax first: {softmax_first:.4f}")
assert right_way < 1e-3 and softmax_first > 0.5  # the doubled softmax squeezes the probabilities together
# --8<-- [end:quiz_softmax_first]

# --8<-- [start:quiz_gradient]
z3 = torch.tensor([[2.0, 1.0, 0.0]], device=device, requires_grad=True)
cross_entropy(z3, torch.tensor([0], device=device)).backward()
print("gradient [" + ", ".join(f"{g:.3f}" for g in z3.grad[0].tolist()) + "]")
torch.testing.assert_close(z3.grad, torch.softmax(z3.detach(), dim=1) - F.one_hot(label, 3).float())  # q - p
# --8<-- [end:quiz_gradient]
