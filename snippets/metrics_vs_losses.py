"""Metrics vs losses: accuracy, error rate, RMSE, MAE and R², and why accuracy cannot be trained on."""
# --8<-- [start:setup]
import torch
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:accuracy]
def accuracy(logits, y):
    return (logits.argmax(dim=1) == y).float().mean()  # fraction of examples whose top class is right


def error_rate(logits, y):
    return (logits.argmax(dim=1) != y).float().mean()  # fraction of examples whose top class is wrong


N, features, classes = 64, 4, 3
X = torch.randn(N, features, device=device)
W_true = torch.randn(features, classes, device=device)
y = (X @ W_true + 0.5 * torch.randn(N, classes, device=device)).argmax(dim=1)  # labels, a little noisy
W = (W_true + 0.5 * torch.randn(features, classes, device=device)).requires_grad_()  # an imperfect model
logits = X @ W

acc = accuracy(logits, y)
right = sum(int(logits[i].argmax() == y[i]) for i in range(N))  # count by hand, one example at a time
# a mean of 64 zeros and ones is k/64, which float32 stores exactly, as it does 1 - k/64: no tolerance
torch.testing.assert_close(acc, torch.tensor(right / N, device=device), rtol=0, atol=0)
torch.testing.assert_close(error_rate(logits, y), 1 - acc, rtol=0, atol=0)  # error rate = 1 - accuracy
print(f"accuracy {acc:.4f}, error rate {error_rate(logits, y):.4f} ({right} of {N} right)")
# --8<-- [end:accuracy]


# --8<-- [start:regression]
def rmse(pred, target):
    return ((pred - target) ** 2).mean().sqrt()  # √((1/N) Σ e_i²): in the target's units


def mae(pred, target):
    return (pred - target).abs().mean()  # (1/N) Σ |e_i|


def r2(pred, target):
    sse = ((target - pred) ** 2).sum()  # what the model leaves unexplained
    sst = ((target - target.mean()) ** 2).sum()  # what predicting the mean leaves unexplained
    return 1 - sse / sst  # R² = 1 - SSE/SST


Xr = torch.randn(50, 3, device=device)
yr = Xr @ torch.tensor([1.5, -2.0, 0.5], device=device) + 3 + 0.5 * torch.randn(50, device=device)
A = torch.cat([Xr, torch.ones(50, 1, device=device)], dim=1)  # a column of ones for the intercept
pred = A @ torch.linalg.lstsq(A, yr[:, None]).solution.squeeze(1)  # least squares, the MSE minimiser

# float32; the built-ins sum in their own order, so allow a few ulps
torch.testing.assert_close(rmse(pred, yr), F.mse_loss(pred, yr).sqrt(), rtol=1e-5, atol=1e-6)
torch.testing.assert_close(mae(pred, yr), F.l1_loss(pred, yr), rtol=1e-5, atol=1e-6)
assert rmse(pred, yr) >= mae(pred, yr)  # RMSE weighs the large errors more: never below MAE
# for least squares with an intercept, R² is the squared correlation of predictions and targets. Both
# sides are float32 sums of 50 squares (a few ulps each), and the identity holds only at the exact
# minimiser, which float32 lstsq misses by rounding (the gap is second order in that miss): 1e-4 covers both
torch.testing.assert_close(r2(pred, yr), torch.corrcoef(torch.stack([pred, yr]))[0, 1] ** 2,
                           rtol=1e-4, atol=1e-5)
assert r2(-pred, yr) < 0  # worse than predicting the mean (R² = 0): R² is negative, not bounded by 0
print(f"RMSE {rmse(pred, yr):.3f}, MAE {mae(pred, yr):.3f}, R² {r2(pred, yr):.3f}")
# --8<-- [end:regression]

