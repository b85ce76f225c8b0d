"""Softmax turns scores into probabilities; argmax picks the index of the largest. Checked against torch."""
# --8<-- [start:setup]
import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:softmax]
def softmax(logits, dim=-1):
    # Subtracting the row maximum c changes nothing mathematically (e^{-c} cancels above and
    # below the fraction) but keeps every exponent <= 0, so exp cannot overflow.
    shifted = logits - logits.amax(dim=dim, keepdim=True)  # z_i - c,  c = max_j z_j
    exps = shifted.exp()
    return exps / exps.sum(dim=dim, keepdim=True)  # p_i = e^{z_i - c} / Σ_j e^{z_j - c}


# Ten scores, one per digit 0..9, as a digit classifier's last layer might output them.
digit_logits = torch.tensor([-1.0, 0.5, 1.0, -0.5, 0.2, -2.0, 0.0, 1.5, 5.1, 0.8], device=device)
digit_probs = softmax(digit_logits)
assert (digit_probs >= 0).all()  # e^x > 0, so no probability is negative
torch.testing.assert_close(digit_probs.sum(), torch.tensor(1.0, device=device))  # they sum to 1
torch.testing.assert_close(digit_probs[8], torch.tensor(0.92, device=device), rtol=0, atol=0.005)  # "92% an 8"

assert digit_probs.argmax() == 8  # argmax: the INDEX of the largest entry, not the entry
assert digit_logits.argmax() == 8  # the same index before softmax
assert np.argmax(digit_probs.cpu().numpy()) == 8  # NumPy answers the same question the same way
best = digit_probs.max(dim=0)  # max along a dim returns both: the values and their indices
assert best.indices == 8 and best.values == digit_probs[8]
print("probabilities:", " ".join(f"{p:.3f}" for p in digit_probs))
print(f"argmax = {digit_probs.argmax()}, its probability = {digit_probs.max():.3f}")
# --8<-- [end:softmax]

# --8<-- [start:check]
logits = 3 * torch.randn(64, 10, device=device)  # a batch: 64 rows of 10 class scores
ours = softmax(logits, dim=1)
# Same formula, different float32 rounding (torch's kernel may fuse the steps or multiply by 1/sum):
# a few units in the last place, ~1e-7 relative. rtol=1e-5 leaves ample room; atol=1e-8 keeps
# tiny probabilities honest instead of letting any value below 1e-5 pass.
TOL = dict(rtol=1e-5, atol=1e-8)
torch.testing.assert_close(ours, torch.softmax(logits, dim=1), **TOL)
torch.testing.assert_close(ours, F.softmax(logits, dim=1), **TOL)
torch.testing.assert_close(ours.sum(dim=1), torch.ones(64, device=device), **TOL)
assert (ours < 1e-5).any()  # some probabilities are tiny: the default atol=1e-5 would not see them


def softmax_unshifted(logits, dim=-1):
    exps = logits.exp()  # p_i = e^{z_i} / Σ_j e^{z_j}, the textbook formula as written
    return exps / exps.sum(dim=dim, keepdim=True)


for c in (-20.0, 3.7, 20.0):  # softmax(z) = softmax(z - c) for any constant c
    torch.testing.assert_close(softmax_unshifted(logits - c, dim=1), ours, **TOL)
huge = torch.tensor([1000.0, 999.0, 998.0], device=device)  # e^1000 overflows float32 (max ~3.4e38)
assert softmax_unshifted(huge).isnan().all()  # inf / inf
torch.testing.assert_close(softmax(huge), torch.softmax(huge, dim=0), **TOL)  # the shift saves it
print(f"ours vs torch.softmax on 64x10 logits: max gap {(ours - torch.softmax(logits, dim=1)).abs().max():.1e}")
# --8<-- [end:check]

# --8<-- [start:argmax]
# Softmax never changes which class wins: e^z is strictly increasing and every entry of a row is
# divided by the same positive number. Checked on 2000 random rows at four very different scales.
for scale in (0.1, 1.0, 10.0, 100.0):
    z = scale * torch.randn(500, 10, device=device)
    p = softmax(z, dim=1)
    assert torch.equal(p.argmax(dim=1), z.argmax(dim=1))
    # Not just the winner: no pair is ever put in the opposite order (z_i > z_j implies p_i >= p_j).
    # ">=", because rounding may merge two values, e.g. e^{-500} underflows to 0 at scale 100.
    larger = z[:, :, None] > z[:, None, :]  # (500, 10, 10): every ordered pair in every row
    assert (p[:, :, None] >= p[:, None, :])[larger].all()
    if scale == 100.0:
        assert (p == 0).float().mean() > 0.5  # most probabilities underflow to exactly 0 here

# Ties: equal scores give equal probabilities, and argmax returns the FIRST index of the maximum.
tied = torch.tensor([2.0, 5.0, 5.0, 1.0], device=device)
tied_probs = softmax(tied)
assert tied_probs[1] == tied_probs[2]
assert tied.argmax() == tied_probs.argmax() == 1
assert np.argmax(tied_probs.cpu().numpy()) == 1  # NumPy breaks ties the same way

# Rounding can create a tie that the scores did not have: e^{-1e-8} rounds to 1.0 in float32.
near_tie = torch.tensor([0.0, 1e-8], device=device)
near_tie_probs = softmax(near_tie)
assert near_tie.argmax() == 1 and near_tie_probs[0] == near_tie_probs[1]
assert near_tie_probs.argmax() == 0  # an exact tie now, so the first index wins
# --8<-- [end:argmax]

# --8<-- [start:temperature]
def softmax_with_temperature(logits, T, dim=-1):
    return softmax(logits / T, dim=dim)  # p_i = e^{z_i/T} / Σ_j e^{z_j/T}


