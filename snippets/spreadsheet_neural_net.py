"""The spreadsheet neural net: (N, 10) @ (10, 2), ReLU, add the two columns; checked against nn.Sequential."""
# --8<-- [start:setup]
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:data]
COLUMNS = ["SibSp", "Parch", "Age", "LogFare", "Pclass_1", "Pclass_2", "Embark_Q", "Embark_S", "Sex_male", "Ones"]


def make_passengers(n):
    """Synthetic passenger-like rows (no real data) and a 0/1 'survived' target from a made-up rule."""
    sibsp = torch.randint(0, 4, (n,), device=device).float()
    parch = torch.randint(0, 3, (n,), device=device).float()
    age = 1 + 70 * torch.rand(n, device=device)
    log_fare = torch.log10(1 + 250 * torch.rand(n, device=device) ** 2)  # fares are skewed: take the log
    pclass = torch.multinomial(torch.tensor([0.25, 0.2, 0.55], device=device), n, replacement=True)  # 1st, 2nd, 3rd
    port = torch.multinomial(torch.tensor([0.2, 0.1, 0.7], device=device), n, replacement=True)  # C, Q, S
    male = (torch.rand(n, device=device) < 0.65).float()
    categorical = [pclass == 0, pclass == 1, port == 1, port == 2]  # one-hot; 3rd class and port C are the baseline
    raw = torch.stack([sibsp, parch, age, log_fare, *(c.float() for c in categorical), male], dim=1)
    features = raw / raw.max(dim=0).values  # every column divided by its maximum, as in the sheet
    X = torch.cat([features, torch.ones(n, 1, device=device)], dim=1)  # the column of ones: the bias
    logit = 1.5 - 3 * male + 1.5 * (pclass == 0) + 0.8 * (pclass == 1) - 2 * age / 70 - 0.3 * sibsp
    y = torch.bernoulli(torch.sigmoid(logit))  # survived: 1 or 0
    return X, y


X, y = make_passengers(1424)
assert X.shape == (1424, len(COLUMNS)) and torch.equal(X[:, -1], torch.ones_like(X[:, -1]))
# --8<-- [end:data]


# --8<-- [start:model]
def hidden_layer(X, W):
    Z = X @ W  # (N, 10) @ (10, 2) -> (N, 2): the columns Lin1 and Lin2
    return Z.clamp(min=0)  # ReLU on each column: max(0, z)


def spreadsheet_predict(X, W):
    return hidden_layer(X, W).sum(dim=1)  # ŷ = ReLU(z1) + ReLU(z2), one number per row


W0 = 0.2 * (torch.rand(10, 2, device=device) - 0.5)  # small random weights, like =RAND()-0.5 scaled down
W0[-1] += 0.3  # a positive bias: both units start switched on for most rows
Z = X @ W0
assert X.shape == (1424, 10) and W0.shape == (10, 2) and Z.shape == (1424, 2)
assert ((Z > 0).float().mean(dim=0) > 0.9).all()  # thanks to the bias, each unit is on for over 90% of rows
assert spreadsheet_predict(X, W0).shape == (1424,)
# The last row of W multiplies the column of ones, so it is each unit's bias: z = x W[:9] + W[9].
# Two summation orders, hence a float32 tolerance rather than exact equality.
torch.testing.assert_close(Z, X[:, :9] @ W0[:9] + W0[9], rtol=1e-5, atol=1e-6)
# --8<-- [end:model]

# --8<-- [start:second_layer]
output_layer = nn.Linear(2, 1).to(device)  # a real second layer: ŷ = h1 w1 + h2 w2 + b
with torch.no_grad():
    output_layer.weight.copy_(torch.tensor([[1.0, 1.0]], device=device))  # w = [1, 1]
    output_layer.bias.zero_()  # b = 0
H = hidden_layer(X, W0)
# h1·1 + h2·1 + 0 is a single rounded addition whichever way it is computed: exact equality
assert torch.equal(output_layer(H).squeeze(1), H.sum(dim=1))
# --8<-- [end:second_layer]


# --8<-- [start:train]
def mse(prediction, target):
    return ((prediction - target) ** 2).mean()  # the sheet's loss: average squared error


