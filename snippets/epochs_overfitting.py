"""Epochs, overfitting and validation: training loss falls while validation loss turns up; early stopping."""
# --8<-- [start:setup]
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:data]
n_train, n_valid, noise = 20, 100, 0.3
x_train = torch.linspace(-1, 1, n_train, device=device)
x_valid = torch.linspace(-1, 1, n_valid + 1, device=device)[:-1] + 1 / n_valid  # between and beside the training x
assert -1 < x_valid.min() and x_valid.max() < 1  # all inside the training range: interpolation, not extrapolation
# The noise comes from its own generator on the CPU, as a data loader would hand the data over, so that
# every machine trains on the same 20 points; then it moves to the device like any batch.
data_rng = torch.Generator(device="cpu").manual_seed(0)
y_train = torch.sin(3 * x_train) + noise * torch.randn(n_train, generator=data_rng, device="cpu").to(device)
y_valid = torch.sin(3 * x_valid) + noise * torch.randn(n_valid, generator=data_rng, device="cpu").to(device)


def legendre_features(x, degree):
    """Columns P_0(x) ... P_degree(x): a polynomial model, well scaled on [-1, 1]."""
    P = [torch.ones_like(x), x]
    for k in range(1, degree):
        P.append(((2 * k + 1) * x * P[k] - k * P[k - 1]) / (k + 1))  # Bonnet's recursion
    return torch.stack(P[: degree + 1], dim=1)
# --8<-- [end:data]


# --8<-- [start:train]
def train(degree, epochs, w=None):
    """Full-batch gradient descent on mean squared error: one step per epoch.

    Returns the weights, the training and validation loss after every epoch, and the weights
    of the epoch with the lowest validation loss (early stopping), all kept on the device.
    """
    Phi, Phi_valid = legendre_features(x_train, degree), legendre_features(x_valid, degree)
    hessian = 2 * Phi.T @ Phi / n_train  # of L(w) = mean((Φw - y)²)
    lr = 1 / torch.linalg.eigvalsh(hessian).max()  # half the largest stable rate 2/λ_max
    w = torch.zeros(degree + 1, device=device) if w is None else w
    train_loss, valid_loss = [], []
    best_w, best_loss = w, torch.tensor(float("inf"), device=device)
    for _ in range(epochs):
        w = w - lr * 2 * Phi.T @ (Phi @ w - y_train) / n_train  # w ← w - lr ∇L, ∇L = 2/n Φᵀ(Φw - y)
        train_loss.append(((Phi @ w - y_train) ** 2).mean())
        valid_loss.append(((Phi_valid @ w - y_valid) ** 2).mean())
        better = valid_loss[-1] < best_loss  # a tensor: no host round trip per epoch
        best_loss = torch.where(better, valid_loss[-1], best_loss)
        best_w = torch.where(better, w, best_w)  # keep the weights of the best epoch so far
    return w, torch.stack(train_loss), torch.stack(valid_loss), best_w
# --8<-- [end:train]

# --8<-- [start:overfit]
epochs = 300
w, train_loss, valid_loss, best_w = train(degree=15, epochs=epochs)  # 16 parameters for 20 points
best = valid_loss.argmin()

assert (train_loss[1:] <= train_loss[:-1] * (1 + 1e-6)).all()  # training loss never goes up
assert train_loss[-1] < 0.5 * train_loss[best]  # and keeps falling after the best epoch ...
assert valid_loss[-1] > 1.5 * valid_loss[best]  # ... while validation loss has turned up by half
assert best < epochs // 10  # the turn comes early: most of the epochs only fit noise
print(f"degree 15: best validation epoch {best + 1}: train {train_loss[best]:.3f}, valid {valid_loss[best]:.3f}; "
      f"after {epochs}: train {train_loss[-1]:.3f}, valid {valid_loss[-1]:.3f}")
# --8<-- [end:overfit]

# --8<-- [start:early_stopping]
Phi_valid = legendre_features(x_valid, 15)
best_score = F.mse_loss(Phi_valid @ best_w, y_valid)  # recomputed with PyTorch's own loss
torch.testing.assert_close(best_score, valid_loss.min(), rtol=1e-6, atol=0.0)  # the minimum, to float32 rounding
assert best_score < F.mse_loss(Phi_valid @ w, y_valid)  # better than the weights we ended with
# --8<-- [end:early_stopping]

# --8<-- [start:check]
model = nn.Linear(16, 1, bias=False).to(device)  # the same model: P_0 = 1 already is the intercept
with torch.no_grad():
    model.weight.zero_()  # the same start as ours
