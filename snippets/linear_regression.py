"""Linear regression y = a1 x1 + a2 x2 with x2 = 1, fitted by gradient descent and by least squares."""
# --8<-- [start:setup]
import torch

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:data]
n = 100
a_true = torch.tensor([3.0, 2.0], device=device)  # a1 = slope, a2 = intercept
noise_std = 0.5
x1 = torch.empty(n, device=device).uniform_(-1.0, 1.0)  # the one real input
ones = torch.ones(n, device=device)  # x2 = 1 for every row: the intercept's "input"
X = torch.stack([x1, ones], dim=1)  # (n, 2): one row per example
y = X @ a_true + noise_std * torch.randn(n, device=device)  # y_i = 3 x_i1 + 2 x_i2 + noise

assert X.shape == (n, 2) and torch.equal(X[:, 1], ones)
# Row by row, the product is the line: y_i = a1 x_i1 + a2 · 1 = slope · x_i + intercept.
# Same two products and one sum per row; a matmul may fuse the multiply and the add (one
# rounding instead of two), so allow float32's last bit: 1e-6.
rows = torch.stack([a_true[0] * X[i, 0] + a_true[1] * X[i, 1] for i in range(n)])
torch.testing.assert_close(X @ a_true, rows, rtol=1e-6, atol=1e-6)
torch.testing.assert_close(X @ a_true, a_true[0] * x1 + a_true[1], rtol=1e-6, atol=1e-6)
# --8<-- [end:data]


# --8<-- [start:model]
def predict(X, a):
    return X @ a  # ŷ = X a: every row's a1 x1 + a2 x2 at once


def mse(X, a, y):
    return ((predict(X, a) - y) ** 2).mean()  # L(a) = (1/N) Σ_i (x_i·a - y_i)²


def mse_gradient(X, a, y):
    return 2 / len(y) * X.T @ (predict(X, a) - y)  # ∇L(a) = (2/N) Xᵀ (X a - y)


def show(a):  # two coefficients as text, the same on every device
    return "(" + ", ".join(f"{v:.4f}" for v in a.detach().tolist()) + ")"


a_guess = torch.tensor([-1.0, 1.0], device=device, requires_grad=True)
mse(X, a_guess, y).backward()  # autograd's answer, for comparison
# float32: the hand formula and autograd add the same 100 products in different orders,
# so they differ by rounding only, far below 1e-5 for gradients of order 1 to 10.
torch.testing.assert_close(mse_gradient(X, a_guess.detach(), y), a_guess.grad, rtol=1e-5, atol=1e-5)
print(f"gradient at (-1, 1): by hand {show(mse_gradient(X, a_guess.detach(), y))}, autograd {show(a_guess.grad)}")
# --8<-- [end:model]


# --8<-- [start:descent]
def gradient_descent(X, y, a, lr, steps):
    losses = torch.empty(steps, device=device)  # kept on the device: no host sync per step
    for t in range(steps):
        losses[t] = mse(X, a, y)
        a = a - lr * mse_gradient(X, a, y)  # a ← a - η ∇L(a)
    return a, losses


lr = 0.2
curvatures = torch.linalg.eigvalsh(2 / n * X.T @ X)  # eigenvalues of the Hessian (2/N) XᵀX
hessian = torch.autograd.functional.hessian(lambda a: mse(X, a, y), torch.zeros(2, device=device))  # any a: constant
# float32: two summation orders of 100 products of order 1, so rounding of ~1e-7; 1e-5 is ample
torch.testing.assert_close(curvatures, torch.linalg.eigvalsh(hessian), rtol=1e-5, atol=1e-5)
assert lr < 2 / curvatures.max()  # below 2/L the steps shrink every error component
a_start = torch.tensor([-1.0, 1.0], device=device)  # a poor first guess: slope -1, intercept 1
a_gd, losses = gradient_descent(X, y, a_start, lr=lr, steps=300)
assert (losses[1:] <= losses[:-1] + 1e-6).all()  # on a quadratic, then, the loss never rises
print(f"gradient descent: a = {show(a_gd)}, loss {losses[0]:.3f} -> {losses[-1]:.4f}")
# --8<-- [end:descent]

# --8<-- [start:check]
a_lstsq = torch.linalg.lstsq(X, y[:, None]).solution.squeeze(1)  # argmin_a ‖X a - y‖²
a_normal = torch.linalg.solve(X.T @ X, X.T @ y)  # XᵀX a = Xᵀ y, the normal equations
# The three answers minimise the same convex quadratic, whose minimiser is unique. Each step multiplies
# the distance to it by at most max |1 - η λ| over the Hessian's eigenvalues λ, so after 300 steps:
assert (1 - lr * curvatures).abs().max() ** 300 < 1e-18
# gradient descent's remaining error is below 1e-18 of where it started; what is left is
# float32 rounding in three different algorithms, ~1e-6 here. 1e-4 leaves ample room and is
# still hundreds of times smaller than the noise-driven error in the estimate itself (below).
TOL = dict(rtol=1e-4, atol=1e-4)
torch.testing.assert_close(a_gd, a_lstsq, **TOL)
torch.testing.assert_close(a_normal, a_lstsq, **TOL)
# At the minimum the gradient vanishes: (2/N) Xᵀ (X a - y) = 0 is the normal equations again.
torch.testing.assert_close(mse_gradient(X, a_lstsq, y), torch.zeros_like(a_lstsq), rtol=0, atol=1e-5)