def train_spreadsheet(X, y, W, lr=0.2, steps=200):
    """Plain gradient descent on the sheet's only parameters, the (10, 2) weights."""
    W = W.clone().requires_grad_()
    for _ in range(steps):
        mse(spreadsheet_predict(X, W), y).backward()
        with torch.no_grad():
            W -= lr * W.grad  # W ← W − lr ∂L/∂W
            W.grad.zero_()
    return W.detach()


W_sheet = train_spreadsheet(X, y, W0)
loss_start, loss_sheet = mse(spreadsheet_predict(X, W0), y), mse(spreadsheet_predict(X, W_sheet), y)
assert loss_sheet < 0.8 * loss_start

# A unit that is off for every row passes no gradient back: it is "dead" and stays off for good.
W_dead = W0.clone()
W_dead[-1, 1] = -10.0  # a bias so negative that z2 < 0 in every row
W_dead.requires_grad_()
mse(spreadsheet_predict(X, W_dead), y).backward()
assert (W_dead.grad[:, 1] == 0).all() and (W_dead.grad[:, 0] != 0).all()
# --8<-- [end:train]


# --8<-- [start:check]
def two_layer_net(W, learn_second_layer):
    """nn.Sequential version: layer 1 starts from W, layer 2 starts as the fixed sum w = [1, 1], b = 0."""
    net = nn.Sequential(nn.Linear(10, 2, bias=False), nn.ReLU(), nn.Linear(2, 1)).to(device)
    with torch.no_grad():
        net[0].weight.copy_(W.T)  # nn.Linear stores (out, in) and computes x Wᵀ
        net[2].weight.fill_(1.0)
        net[2].bias.zero_()
    net[2].requires_grad_(learn_second_layer)
    return net


def train_net(net, X, y, lr=0.2, steps=200):
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=lr)
    for _ in range(steps):
        loss = F.mse_loss(net(X).squeeze(1), y)  # squeeze: (N, 1) against (N,) would broadcast to (N, N)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


frozen = train_net(two_layer_net(W0, learn_second_layer=False), X, y)
# Same arithmetic in another order (addmm for x Wᵀ, SGD's in-place update): float32 rounding of a few
# ulps per step, which stays far below 1e-5 over 200 steps.
torch.testing.assert_close(frozen[0].weight.T.detach(), W_sheet, rtol=1e-5, atol=1e-5)
torch.testing.assert_close(frozen(X).squeeze(1).detach(), spreadsheet_predict(X, W_sheet), rtol=1e-5, atol=1e-5)
# --8<-- [end:check]


# --8<-- [start:learnable]
learned = train_net(two_layer_net(W0, learn_second_layer=True), X, y)  # same data, start and steps
with torch.no_grad():
    loss_learned = F.mse_loss(learned(X).squeeze(1), y)
print(f"MSE: start {loss_start:.4f}, second layer fixed (the sheet) {loss_sheet:.4f}, "
      f"second layer learned {loss_learned:.4f}")
w_learned, b_learned = learned[2].weight.detach().squeeze(0), learned[2].bias.detach()
print(f"learned second layer: w = [{w_learned[0]:.3f}, {w_learned[1]:.3f}], b = {b_learned.item():.3f}")

# The guarantee: on top of the sheet's own hidden layer, the best (w1, w2, b) is at least as good as (1, 1, 0),
# because (1, 1, 0) is one of the candidates. Least squares finds the best one in closed form.
H1 = torch.cat([hidden_layer(X, W_sheet), torch.ones(len(X), 1, device=device)], dim=1)  # [h1, h2, 1]
best = torch.linalg.pinv(H1) @ y  # argmin over (w1, w2, b) of ||H1 (w1, w2, b) - y||²; pinv copes with a dead unit
loss_best_second = mse(H1 @ best, y)
assert loss_best_second <= loss_sheet + 1e-6  # 1e-6: float32 rounding of two nearly equal means
print(f"best second layer on the sheet's hidden layer: w = [{best[0]:.3f}, {best[1]:.3f}], b = {best[2]:.3f}, "
      f"MSE {loss_best_second:.4f}")