temperatures = (0.5, 1.0, 2.0, 5.0)
confidence = []  # the largest probability in each row, per temperature
for T in temperatures:
    p = softmax_with_temperature(logits, T, dim=1)
    assert torch.equal(p.argmax(dim=1), logits.argmax(dim=1))  # T > 0 never changes the winner
    confidence.append(p.amax(dim=1))
for hotter, colder in zip(confidence[1:], confidence[:-1]):
    assert (hotter < colder).all()  # a higher T flattens every row: the top probability falls

K = digit_logits.numel()
cold = softmax_with_temperature(digit_logits, 0.05)  # T -> 0: all mass on the argmax (one-hot)
hot = softmax_with_temperature(digit_logits, 1000.0)  # T -> infinity: uniform, 1/K each
# at T = 0.05 the runner-up is 72 logit units behind: e^-72 ~ 1e-31, one-hot to float32's precision;
# at T = 1000 the scaled logits span 0.007, so every probability is 0.1 e^(±0.007), within 1e-3 of 1/K
torch.testing.assert_close(cold, F.one_hot(torch.tensor(8, device=device), K).float(), rtol=0, atol=1e-6)
torch.testing.assert_close(hot, torch.full((K,), 1 / K, device=device), rtol=0, atol=1e-3)
print("probability of the 8 at T = " + ", ".join(
    f"{T}: {softmax_with_temperature(digit_logits, T)[8]:.3f}" for T in temperatures))
# --8<-- [end:temperature]

# --8<-- [start:batch]
# A toy "model" for 2000 examples: noise, plus +2 on the true class's score, so it usually wins.
n = 2000
labels = torch.randint(0, 10, (n,), device=device)  # the true class of each example
scores = torch.randn(n, 10, device=device) + 2.0 * F.one_hot(labels, 10)  # (2000, 10) logits
probs = softmax(scores, dim=1)  # (2000, 10)
predicted = probs.argmax(dim=1)  # (2000,): one class index per row; dim=1 runs across the classes
assert predicted.shape == (n,)
assert torch.equal(predicted[:50], torch.stack([row.argmax() for row in probs[:50]]))  # row by row
accuracy = (predicted == labels).float().mean()  # fraction of rows whose top class is the label
assert 0.6 < accuracy < 0.75  # right about two times in three

assert torch.equal(scores.argmax(dim=1), predicted)  # skipping softmax gives the same predictions
flat_index = scores.argmax()  # no dim: ONE index into the flattened (2000 * 10) tensor
assert flat_index.ndim == 0 and scores.flatten()[flat_index] == scores.max()
print(f"first predictions {predicted[:8].tolist()}, labels {labels[:8].tolist()}, accuracy {accuracy:.3f}")
# --8<-- [end:batch]

# --8<-- [start:calibration]
accuracy_at, confidence_at = {}, {}
for scale in (0.25, 1.0, 4.0):  # the same scores times a constant (softmax at temperature T = 1/scale)
    p = softmax(scale * scores, dim=1)
    accuracy_at[scale] = (p.argmax(dim=1) == labels).float().mean()
    confidence_at[scale] = p.amax(dim=1).mean()  # average "probability" of the predicted class
assert accuracy_at[0.25] == accuracy_at[1.0] == accuracy_at[4.0] == accuracy  # same predictions...
assert confidence_at[0.25] < 0.2 < accuracy  # ...reported with far too little confidence
assert confidence_at[4.0] > 0.8 > accuracy  # ...or with too much
print(f"accuracy {accuracy:.2f} at every scale; mean top probability "
      + ", ".join(f"x{s}: {c:.2f}" for s, c in confidence_at.items()))
# --8<-- [end:calibration]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_argmax]
scores4 = torch.tensor([0.5, 3.0, -1.0, 2.0], device=device)
print(f"argmax {scores4.argmax()}, max {scores4.max():.1f}")
assert scores4.argmax() == 1 and scores4.max() == 3.0  # where the largest entry is, and what it is
# --8<-- [end:quiz_argmax]

# --8<-- [start:quiz_scale]
z = torch.tensor([2.0, 1.0, 0.0], device=device)
p1, p10 = softmax(z), softmax(10 * z)  # the same logits, and the same logits ten times larger
print(f"argmax {p1.argmax()} and {p10.argmax()}; top probability {p1.max():.3f} and {p10.max():.3f}")
assert p1.argmax() == p10.argmax() == 0  # the same prediction ...
assert p1.max() < 0.7 and p10.max() > 0.999  # ... announced with very different confidence
# --8<-- [end:quiz_scale]

# --8<-- [start:quiz_no_dim]
batch_logits = torch.randn(4, 3, device=device)  # 4 examples, 3 classes
flat = batch_logits.argmax()  # the bug: no dim
per_row = batch_logits.argmax(dim=1)
print(f"argmax() shape {tuple(flat.shape)}, argmax(dim=1) shape {tuple(per_row.shape)}")
assert flat.shape == () and per_row.shape == (4,) and 0 <= flat < 12  # one index into all 12 entries
# --8<-- [end:quiz_no_dim]

# --8<-- [start:quiz_overflow]
large = torch.tensor([1000.0, 999.0], device=device)
textbook, shifted = softmax_unshifted(large), softmax(large)
print(f"textbook {textbook.tolist()}, shifted {[round(v, 3) for v in shifted.tolist()]}")
assert textbook.isnan().all()  # e^1000 = inf, and inf / inf = nan
torch.testing.assert_close(shifted, torch.softmax(large, dim=0), **TOL)  # what PyTorch gives, as for [1, 0]
# --8<-- [end:quiz_overflow]
