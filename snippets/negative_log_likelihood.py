"""Negative log-likelihood: the indexing that picks each example's probability, checked against F.nll_loss."""
# --8<-- [start:setup]
import torch
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:indexing]
n, C = 6, 4  # six examples, four classes
logits = torch.randn(n, C, device=device)
prob = logits.softmax(dim=1)  # (n, C): one probability distribution per example
Y = torch.randint(0, C, (n,), device=device)  # the true class of each example

picked = prob[torch.arange(n, device=device), Y]  # pairs (0, Y[0]), (1, Y[1]), ...: shape (n,)
loop = torch.stack([prob[i, Y[i]] for i in range(n)])  # the same, one example at a time
gathered = prob.gather(1, Y[:, None]).squeeze(1)  # the same, with gather along the class axis
assert picked.shape == (n,)
assert torch.equal(picked, loop) and torch.equal(picked, gathered)  # copies of the same numbers: exact
# --8<-- [end:indexing]

# --8<-- [start:wrong_indexing]
wrong = prob[:, Y]  # every row, and for each row the columns Y[0], Y[1], ..., Y[n-1]
assert wrong.shape == (n, n)  # not (n,): an (n, n) matrix
assert torch.equal(wrong.diagonal(), picked)  # only its diagonal pairs example i with label Y[i]
assert torch.equal(wrong[:, 0], prob[:, Y[0]])  # column j: what every example gives to class Y[j]
assert not torch.isclose(-wrong.log().mean(), -picked.log().mean())  # runs, and is a different number
# --8<-- [end:wrong_indexing]


# --8<-- [start:nll]
def nll(log_probs, Y):
    """Mean negative log-likelihood: minus the average log-probability of each example's true class."""
    return -log_probs[torch.arange(len(Y), device=log_probs.device), Y].mean()


loss = -prob[torch.arange(n, device=device), Y].log().mean()  # the notes' line
torch.testing.assert_close(nll(prob.log(), Y), loss, rtol=0, atol=0)  # log then pick = pick then log
# F.nll_loss expects log-probabilities: it only picks and averages; 1e-6 covers the order of the sum
torch.testing.assert_close(F.nll_loss(prob.log(), Y), loss, rtol=1e-6, atol=1e-6)
# F.cross_entropy takes the logits and does log_softmax itself, which rounds slightly differently
torch.testing.assert_close(F.cross_entropy(logits, Y), loss, rtol=1e-5, atol=1e-6)
torch.testing.assert_close(F.cross_entropy(logits, Y), F.nll_loss(F.log_softmax(logits, dim=1), Y))
# --8<-- [end:nll]

# --8<-- [start:likelihood]
likelihood = picked.prod()  # L = Π_i q_{i, Y_i}: the probability the model gives to all six labels
torch.testing.assert_close(likelihood.log(), picked.log().sum(), rtol=1e-5, atol=1e-6)  # log Π = Σ log
torch.testing.assert_close(loss, -likelihood.log() / n, rtol=1e-5, atol=1e-6)  # NLL = -(1/n) log L

flatter = (0.5 * logits).softmax(dim=1)  # a second model: the logits halved
# flatter indeed: halving the logits (temperature 2) raises every row's entropy, -Σ q log q
assert (-(flatter * flatter.log()).sum(dim=1) > -(prob * prob.log()).sum(dim=1)).all()
other = flatter[torch.arange(n, device=device), Y]
# log is increasing, so the model with the larger likelihood has the smaller NLL, always
assert (other.prod() > likelihood) == (-other.log().mean() < loss)
# --8<-- [end:likelihood]

# --8<-- [start:underflow]
many = 2000
q_many = torch.randn(many, C, device=device).softmax(dim=1)
Y_many = torch.randint(0, C, (many,), device=device)
p_many = q_many[torch.arange(many, device=device), Y_many]  # 2000 probabilities, about 1/4 each

log10_likelihood = p_many.log().sum() / torch.log(torch.tensor(10.0, device=device))
# change of base, log10 L = Σ log10 p: float32 sum of 2000 terms against float64, 1e-5 covers the rounding
torch.testing.assert_close(log10_likelihood, p_many.double().log10().sum().float(), rtol=1e-5, atol=0.0)
assert log10_likelihood < -1000  # the true likelihood is below 10^-1000 ...
assert p_many.prod() == 0  # ... float32 cannot go below ~1.4e-45 ...
assert p_many.double().prod() == 0  # ... nor float64 below ~4.9e-324: both return exactly 0
first_zero = (p_many.cumprod(dim=0) == 0).nonzero()[0, 0]  # the running product dies early ...
first_zero64 = (p_many.double().cumprod(dim=0) == 0).nonzero()[0, 0]  # ... in float64 a little later
assert first_zero < 200 and first_zero64 < 1000
mean_log = p_many.log().mean()  # the same information, as an average of 2000 ordinary numbers
assert mean_log.isfinite() and -3 < mean_log < -1
# --8<-- [end:underflow]

