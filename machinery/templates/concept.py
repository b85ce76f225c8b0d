"""TODO({{concept}}): one line: what this snippet computes from scratch and what it is checked against.

A placeholder written by `make new` (python -m machinery.scaffold): a running sum, checked against
torch.cumsum, so that the page passes every check from the start. Replace each section with the
concept's own code; keep the section names the page includes, or rename them in both places.
"""
# --8<-- [start:setup]
import torch

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:scratch]
def running_sum(x):
    """TODO({{concept}}): the placeholder: x[0], x[0] + x[1], ..., one element at a time."""
    total = torch.zeros((), device=x.device)
    out = []
    for value in x:
        total = total + value  # s_k = s_{k-1} + x_k
        out.append(total)
    return torch.stack(out)
# --8<-- [end:scratch]

# --8<-- [start:check]
x = torch.randn(8, device=device)
ours, theirs = running_sum(x), torch.cumsum(x, dim=0)
# float32 sums of at most 8 terms of size ~1: torch may add them in another order, so allow a few
# units in the last place, never an exact comparison.
torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
print(f"running_sum matches torch.cumsum on {len(x)} numbers")
# --8<-- [end:check]

# --8<-- [start:misconception]
summed, accumulated = x.sum(), torch.cumsum(x, dim=0)
print(f"sum: shape {tuple(summed.shape)}; cumsum: shape {tuple(accumulated.shape)}")
assert summed.shape == () and accumulated.shape == x.shape  # one number, against one per entry
torch.testing.assert_close(accumulated[-1], summed, rtol=1e-5, atol=1e-6)  # the last entry is the sum
# --8<-- [end:misconception]

# Check yourself: each answer on the page is checked against what these lines print.
# --8<-- [start:quiz_value]
three = running_sum(torch.tensor([1.0, 2.0, 3.0], device=device))
print(three.tolist())
assert three.tolist() == [1.0, 3.0, 6.0]  # small integers: exact in float32
# --8<-- [end:quiz_value]

# --8<-- [start:quiz_shape]
ones = torch.cumsum(torch.ones(5, device=device), dim=0)
print(ones.shape)
assert ones.shape == (5,) and ones[-1] == 5
# --8<-- [end:quiz_shape]

# --8<-- [start:quiz_last]
last = running_sum(torch.arange(1.0, 5.0, device=device))[-1]
print(f"{last.item():.1f}")
assert last == 1 + 2 + 3 + 4
# --8<-- [end:quiz_last]
