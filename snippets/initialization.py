"""Parameter initialisation: symmetry, the scale of random weights through depth, Kaiming and Xavier."""
# --8<-- [start:setup]
import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:symmetry]
x = torch.linspace(-2, 2, 64, device=device)[:, None]
y = torch.sin(2 * x) + 1  # a curve to fit; its mean is 1


def mlp(constant=None):
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1)).to(device)
    if constant is not None:  # every weight and bias set to the same number
        for p in model.parameters():
            nn.init.constant_(p, constant)
    return model


def fit(model, steps=200):
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(steps):  # full batch: the same 64 points at every step
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return F.mse_loss(model(x), y).detach()


def hidden_units_identical(model):
    w1, b1, w2 = model[0].weight, model[0].bias, model[2].weight  # unit j: w1[j], b1[j], w2[:, j]
    units = torch.cat([w1, b1[:, None], w2.T], dim=1).detach()  # one row per hidden unit
    return torch.allclose(units, units[:1].expand_as(units))


zeros, constant, random = mlp(constant=0.0), mlp(constant=0.5), mlp()
loss_zeros, loss_constant, loss_random = fit(zeros), fit(constant), fit(random)
assert hidden_units_identical(zeros) and hidden_units_identical(constant)  # still copies of each other
assert not hidden_units_identical(random)
assert all((p == 0).all() for p in (zeros[0].weight, zeros[0].bias, zeros[2].weight))  # never moved
torch.testing.assert_close(zeros(x), torch.full_like(y, 1.0), rtol=0.0, atol=0.05)  # bias → mean(y)
assert loss_random < 0.1 * min(loss_zeros, loss_constant)  # 16 different units fit the curve far better
last_zero = mlp()
nn.init.zeros_(last_zero[2].weight)  # only the output layer starts at zero
nn.init.zeros_(last_zero[2].bias)
loss_last_zero = fit(last_zero)
assert not hidden_units_identical(last_zero)  # the random first layer already told the units apart
assert loss_last_zero < 0.1 * min(loss_zeros, loss_constant)  # and it trains like the random start
print(f"loss after 200 steps: zeros {loss_zeros:.3f}, constant 0.5 {loss_constant:.3f},"
      f" random {loss_random:.3f}, random with a zero output layer {loss_last_zero:.3f}")
# --8<-- [end:symmetry]


# --8<-- [start:depth]
def naive(fan_in, fan_out):
    return torch.randn(fan_out, fan_in, device=device)  # N(0, 1): ignores the layer size


def too_small(fan_in, fan_out):
    return 0.01 * torch.randn(fan_out, fan_in, device=device)  # N(0, 0.01²)


def kaiming(fan_in, fan_out):
    return torch.randn(fan_out, fan_in, device=device) * math.sqrt(2 / fan_in)  # std = √(2 / fan_in)


def activation_stds(init, depth=20, width=256, nonlinearity=torch.relu):
    """Push a batch through `depth` layers drawn by `init`; return each layer's pre-activation std."""
    h = torch.randn(256, width, device=device)  # inputs with std 1
    stds = []
    for _ in range(depth):
        z = h @ init(width, width).T  # z_l = W_l h_{l-1} (no bias: only the weights' scale matters here)
        stds.append(z.std())
        h = nonlinearity(z)
    return torch.stack(stds)


def growth_per_layer(stds):  # geometric mean of std_l / std_{l-1}
    return (stds[-1] / stds[0]) ** (1 / (len(stds) - 1))


def assert_near(actual, expected, rtol):  # a measured statistic against a number from a formula
    torch.testing.assert_close(actual, torch.tensor(expected, device=device), rtol=rtol, atol=0)


std_naive = activation_stds(naive)
std_small = activation_stds(too_small)
std_kaiming = activation_stds(kaiming)
assert std_naive[-1] > 1e15 and std_small[-1] < 1e-15  # explode / vanish after 20 layers
assert ((0.4 < std_kaiming) & (std_kaiming < 4)).all()  # Kaiming: O(1) at every depth, around √2
assert (std_naive[-1] ** 2).isinf()  # an MSE on such outputs overflows float32 (max ≈ 3.4e38)
width = 256  # predicted factor per layer: √(fan_in · Var(w) / 2)
assert_near(growth_per_layer(std_naive), math.sqrt(width * 1.0 / 2), rtol=0.1)  # √128 ≈ 11.3
assert_near(growth_per_layer(std_small), math.sqrt(width * 0.01**2 / 2), rtol=0.1)  # 0.113
print("std of layer 1, 10, 20:")
for name, stds in [("N(0, 1)", std_naive), ("N(0, 0.01²)", std_small), ("Kaiming", std_kaiming)]:
    print(f"  {name:12s}", ", ".join(f"{s:.2e}" for s in stds[[0, 9, 19]]))