# The fit recovers (3, 2) up to the noise. Standard errors: σ √diag((XᵀX)⁻¹).
standard_error = noise_std * torch.linalg.inv(X.T @ X).diagonal().sqrt()
assert ((a_lstsq - a_true).abs() < 4 * standard_error).all()  # fails with probability ~1e-4
# They are the spread of the estimate over fresh noise: 4000 noise draws, 4000 fits (one lstsq call).
refits = torch.linalg.lstsq(X, (X @ a_true)[:, None] + noise_std * torch.randn(n, 4000, device=device)).solution
# The standard deviation of 4000 normal samples is off by 1/√(2·4000) ≈ 1.1% (one sd): 5% is over 4 of those.
torch.testing.assert_close(refits.std(dim=1), standard_error, rtol=0.05, atol=0)
print(f"lstsq: {show(a_lstsq)}, normal equations: {show(a_normal)}, standard errors: {show(standard_error)}")
gaps = (a_gd - a_lstsq).abs().max(), (a_normal - a_lstsq).abs().max()
print("largest gap to lstsq: gradient descent {:.1e}, normal equations {:.1e}".format(*gaps))
assert max(gaps) < standard_error.min() / 100  # which algorithm matters far less than the noise in the data
# --8<-- [end:check]

# --8<-- [start:offset_noise]
# Noise that does not average to zero, e.g. torch.rand (uniform on [0, 1), mean 0.5):
y_offset = X @ a_true + torch.rand(n, device=device)
a_offset = torch.linalg.lstsq(X, y_offset[:, None]).solution.squeeze(1)
uniform_std = 12**-0.5  # standard deviation of U[0, 1)
se_offset = uniform_std * torch.linalg.inv(X.T @ X).diagonal().sqrt()
# The intercept absorbs the mean offset (2 + 0.5); the slope is unaffected.
assert ((a_offset - torch.tensor([3.0, 2.5], device=device)).abs() < 4 * se_offset).all()
# The same formula holds for uniform noise: the spread over 4000 fresh draws (each estimate is a weighted
# sum of 100 uniform draws, close to normal, so again ~1.1% sampling error and a 5% tolerance).
offset_refits = torch.linalg.lstsq(X, (X @ a_true)[:, None] + torch.rand(n, 4000, device=device)).solution
torch.testing.assert_close(offset_refits.std(dim=1), se_offset, rtol=0.05, atol=0)
print(f"with noise of mean 0.5: slope {a_offset[0]:.1f}, intercept {a_offset[1]:.1f}")  # rounded to the standard error
# --8<-- [end:offset_noise]

# --8<-- [start:no_ones]
X_no_ones = x1[:, None]  # (n, 1): the same matmul works fine without the column of ones
a_origin = torch.linalg.lstsq(X_no_ones, y[:, None]).solution.squeeze(1)  # slope only
assert a_origin.shape == (1,)
zero = torch.zeros(1, 1, device=device)
assert torch.equal(predict(zero, a_origin), torch.zeros(1, device=device))  # forced through 0
loss_with, loss_without = mse(X, a_lstsq, y), mse(X_no_ones, a_origin, y)
# Without the intercept the fit cannot lift the line by 2: the loss grows by about 2² = 4.
assert loss_without > 10 * loss_with
# The same model, written with a separate bias b added by broadcasting: y = x a1 + b.
torch.testing.assert_close(x1 * a_lstsq[0] + a_lstsq[1], predict(X, a_lstsq), rtol=1e-6, atol=1e-6)
print(f"MSE with the column of ones: {loss_with:.3f}; through the origin: {loss_without:.3f}")
# --8<-- [end:no_ones]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_column]
a_column = torch.zeros(2, 1, device=device)  # the parameters as a column, shape (2, 1)
residual = X @ a_column - y                  # (100, 1) - (100,)
print(residual.shape)
assert residual.shape == (n, n)              # every prediction minus every target
assert torch.equal(residual[3], -y)          # row i: prediction i (0 here) minus all the targets
# --8<-- [end:quiz_column]

# --8<-- [start:quiz_origin]
slope_only = predict(X_no_ones, a_origin)    # (100, 1) @ (1,): a valid product
at_zero = predict(torch.zeros(1, 1, device=device), a_origin)
print(f"X_no_ones @ a: {slope_only.shape}; prediction at x = 0: {float(at_zero):g}")
assert slope_only.shape == (n,) and at_zero == 0  # through the origin, whatever the data say
# --8<-- [end:quiz_origin]

# --8<-- [start:quiz_gradient]
X_two = torch.tensor([[-1.0, 1.0], [1.0, 1.0]], device=device)  # x = -1 and x = 1, with the ones
y_two = torch.tensor([-1.0, 5.0], device=device)                # on the line y = 3x + 2
a_zero = torch.zeros(2, device=device, requires_grad=True)
mse(X_two, a_zero, y_two).backward()
print(mse_gradient(X_two, a_zero.detach(), y_two).tolist())
assert torch.equal(mse_gradient(X_two, a_zero.detach(), y_two), a_zero.grad)  # small integers: exact
assert a_zero.grad.tolist() == [-6.0, -4.0]  # 2/2 · Xᵀ(0 - y) = Xᵀ(1, -5)
# --8<-- [end:quiz_gradient]

# --8<-- [start:quiz_lr]
_, too_fast = gradient_descent(X, y, a_start, lr=1.5, steps=20)  # above 2 / L this time
rises = bool(too_fast[-1] > too_fast[0])
# L is at least the Hessian's diagonal entry 2 and, for inputs spread over [-1, 1], only a little above it
print(f"lr 1.5: loss rises {rises}; largest curvature L = {curvatures.max():.0f}")
assert rises and 1.5 > 2 / curvatures.max()
# --8<-- [end:quiz_lr]