# Positive output weights add nothing: ReLU(a z) = a ReLU(z) for a > 0, so w folds into layer 1's columns.
w = 0.5 + torch.rand(2, device=device)  # any positive weights
torch.testing.assert_close(hidden_layer(X, W_sheet) @ w, spreadsheet_predict(X, W_sheet * w), rtol=1e-5, atol=1e-6)

# What fixed weights of 1 cannot do: a sum of ReLUs is convex in the inputs, f((a+b)/2) <= (f(a)+f(b))/2.
for W in (W0, W_sheet, torch.randn(10, 2, device=device)):
    a, b = X[torch.randperm(len(X), device=device)], X[torch.randperm(len(X), device=device)]
    midpoint = spreadsheet_predict((a + b) / 2, W)
    # + 1e-5: float32 rounding of predictions of order 1 (midpoint and chord may be exactly equal where
    # both units are on, the linear case)
    assert (midpoint <= (spreadsheet_predict(a, W) + spreadsheet_predict(b, W)) / 2 + 1e-5).all()
    # Equal, in fact, wherever no unit switches between a and b: then f is linear on the whole segment.
    linear = ((a @ W > 0) == (b @ W > 0)).all(dim=1)
    torch.testing.assert_close(midpoint[linear], (spreadsheet_predict(a, W) + spreadsheet_predict(b, W))[linear] / 2,
                               rtol=1e-5, atol=1e-5)  # float32 rounding, as above
# A negative output weight can bend down: ReLU(t) − ReLU(t − 1) rises, then levels off (not convex).
points = torch.tensor([0.0, 1.0, 2.0], device=device)
capped = torch.relu(points) - torch.relu(points - 1)  # 0, 1, 1
assert capped[1] > (capped[0] + capped[2]) / 2  # the midpoint lies above the chord: out of the sheet's reach
# --8<-- [end:learnable]


# --8<-- [start:piecewise]
def along_one_input(x, W, column, t):
    """Vary one input of one row over the values t, all other inputs fixed; return ReLU(z1), ReLU(z2)."""
    rows = x.repeat(len(t), 1)
    rows[:, column] = t
    return hidden_layer(rows, W)


AGE = COLUMNS.index("Age")
x = X[0]
slope = W_sheet[AGE]  # dz_i/dt for each hidden unit
offset = x @ W_sheet - x[AGE] * slope  # z_i(t) = offset_i + slope_i t
kinks = (-offset / slope).sort().values  # where each unit switches between off and on
at_kinks = x.repeat(2, 1)
at_kinks[:, AGE] = kinks  # row 0 with its age set to each kink in turn
# At each kink one unit's z is zero, computed by the layer itself (ten products of order 1: float32 rounding)
torch.testing.assert_close((at_kinks @ W_sheet).abs().amin(dim=1), torch.zeros(2, device=device), rtol=0, atol=1e-5)
t = torch.linspace(kinks[0] - 1, kinks[1] + 1, 401, device=device)
prediction = along_one_input(x, W_sheet, AGE, t).sum(dim=1)

slopes = prediction.diff() / t.diff()
z_left, z_right = offset + slope * t[:-1, None], offset + slope * t[1:, None]  # each unit at both ends
active, off = (z_left > 0) & (z_right > 0), (z_left <= 0) & (z_right <= 0)
clean = (active | off).all(dim=1)  # intervals with no kink inside: every unit stays on or stays off
# On such an interval the slope is the sum of the slopes of the units that are on: 0, s1, s2 or s1 + s2.
# Differences of nearby float32 values lose digits, hence the loose tolerance.
torch.testing.assert_close(slopes[clean], (active[clean] * slope).sum(dim=1), rtol=1e-3, atol=1e-3)
assert (~clean).sum() <= 2  # at most one interval per kink bends
assert len(active[clean].unique(dim=0)) == 3  # t spans both kinks: three pieces, each with its own units on
print(f"along Age for row 0: kinks at t = {kinks[0]:.3f}, {kinks[1]:.3f}; "
      f"slopes {sorted(set(round(s, 3) for s in slopes[clean].tolist()))}")