# --8<-- [end:depth]

# --8<-- [start:kaiming_check]
fan_in, fan_out = 1000, 500
ours = kaiming(fan_in, fan_out)
empty = torch.empty(fan_out, fan_in, device=device)
theirs = nn.init.kaiming_normal_(empty, mode="fan_in", nonlinearity="relu")
target = math.sqrt(2 / fan_in)  # 0.0447
# 500 000 samples: the sample std is within ~0.1% of the true one, so 1% is a safe tolerance
for w in (ours, theirs):
    assert_near(w.std(), target, rtol=0.01)
    assert w.mean().abs() < 0.01 * target  # centred on zero
print(f"std: ours {ours.std():.5f}, nn.init.kaiming_normal_ {theirs.std():.5f}, √(2/fan_in) {target:.5f}")
# --8<-- [end:kaiming_check]

# --8<-- [start:linear_default]
layer = nn.Linear(fan_in, fan_out).to(device)  # PyTorch's default: kaiming_uniform_(a=√5)
bound = 1 / math.sqrt(fan_in)  # gain √(2/(1+5)) times √(3/fan_in) = 1/√fan_in
for p in (layer.weight, layer.bias):
    assert 0.95 * bound < p.abs().max() <= bound  # U(-1/√fan_in, 1/√fan_in), filled to its edges
assert_near(layer.weight.std(), bound / math.sqrt(3), rtol=0.01)  # a uniform on ±b has std b/√3


def linear_default(fan_in, fan_out):
    return nn.Linear(fan_in, fan_out, bias=False).to(device).weight.detach()


std_default = activation_stds(linear_default)  # std 1/√(3 fan_in): √6 ≈ 2.4 times below Kaiming
assert_near(growth_per_layer(std_default), math.sqrt(1 / 6), rtol=0.1)  # √(fan_in · 1/(3 fan_in) / 2)
assert std_default[-1] < 1e-5  # 20 plain ReLU layers of default nn.Linear: the signal fades
print(f"nn.Linear default: bound {bound:.4f}, std {layer.weight.std():.4f};"
      f" std after 20 ReLU layers {std_default[-1]:.1e}")
# --8<-- [end:linear_default]


# --8<-- [start:xavier]
def xavier_tanh(fan_in, fan_out):  # Glorot: std = gain · √(2 / (fan_in + fan_out)), gain 5/3 for tanh
    gain = nn.init.calculate_gain("tanh")  # 5/3
    return torch.randn(fan_out, fan_in, device=device) * gain * math.sqrt(2 / (fan_in + fan_out))


assert nn.init.calculate_gain("tanh") == 5 / 3
theirs = nn.init.xavier_normal_(torch.empty(fan_out, fan_in, device=device), gain=5 / 3)
torch.testing.assert_close(theirs.std(), xavier_tanh(fan_in, fan_out).std(), rtol=0.01, atol=0)
std_xavier = activation_stds(xavier_tanh, nonlinearity=torch.tanh)
assert ((0.5 < std_xavier) & (std_xavier < 2)).all()  # tanh with Xavier and gain 5/3: O(1) throughout
std_gain_one = activation_stds(lambda i, o: xavier_tanh(i, o) * 3 / 5, nonlinearity=torch.tanh)
assert std_gain_one[-1] < 0.3  # gain 1 under tanh: a slow fade
# layer 1 sees the unsquashed inputs (std 1), so its std is √fan_in · gain · √(2 / (2 fan_in)) = the gain;
# 256 units of 256 weights each pin that down to about 1%, hence 5%
assert_near(std_xavier[0], 5 / 3, rtol=0.05)
assert_near(std_gain_one[0], 1.0, rtol=0.05)
print(f"tanh, layer 20: Xavier with gain 5/3 {std_xavier[-1]:.2f}, gain 1 {std_gain_one[-1]:.2f}")
# --8<-- [end:xavier]


# --8<-- [start:seed]
def init_cell(seed=0):  # notebook cell 1: fix the seed, create the parameters
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1)).to(device)