# --8<-- [start:regression_accuracy]
assert r2(pred, yr) > 0.9  # a good fit ...
assert (pred == yr).float().mean() == 0  # ... and yet no prediction is exactly right: "accuracy" 0
within = {tol: ((pred - yr).abs() < tol).float().mean() for tol in (0.1, 0.5, 1.0)}
assert within[0.1] < within[0.5] < within[1.0]  # an "accuracy within tol" is whatever tol makes it
for tol, share in within.items():  # Markov's inequality: at most MAE / tol of the errors reach tol
    assert 1 - share <= mae(pred, yr) / tol
print("share of predictions within tol: " + ", ".join(f"{t}: {v:.0%}" for t, v in within.items()))
# --8<-- [end:regression_accuracy]


# --8<-- [start:counterexample]
def logits_from(p_true, y):
    """Two-class logits whose softmax gives probability p_true to each example's true class."""
    p = torch.stack([1 - p_true, p_true], dim=1)  # column 1 holds the true class's probability ...
    p = torch.where(y[:, None] == 1, p, p.flip(1))  # ... move it to column 0 where the label is 0
    return p.log()  # softmax(log p) = p


y4 = torch.tensor([0, 1, 1, 0], device=device)
timid = logits_from(torch.tensor([0.51, 0.51, 0.51, 0.51], device=device), y4)  # right, barely
bold = logits_from(torch.tensor([0.99, 0.99, 0.99, 0.45], device=device), y4)  # sure, one wrong
torch.testing.assert_close(F.softmax(timid, dim=1)[torch.arange(4, device=device), y4],
                           torch.full((4,), 0.51, device=device))
assert accuracy(timid, y4) == 1.0 and accuracy(bold, y4) == 0.75
loss_timid, loss_bold = F.cross_entropy(timid, y4), F.cross_entropy(bold, y4)
log = lambda p: torch.tensor(p, device=device).log()
torch.testing.assert_close(loss_timid, -log(0.51))  # -log 0.51 ≈ 0.673
torch.testing.assert_close(loss_bold, -(3 * log(0.99) + log(0.45)) / 4)  # ≈ 0.207
assert loss_bold < loss_timid / 3  # lower loss, by a factor above 3, and lower accuracy
print(f"timid: loss {loss_timid:.3f}, accuracy {accuracy(timid, y4):.2f}; "
      f"bold: loss {loss_bold:.3f}, accuracy {accuracy(bold, y4):.2f}")
# --8<-- [end:counterexample]

# --8<-- [start:no_gradient]
assert acc.grad_fn is None and not acc.requires_grad  # argmax cut the graph: nothing to backpropagate
backward_error = None
try:
    acc.backward()
except RuntimeError as err:
    backward_error = err
assert isinstance(backward_error, RuntimeError) and "does not require grad" in str(backward_error)

loss = F.cross_entropy(logits, y)
(grad,) = torch.autograd.grad(loss, W)  # the loss has a gradient: it says which way to go
top2 = logits.detach().topk(2, dim=1).values
margin = (top2[:, 0] - top2[:, 1]).min()  # the closest call among the 64 predictions
# moving each weight by ε moves each logit by at most ε Σ_j |x_j|; keep that below half the margin
eps = 0.4 * margin / X.abs().sum(dim=1).max()
with torch.no_grad():
    W_step = W - eps * grad.sign()  # a tiny step downhill
# each example's logits moved by less than half the gap between its top two classes ...
assert ((X @ W_step - logits).abs().amax(dim=1) < (top2[:, 0] - top2[:, 1]) / 2).all()
assert torch.equal(accuracy(X @ W_step, y), acc)  # ... so no prediction can flip: accuracy does not move
assert F.cross_entropy(X @ W_step, y) < loss  # the loss does
print(f"step of {eps:.1e} per weight: cross-entropy {loss:.6f} -> {F.cross_entropy(X @ W_step, y):.6f}, "
      f"accuracy {accuracy(X @ W_step, y):.4f} -> unchanged")
# --8<-- [end:no_gradient]