Phi = legendre_features(x_train, 15)
lr = 1 / torch.linalg.eigvalsh(2 * Phi.T @ Phi / n_train).max()
optimizer = torch.optim.SGD(model.parameters(), lr=lr.item())  # the step size, read once
reference_train, reference_valid = [], []
for _ in range(epochs):
    optimizer.zero_grad()
    F.mse_loss(model(Phi)[:, 0], y_train).backward()  # autograd instead of our formula
    optimizer.step()
    with torch.no_grad():
        reference_train.append(F.mse_loss(model(Phi)[:, 0], y_train))
        reference_valid.append(F.mse_loss(model(Phi_valid)[:, 0], y_valid))
# float32, summed in another order each epoch; gradient descent at lr = 1/λ_max shrinks
# rounding differences instead of growing them, so the two runs stay within 1e-5
torch.testing.assert_close(model.weight[0].detach(), w, rtol=1e-5, atol=1e-5)
torch.testing.assert_close(torch.stack(reference_train), train_loss, rtol=1e-5, atol=1e-6)
torch.testing.assert_close(torch.stack(reference_valid), valid_loss, rtol=1e-5, atol=1e-6)
print(f"ours vs nn.Linear + torch.optim.SGD over {epochs} epochs: equal to 1e-5")
# --8<-- [end:check]

# --8<-- [start:capacity]
_, small_train, small_valid, _ = train(degree=3, epochs=epochs)  # 4 parameters, same data, same epochs
small_rise = small_valid[-1] / small_valid.min() - 1
big_rise = valid_loss[-1] / valid_loss.min() - 1
# the rise is what early stopping saves: the final weights against the stopped ones, both scored by F.mse_loss;
# float32 losses near 0.1-0.2 agree to ~1e-7, so the ratio to well within 1e-5
torch.testing.assert_close(big_rise, F.mse_loss(Phi_valid @ w, y_valid) / best_score - 1, rtol=1e-5, atol=1e-6)
assert small_rise < 0.1 * big_rise  # no comparable turn: the epochs alone do not overfit
assert small_train[-1] > train_loss[-1]  # it cannot fit the noise, so its training loss stays higher
print(f"validation loss after {epochs} epochs vs its minimum: degree 15 +{big_rise:.0%}, degree 3 +{small_rise:.0%}")
print(f"degree 15 stopped at epoch {best + 1}: validation {valid_loss.min():.3f}; "
      f"degree 3 after {epochs} epochs: {small_valid[-1]:.3f}")

# Not one lucky draw: 200 other noise draws at once (one column each), same x, same epochs
draws = 200
Y = torch.sin(3 * x_train)[:, None] + noise * torch.randn(n_train, draws, device=device)
Y_valid = torch.sin(3 * x_valid)[:, None] + noise * torch.randn(n_valid, draws, device=device)
curves, rises = {}, {}
for degree in (3, 15):
    Phi, Phi_valid = legendre_features(x_train, degree), legendre_features(x_valid, degree)
    lr = 1 / torch.linalg.eigvalsh(2 * Phi.T @ Phi / n_train).max()
    W = torch.zeros(degree + 1, draws, device=device)
    valid_curves = []
    for _ in range(epochs):
        W = W - lr * 2 * Phi.T @ (Phi @ W - Y) / n_train  # 200 independent fits in one matmul
        valid_curves.append(((Phi_valid @ W - Y_valid) ** 2).mean(dim=0))
    curves[degree] = torch.stack(valid_curves)  # (epochs, draws)
    rises[degree] = curves[degree][-1] / curves[degree].min(dim=0).values - 1
assert rises[15].median() > 0.3 and rises[3].median() < 0.02  # typical draws: a clear turn vs none
assert (rises[15] > rises[3]).float().mean() > 0.95  # the bigger model rises more in almost every draw
for degree, rise in ((3, small_rise), (15, big_rise)):  # and the draw above was a typical one:
    assert rises[degree].quantile(0.05) <= rise <= rises[degree].quantile(0.95), degree  # in the middle 90%

# For the big model the epoch count is the dial: stopped at each draw's best epoch (early stopping),
# it beats itself trained for all 300 epochs and comes close to the cubic, which needs no stopping
stopped = curves[15].min(dim=0).values  # validation loss at the best epoch, one per draw
# medians of 200 draws move little: over ten other seeds these ratios were 1.44-1.53 and 1.07-1.12
assert stopped.median() < curves[15][-1].median() / 1.3
assert stopped.median() < 1.2 * curves[3][-1].median()
print(f"over {draws} draws, median rise: degree 15 +{rises[15].median():.0%}, degree 3 +{rises[3].median():.1%}")
print(f"median validation loss: degree 15 stopped early {stopped.median():.3f}, after {epochs} epochs "
      f"{curves[15][-1].median():.3f}; degree 3 after {epochs} epochs {curves[3][-1].median():.3f}")
# --8<-- [end:capacity]