# --8<-- [start:fit]
true_probs = torch.tensor([0.5, 0.3, 0.15, 0.05], device=device)
labels = torch.multinomial(true_probs, many, replacement=True)  # 2000 draws from a categorical
theta = torch.zeros(C, device=device, requires_grad=True)  # the model: one logit per class, no input
lr = 2.0
for _ in range(200):
    log_q = F.log_softmax(theta, dim=0).expand(many, C)  # the same distribution for every example
    loss_fit = nll(log_q, labels)
    (grad,) = torch.autograd.grad(loss_fit, theta)  # = softmax(θ) - frequencies
    with torch.no_grad():
        theta -= lr * grad  # θ ← θ - η ∇NLL

freq = torch.bincount(labels, minlength=C).float() / many  # the closed-form MLE: the class frequencies
# 200 steps shrink the distance to the optimum far below this; 1e-5 is float32 rounding of the sums
torch.testing.assert_close(theta.detach().softmax(dim=0), freq, rtol=0, atol=1e-5)
assert 0 < (freq - true_probs).abs().max() < 0.05  # the sample's frequencies, not the true ones
min_nll = -(freq * freq.log()).sum()  # at the MLE the NLL equals the entropy of the frequencies
torch.testing.assert_close(nll(F.log_softmax(theta.detach(), dim=0).expand(many, C), labels), min_nll,
                           rtol=1e-5, atol=1e-5)
# --8<-- [end:fit]

# --8<-- [start:summary]
print(f"picked {picked.cpu().numpy().round(4)}, NLL {loss:.4f}, F.nll_loss {F.nll_loss(prob.log(), Y):.4f}")
print(f"prob[:, Y] has shape {tuple(wrong.shape)}; prob[arange(n), Y] has shape {tuple(picked.shape)}")
print(f"likelihood of {many} labels: 10^{log10_likelihood:.0f}; float32 gives {p_many.prod()}, float64 "
      f"{p_many.double().prod()} (the running product is 0 from example {first_zero}, "
      f"in float64 from {first_zero64}); "
      f"mean log-probability {mean_log:.4f}")
print(f"fitted q {theta.detach().softmax(dim=0).cpu().numpy().round(4)}, "
      f"frequencies {freq.cpu().numpy().round(4)}")
print(f"all NLL checks passed on {device.type}")
# --8<-- [end:summary]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_shapes]
prob5 = torch.randn(5, 3, device=device).softmax(dim=1)  # five examples, three classes
Y5 = torch.tensor([2, 0, 1, 1, 0], device=device)
sliced, paired = prob5[:, Y5], prob5[torch.arange(5, device=device), Y5]
print(f"prob[:, Y] {tuple(sliced.shape)}, prob[torch.arange(5), Y] {tuple(paired.shape)}")
assert sliced.shape == (5, 5) and paired.shape == (5,) and torch.equal(sliced.diagonal(), paired)
# --8<-- [end:quiz_shapes]

# --8<-- [start:quiz_nll_on_probs]
prob2 = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]], device=device)  # probabilities, not their logs
Y2 = torch.tensor([0, 1], device=device)
on_probs, on_logs = F.nll_loss(prob2, Y2), F.nll_loss(prob2.log(), Y2)  # the bug, and the right call
print(f"F.nll_loss(prob, Y) = {on_probs:.3f}, F.nll_loss(prob.log(), Y) = {on_logs:.3f}")
torch.testing.assert_close(on_probs, -prob2[torch.arange(2, device=device), Y2].mean())  # no log is taken
# --8<-- [end:quiz_nll_on_probs]

# --8<-- [start:quiz_underflow]
quarters = torch.full((200,), 0.25, device=device)  # 200 examples, each true class given 1/4
print(f"likelihood {quarters.prod().item()}, mean log-probability {quarters.log().mean():.3f}")
assert quarters.prod() == 0 and quarters.double().prod() > 0  # 4^-200 = 2^-400: below float32, not float64
# --8<-- [end:quiz_underflow]

# --8<-- [start:quiz_best_q]
labels4 = torch.tensor([0, 0, 0, 1], device=device)
candidates = torch.tensor([[0.5, 0.5], [0.75, 0.25], [0.9, 0.1]], device=device)
nlls = torch.stack([nll(q.log().expand(4, 2), labels4) for q in candidates])  # one shared q for every example
print(f"NLL {[round(v, 3) for v in nlls.tolist()]}, best q = {candidates[nlls.argmin()].tolist()}")
assert nlls.argmin() == 1  # the frequencies 3/4 and 1/4: the maximum-likelihood estimate
# --8<-- [end:quiz_best_q]