# --8<-- [end:piecewise]


# --8<-- [start:parallel]
# Within a layer every row and every unit is independent: any split of the rows gives the same numbers.
chunked = torch.cat([hidden_layer(rows, W_sheet) for rows in X.split(100)])
torch.testing.assert_close(chunked, hidden_layer(X, W_sheet), rtol=1e-5, atol=1e-6)
# Across layers there is an order, row by row: row n of the output needs row n of the hidden layer.
H = hidden_layer(X, W_sheet)  # layer 1: one matmul for all 1424 rows and both units
prediction_all = H.sum(dim=1)  # layer 2 on the whole batch: after layer 1 has finished it
# The wait is per row, so layer 2 on one chunk of rows need not wait for layer 1 on the others: with each
# layer on its own device, chunks can flow through the layers like a pipeline, with the same result.
pipelined = torch.cat([hidden_layer(rows, W_sheet).sum(dim=1) for rows in X.split(100)])
torch.testing.assert_close(pipelined, prediction_all, rtol=1e-5, atol=1e-6)  # float32, as for `chunked`
# --8<-- [end:parallel]


# --8<-- [start:misconception]
# Without the ReLU, adding the two columns collapses to ONE linear model with weights w1 + w2.
torch.testing.assert_close((X @ W_sheet).sum(dim=1), X @ W_sheet.sum(dim=1), rtol=1e-5, atol=1e-5)

# With the ReLU, no single weight vector reproduces the prediction: the best least-squares fit misses.
fit = torch.linalg.lstsq(X, prediction_all[:, None]).solution
linear_error = (X @ fit - prediction_all[:, None]).norm() / prediction_all.norm()
# lstsq projects ŷ onto the columns of X, so the miss is orthogonal to the fit (Pythagoras):
# error² + (‖X fit‖ / ‖ŷ‖)² = 1, up to float32 rounding in a solve and in norms of 1424 numbers.
explained = (X @ fit).norm() / prediction_all.norm()
torch.testing.assert_close(linear_error**2 + explained**2, torch.ones((), device=device), rtol=0, atol=1e-4)
H_off = (H == 0).float().mean(dim=0)  # fraction of rows in which each hidden unit is switched off
assert ((H_off > 0.05) & (H_off < 0.95)).any()  # a unit that is on for some rows and off for others
assert linear_error > 0.05
print(f"hidden units off in {100 * H_off[0]:.0f}% and {100 * H_off[1]:.0f}% of rows; "
      f"best single linear layer misses the prediction by {100 * linear_error:.0f}%")
print(f"all spreadsheet-net checks passed on {device.type}")
# --8<-- [end:misconception]