# --8<-- [start:rerun]
torch.manual_seed(0)  # cell 1: initialise, run once


def init_weights(degree):
    return 0.1 * torch.randn(degree + 1, device=device)


w0 = init_weights(15)
assert not torch.equal(init_weights(15), w0)  # rerunning an init cell draws new weights

w1, _, valid_1, _ = train(15, 150, w=w0)  # cell 2: train
w2, _, valid_2, _ = train(15, 150, w=w1)  # cell 2 run again: 150 more epochs from where it stopped
w_300, _, valid_300, _ = train(15, 300, w=w0)
torch.testing.assert_close(w2, w_300)  # two reruns of 150 epochs = one run of 300
torch.testing.assert_close(torch.cat([valid_1, valid_2]), valid_300)
assert valid_2[-1] > valid_1[-1]  # and each rerun overfits further
print(f"validation loss after one run of the training cell {valid_1[-1]:.3f}, after a rerun {valid_2[-1]:.3f}")
# --8<-- [end:rerun]

# --8<-- [start:figure]
import matplotlib.pyplot as plt
import torch

device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
x = torch.linspace(-1, 1, 20, device=device)  # the same 20 points and noise as above
x_val = torch.linspace(-1, 1, 101, device=device)[:-1] + 0.01
rng = torch.Generator(device="cpu").manual_seed(0)
y = torch.sin(3 * x) + 0.3 * torch.randn(20, generator=rng, device="cpu").to(device)
y_val = torch.sin(3 * x_val) + 0.3 * torch.randn(100, generator=rng, device="cpu").to(device)


def legendre(x, degree):
    P = [torch.ones_like(x), x]
    for k in range(1, degree):
        P.append(((2 * k + 1) * x * P[k] - k * P[k - 1]) / (k + 1))
    return torch.stack(P[: degree + 1], dim=1)


fig, ax = plt.subplots(figsize=(6, 3.5))
for degree, style in [(15, "-"), (3, "--")]:
    A, A_val = legendre(x, degree), legendre(x_val, degree)
    lr = 1 / torch.linalg.eigvalsh(2 * A.T @ A / 20).max()
    w, curves = torch.zeros(degree + 1, device=device), []
    for _ in range(300):
        w = w - lr * 2 * A.T @ (A @ w - y) / 20  # one full-batch step per epoch
        curves.append(torch.stack([((A @ w - y) ** 2).mean(), ((A_val @ w - y_val) ** 2).mean()]))
    curves = torch.stack(curves).cpu()
    epochs = range(1, 301)
    ax.plot(epochs, curves[:, 0], style, color="C0", label=f"training, degree {degree}")
    ax.plot(epochs, curves[:, 1], style, color="C3", label=f"validation, degree {degree}")
    if degree == 15:
        best_epoch = int(curves[:, 1].argmin()) + 1
        ax.axvline(best_epoch, color="gray", linestyle=":", label=f"early stop (epoch {best_epoch})")
ax.set_xscale("log")  # the turn comes within the first ten epochs
ax.set_ylim(0, 0.5)
ax.set_xlabel("epoch")
ax.set_ylabel("mean squared error")
ax.legend(loc="upper right", fontsize=8)
fig.tight_layout()
# --8<-- [end:figure]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_by_training_loss]
by_train = int(train_loss.argmin()) + 1  # the degree-15 epoch with the lowest training loss, counted from 1
print(f"epoch {by_train}, validation loss {valid_loss[by_train - 1] / valid_loss.min():.2f} times the best")
assert by_train == len(train_loss)  # training loss never turns up: it picks the last, most overfit epoch
assert valid_loss[by_train - 1] > 1.5 * valid_loss.min()
# --8<-- [end:quiz_by_training_loss]

# --8<-- [start:quiz_longer]
long_valid = {degree: train(degree, epochs=3000)[2] for degree in (3, 15)}  # ten times the epochs
end_over_min = {degree: v[-1] / v.min() for degree, v in long_valid.items()}
print(f"degree 3: {end_over_min[3]:.2f} times its minimum, degree 15: {end_over_min[15]:.0f} times")
assert end_over_min[3] < 1.1 and end_over_min[15] > 10  # the cubic cannot fit the noise however long it trains
# --8<-- [end:quiz_longer]

# --8<-- [start:quiz_rerun]
w_cell = w0  # cell 1 ran once
for _ in range(3):  # cell 2, `w = train(15, 150, w=w)[0]`, run three times
    w_cell = train(15, 150, w=w_cell)[0]
had = [n for n in (150, 300, 450) if torch.allclose(w_cell, train(15, n, w=w0)[0], rtol=1e-5, atol=1e-5)]
print(f"{had[0]} epochs")
assert had == [450]  # the same weights as one run of 3 × 150 epochs
# --8<-- [end:quiz_rerun]