# --8<-- [start:staircase]
steps = 401
w00 = W.detach()[0, 0] + torch.linspace(-4, 4, steps, device=device)  # slide one weight, keep the rest
Ws = W.detach().repeat(steps, 1, 1)  # (401, 4, 3): one weight matrix per point on the line
Ws[:, 0, 0] = w00
scan_logits = X @ Ws  # (401, 64, 3): every model on every example, by broadcasting
acc_curve = (scan_logits.argmax(dim=2) == y).float().mean(dim=1)
ce_curve = F.cross_entropy(scan_logits.transpose(1, 2), y.expand(steps, N), reduction="none").mean(dim=1)

jumps = acc_curve.diff()
flat = (jumps == 0).float().mean()
# only class 0's logit depends on w00, linearly, so each example's top class changes at most once
# along the line: at most 64 of the 400 grid steps can see a jump, however the data fall
assert flat >= 1 - N / (steps - 1)
assert (ce_curve.diff() != 0).float().mean() > 0.95  # the loss moves almost everywhere
print(f"sliding one weight over {steps} values: accuracy takes {acc_curve.unique().numel()} values, "
      f"flat on {flat:.0%} of the steps")
print(f"all metric checks passed on {device.type}")
# --8<-- [end:staircase]

# --8<-- [start:figure]
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
X = torch.randn(64, 4, device=device)
W = torch.randn(4, 3, device=device)
y = (X @ W + 0.5 * torch.randn(64, 3, device=device)).argmax(dim=1)
w00 = W[0, 0] + torch.linspace(-4, 4, 401, device=device)  # slide one weight
Ws = W.repeat(401, 1, 1)
Ws[:, 0, 0] = w00
logits = X @ Ws  # (401, 64, 3)
acc = (logits.argmax(dim=2) == y).float().mean(dim=1)
ce = F.cross_entropy(logits.transpose(1, 2), y.expand(401, 64), reduction="none").mean(dim=1)

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(w00.cpu(), acc.cpu(), color="tab:blue", label="accuracy (left axis)")
ax.set_xlabel("value of one weight, all others fixed")
ax.set_ylabel("accuracy")
loss_ax = ax.twinx()
loss_ax.plot(w00.cpu(), ce.cpu(), color="tab:orange", label="cross-entropy loss (right axis)")
loss_ax.set_ylabel("cross-entropy")
ax.legend(handles=ax.lines + loss_ax.lines, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
# --8<-- [end:figure]


# --8<-- [start:confusion]
def confusion_matrix(y_true, y_pred, K):
    """C[i, j] = number of examples of true class i predicted as class j."""
    return torch.bincount(y_true * K + y_pred, minlength=K * K).view(K, K)  # pair (i, j) -> bin i·K + j


def precision_recall_f1(C):
    """Per-class precision, recall and F1 from a confusion matrix; 0 where a ratio would be 0/0."""
    tp = C.diagonal()  # truly c and predicted c
    fp = C.sum(dim=0) - tp  # predicted c, truly another class: the rest of column c
    fn = C.sum(dim=1) - tp  # truly c, predicted another class: the rest of row c
    # tp is never above a denominator, so a denominator of 0 means tp = 0: clamp(min=1) makes 0/0 into 0/1 = 0
    precision = tp / (tp + fp).clamp(min=1)  # TP / (TP + FP)
    recall = tp / (tp + fn).clamp(min=1)  # TP / (TP + FN)
    f1 = 2 * tp / (2 * tp + fp + fn).clamp(min=1)  # = 2PR / (P + R), with no division by P + R = 0
    return precision, recall, f1


n_cls, n_ex = 3, 300
true_cls = torch.multinomial(torch.tensor([0.7, 0.2, 0.1], device=device), n_ex, replacement=True)  # imbalanced
guess = torch.randint(0, n_cls, (n_ex,), device=device)
pred_cls = torch.where(torch.rand(n_ex, device=device) < 0.7, true_cls, guess)  # right 70% of the time, else a guess
C = confusion_matrix(true_cls, pred_cls, n_cls)
precision, recall, f1 = precision_recall_f1(C)

# the reference: the same counts with an explicit loop over the examples, in plain Python
pairs = list(zip(true_cls.tolist(), pred_cls.tolist()))  # one transfer, then no tensors at all
counts = [[0] * n_cls for _ in range(n_cls)]
for t, p in pairs:
    counts[t][p] += 1
assert torch.equal(C, torch.tensor(counts, device=device))  # whole numbers: exactly equal


def reference_scores(pairs, K):
    """Per-class precision, recall and F1 from (true, predicted) pairs, as defined; 0 where a ratio is 0/0."""
    precisions, recalls, f1s = [], [], []
    for c in range(K):
        tp = sum(t == c and p == c for t, p in pairs)
        fp = sum(t != c and p == c for t, p in pairs)
        fn = sum(t == c and p != c for t, p in pairs)
        p_c = tp / (tp + fp) if tp + fp else 0.0
        r_c = tp / (tp + fn) if tp + fn else 0.0
        precisions.append(p_c)
        recalls.append(r_c)
        f1s.append(2 * p_c * r_c / (p_c + r_c) if p_c + r_c else 0.0)  # the harmonic mean
    return precisions, recalls, f1s


# by hand first: classes 0 and 1 right once and confused once (all three 1/2), class 2 never seen (0/0 -> 0)
assert reference_scores([(0, 0), (0, 1), (1, 1), (1, 0)], 3) == ([0.5, 0.5, 0.0],) * 3
ref_precision, ref_recall, ref_f1 = reference_scores(pairs, n_cls)
# float32 ratios of whole numbers against float64 ones rounded to float32: one rounding apart at most (~6e-8)
for ours, reference in [(precision, ref_precision), (recall, ref_recall), (f1, ref_f1)]:
    torch.testing.assert_close(ours, torch.tensor(reference, device=device), rtol=1e-6, atol=1e-7)
# the diagonal holds the right predictions, so it sums to the number right: accuracy = trace(C) / N
torch.testing.assert_close(C.diagonal().sum() / n_ex, (pred_cls == true_cls).float().mean(), rtol=1e-6, atol=0.0)
print(f"confusion matrix (rows: true class, columns: predicted):\n{C.cpu()}")
print("per class: precision " + ", ".join(f"{v:.3f}" for v in precision)
      + "; recall " + ", ".join(f"{v:.3f}" for v in recall) + "; F1 " + ", ".join(f"{v:.3f}" for v in f1))
print(f"macro-averaged: precision {precision.mean():.3f}, recall {recall.mean():.3f}, F1 {f1.mean():.3f};"
      f" accuracy {C.diagonal().sum() / n_ex:.3f}")
# --8<-- [end:confusion]

# --8<-- [start:imbalanced]
i = torch.arange(1000, device=device)
labels = (i % 20 == 0).long()  # 50 positives among 1000 examples: 5%
lazy = torch.zeros_like(labels)  # always predicts the majority class, "negative"
detector = (((labels == 1) & (i < 800)) | ((i % 10 == 5) & (i < 600))).long()  # finds 40 of 50, 60 false alarms
C_lazy, C_detector = confusion_matrix(labels, lazy, 2), confusion_matrix(labels, detector, 2)
assert torch.equal(C_lazy, torch.tensor([[950, 0], [50, 0]], device=device))  # [[TN, FP], [FN, TP]]
assert torch.equal(C_detector, torch.tensor([[890, 60], [10, 40]], device=device))
results = {}
for name, C_bin in [("always negative", C_lazy), ("detector", C_detector)]:
    p_bin, r_bin, f1_bin = precision_recall_f1(C_bin)  # index 1: the positive class
    results[name] = dict(accuracy=C_bin.diagonal().sum() / 1000, precision=p_bin[1], recall=r_bin[1], f1=f1_bin[1],
                         macro_f1=f1_bin.mean())
lazy_m, det_m = results["always negative"], results["detector"]
torch.testing.assert_close(lazy_m["accuracy"], torch.tensor(0.95, device=device))  # 95% right ...
assert lazy_m["precision"] == lazy_m["recall"] == lazy_m["f1"] == 0  # ... and not one positive found (0/0 -> 0)
assert det_m["accuracy"] < lazy_m["accuracy"]  # 0.93: the useful model has the lower accuracy
torch.testing.assert_close(torch.stack([det_m["precision"], det_m["recall"], det_m["f1"]]),
                           torch.tensor([0.4, 0.8, 80 / 150], device=device))  # 40/100, 40/50, 2·40/(80+60+10)
# macro-F1, the mean of the two classes' F1: (2·950/(1900+50) + 0)/2 and (2·890/(1780+10+60) + 2·40/150)/2
torch.testing.assert_close(torch.stack([lazy_m["macro_f1"], det_m["macro_f1"]]),
                           torch.tensor([1900 / 1950 / 2, (1780 / 1850 + 80 / 150) / 2], device=device))
assert det_m["macro_f1"] > lazy_m["macro_f1"]  # 0.748 against 0.487: the right way round
for name, m in results.items():
    print(f"{name:16s} " + ", ".join(f"{key} {value:.3f}" for key, value in m.items()))
# --8<-- [end:imbalanced]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_r2]
targets = torch.tensor([1.0, 2.0, 3.0, 4.0], device=device)
r2_mean = r2(targets.mean().expand(4), targets)  # predict the mean, 2.5, for everything
r2_zero = r2(torch.zeros(4, device=device), targets)  # predict 0 for everything
print(f"mean everywhere: R² = {r2_mean:.2f}; zero everywhere: R² = {r2_zero:.2f}")
assert r2_mean == 0 and r2_zero == 1 - 30 / 5  # SSE = 1 + 4 + 9 + 16 = 30, SST = 5
# --8<-- [end:quiz_r2]

# --8<-- [start:quiz_rmse]
zero = torch.zeros(4, device=device)  # the targets; the predictions below are then the errors
even = torch.tensor([1.0, 1.0, 1.0, 1.0], device=device)  # four misses of 1
lopsided = torch.tensor([0.0, 0.0, 0.0, 4.0], device=device)  # three hits and one miss of 4
print(f"MAE {mae(even, zero):.2f} and {mae(lopsided, zero):.2f}; "
      f"RMSE {rmse(even, zero):.2f} and {rmse(lopsided, zero):.2f}")
assert mae(even, zero) == mae(lopsided, zero) == 1 and rmse(lopsided, zero) == 2 * rmse(even, zero)
# --8<-- [end:quiz_rmse]

# --8<-- [start:quiz_lower_loss]
labels2 = torch.tensor([0, 1], device=device)
model_a = logits_from(torch.tensor([0.6, 0.6], device=device), labels2)  # right twice, unsure
model_b = logits_from(torch.tensor([0.99, 0.4], device=device), labels2)  # sure and right, then wrong
loss_a, loss_b = F.cross_entropy(model_a, labels2), F.cross_entropy(model_b, labels2)
print(f"A: loss {loss_a:.3f}, accuracy {accuracy(model_a, labels2):.2f}; "
      f"B: loss {loss_b:.3f}, accuracy {accuracy(model_b, labels2):.2f}")
assert loss_b < loss_a and accuracy(model_b, labels2) < accuracy(model_a, labels2)
# --8<-- [end:quiz_lower_loss]

# --8<-- [start:quiz_backward]
weights = torch.randn(4, 3, device=device, requires_grad=True)
try:
    accuracy(X @ weights, y).backward()  # train on accuracy directly?
    outcome = "backward ran"
except RuntimeError as error:
    outcome = "RuntimeError" + (": does not require grad" if "does not require grad" in str(error) else "")
print(outcome)
assert outcome == "RuntimeError: does not require grad"  # argmax cut the graph
# --8<-- [end:quiz_backward]