# --8<-- [start:rule]
def fit_logistic(X, y):
    """Maximum likelihood for P(survived) = σ(X w): L-BFGS on the log loss, which is convex in w."""
    w = torch.zeros(X.shape[1], device=device, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(X @ w, y)
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach()


# The labels follow the made-up rule: a logistic regression on many fresh passengers recovers its coefficients.
# (Drawn last, so that every number above is the same with or without this check.)
X_many, y_many = make_passengers(20000)
w_fit = fit_logistic(X_many, y_many)
# Standard errors: the square roots of the diagonal of the inverse Hessian of the summed log loss.
hessian = torch.autograd.functional.hessian(
    lambda w: F.binary_cross_entropy_with_logits(X_many @ w, y_many, reduction="sum"), w_fit)
standard_error = torch.linalg.inv(hessian).diagonal().sqrt()
# The rule in X's columns, each divided by its maximum (3 siblings; an age of 71, reached to within 0.1 by
# 20000 draws; 1 for a one-hot column): a column's coefficient is the rule's times that maximum.
rule = dict(SibSp=-0.3 * 3, Age=-2 * 71 / 70, Pclass_1=1.5, Pclass_2=0.8, Sex_male=-3.0, Ones=1.5)
rule = torch.tensor([rule.get(name, 0.0) for name in COLUMNS], device=device)
assert ((w_fit - rule).abs() < 4 * standard_error).all()  # each fails with probability ~6e-5
print(" ".join(f"{name:>8}" for name in ["", *COLUMNS]))
for label, row in (("rule", rule), ("fit", w_fit), ("1 s.e.", standard_error)):
    print(f"{label:>8} " + " ".join(f"{v:8.2f}" for v in row.tolist()))
# --8<-- [end:rule]


# --8<-- [start:figure]
import matplotlib.pyplot as plt
import torch

t = torch.linspace(-2, 2, 401)  # noqa: device (plotting only)
unit1 = torch.relu(t + 0.5)  # ReLU(z1), z1 = t + 0.5: switches on at t = -0.5
unit2 = torch.relu(-1.5 * t + 0.3)  # ReLU(z2), z2 = -1.5 t + 0.3: switches off at t = 0.2
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(t, unit1 + unit2, color="black", linewidth=4, alpha=0.3, label="prediction = sum of the two")
ax.plot(t, unit1, "--", label="ReLU(z1) = max(0, t + 0.5)")
ax.plot(t, unit2, "--", label="ReLU(z2) = max(0, −1.5 t + 0.3)")
slopes = (unit1 + unit2).diff() / t.diff()
left, right = t[:-1], t[1:]  # the ends of each small interval
for piece, slope in ((right <= -0.5, -1.5), ((left >= -0.5) & (right <= 0.2), -0.5), (left >= 0.2, 1.0)):
    # straight pieces: slope -1.5, then -1.5 + 1, then 1 (1e-3: float32 differences of nearby values)
    assert ((slopes[piece] - slope).abs() < 1e-3).all()
for kink in (-0.5, 0.2):
    ax.axvline(kink, color="gray", linewidth=0.5)
ax.set_xlabel("one input t (all other inputs fixed)")
ax.set_ylabel("output")
ax.legend()
fig.tight_layout()
# --8<-- [end:figure]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_shapes]
print(f"hidden {tuple(hidden_layer(X, W0).shape)}, prediction {tuple(spreadsheet_predict(X, W0).shape)}")
assert hidden_layer(X, W0).shape == (1424, 2) and spreadsheet_predict(X, W0).shape == (1424,)
# --8<-- [end:quiz_shapes]

# --8<-- [start:quiz_bias]
with_ones = X @ W0  # the sheet: the last column of X is all ones
nine_plus_bias = X[:, :9] @ W0[:9] + W0[9]  # nine inputs, and W's last row added as a bias vector
same = torch.allclose(with_ones, nine_plus_bias, rtol=1e-5, atol=1e-6)  # two summation orders: float32
print(f"equal to float32 rounding: {same}")
assert same
# --8<-- [end:quiz_bias]

# --8<-- [start:quiz_one_layer]
t1 = torch.linspace(-2, 2, 401, device=device)  # one input, and the column of ones
X1 = torch.stack([t1, torch.ones_like(t1)], dim=1)
W1 = torch.tensor([[1.0, -1.5], [0.5, 0.3]], device=device)  # the two units of the figure
misses = []
for prediction in ((X1 @ W1).sum(dim=1), spreadsheet_predict(X1, W1)):  # without, then with the ReLU
    fit = torch.linalg.lstsq(X1, prediction[:, None]).solution  # the best single linear layer
    misses.append((X1 @ fit - prediction[:, None]).norm() / prediction.norm())
print(f"without ReLU the best linear fit misses by {misses[0]:.0%}; with ReLU it misses by {misses[1]:.0%}")
assert misses[0] < 1e-4 and 0.3 < misses[1] <= 1  # relative misses: fitting 0 everywhere would miss by 100%
# --8<-- [end:quiz_one_layer]

# --8<-- [start:quiz_dead]
W_off = W0.clone()
W_off[-1, 0] = -10.0  # unit 1's bias: its z is negative for every passenger
W_off.requires_grad_()
mse(spreadsheet_predict(X, W_off), y).backward()
print(f"unit 1's ten weights all get gradient zero: {bool((W_off.grad[:, 0] == 0).all())}")
assert (W_off.grad[:, 0] == 0).all() and (W_off.grad[:, 1] != 0).any()  # unit 2 still learns
# --8<-- [end:quiz_dead]