def train_cell(model, steps=50):  # notebook cell 2: train what cell 1 made; returns first and last loss
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(steps):
        loss = F.mse_loss(model(x), y)
        losses.append(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return losses[0], F.mse_loss(model(x), y).detach()


model = init_cell()
initial = copy.deepcopy(model.state_dict())
first_run = train_cell(model)
second_run = train_cell(model)  # rerunning the training cell: continues where the first run stopped
torch.testing.assert_close(second_run[0], first_run[1])
assert second_run[1] < first_run[1]
torch.testing.assert_close(init_cell().state_dict(), initial, rtol=0, atol=0)  # rerun cell 1: same start
assert not torch.equal(init_cell(seed=1)[0].weight, initial["0.weight"])  # another seed, other weights
print(f"training cell run twice: loss {first_run[0]:.3f} → {first_run[1]:.3f},"
      f" then {second_run[0]:.3f} → {second_run[1]:.3f}")
# --8<-- [end:seed]

# --8<-- [start:zeros]
fresh = mlp(constant=0.0)
F.mse_loss(fresh(x), y).backward()  # the very first backward pass from all zeros
moving = [name for name, p in fresh.named_parameters() if p.grad.abs().max() > 0]
assert moving == ["2.bias"]  # tanh(0) = 0 and output weights 0: only the output bias gets a gradient

zero_biases = mlp()
nn.init.zeros_(zero_biases[0].bias)  # random weights, every bias zero
nn.init.zeros_(zero_biases[2].bias)
loss_zero_biases = fit(zero_biases)
assert loss_zero_biases < 0.1 * min(loss_zeros, loss_constant)  # zero biases are harmless
print(f"gradients from an all-zero start: only {moving}; random weights with zero biases: loss {loss_zero_biases:.3f}")
# --8<-- [end:zeros]

# --8<-- [start:figure]
import math

import matplotlib.pyplot as plt
import torch

device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
torch.manual_seed(0)
width, depth = 256, 20
fig, ax = plt.subplots(figsize=(6, 3.5))
for label, std in [("N(0, 1)", 1.0), ("nn.Linear default", 1 / math.sqrt(3 * width)),
                   ("Kaiming, √(2/fan_in)", math.sqrt(2 / width)), ("N(0, 0.01²)", 0.01)]:
    h, stds = torch.randn(256, width, device=device), []
    for _ in range(depth):
        z = h @ (std * torch.randn(width, width, device=device))  # one layer, no bias
        stds.append(z.std())
        h = torch.relu(z)
    ax.semilogy(range(1, depth + 1), torch.stack(stds).cpu(), marker="o", markersize=3, label=label)
ax.set_xlabel("layer")
ax.set_ylabel("std of pre-activations")
ax.set_xticks(range(0, depth + 1, 5))
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize="small")
# --8<-- [end:figure]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_zeros]
predictions = zeros(x).detach()  # the all-zero network above, after its 200 training steps
print(f"{predictions.unique().numel()} distinct prediction: {predictions[0, 0]:.2f}")
assert predictions.unique().numel() == 1  # a flat line, whatever the input ...
torch.testing.assert_close(predictions[0, 0], y.mean(), rtol=0.0, atol=0.05)  # ... at the mean of y
# --8<-- [end:quiz_zeros]

# --8<-- [start:quiz_constant]
units = torch.cat([constant[0].weight, constant[0].bias[:, None], constant[2].weight.T], dim=1).detach()
same = int(torch.isclose(units, units[0]).all(dim=1).sum())  # one row per hidden unit, after 200 steps
print(f"{same} of {len(units)} units equal to unit 0")
assert same == len(units) == 16  # equal start, equal gradients, equal steps: one unit, sixteen times
# --8<-- [end:quiz_constant]

# --8<-- [start:quiz_depth]
h = torch.randn(256, 256, device=device)  # a batch of inputs with std 1
for _ in range(20):
    z = h @ naive(256, 256).T  # weights N(0, 1): the std grows by about √128 ≈ 11 per layer
    h = torch.relu(z)
print(f"mean squared output: {(z**2).mean().item()}")
assert (z**2).mean().isinf() and z.isfinite().all()  # outputs near 1e20 are finite; their squares are not
# --8<-- [end:quiz_depth]

# --8<-- [start:quiz_default]
layer = nn.Linear(100, 1000).to(device)  # weight shape (1000, 100): fan_in = 100, the number of columns
print(f"largest |weight| {layer.weight.abs().max():.2f}")
assert 0.095 < layer.weight.abs().max() <= 1 / math.sqrt(100)  # uniform on ±1/√fan_in, filled to its edges
# --8<-- [end:quiz_default]
