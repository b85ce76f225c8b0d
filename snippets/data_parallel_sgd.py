"""Data-parallel SGD: shard gradients averaged by all-reduce, checked against one process."""
# --8<-- [start:setup]
import os
import tempfile

import torch
import torch._dynamo  # noqa: F401  optimizers and DDP import it on first use (slow): do it before forking
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# --8<-- [end:setup]

# --8<-- [start:shards]
def make_model():
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))


def gradients(model, X, y):
    """∇ of the mean squared error over the rows of X, one tensor per parameter."""
    loss = F.mse_loss(model(X), y)  # a mean over the rows: (1/B) Σ_i ℓ_i
    return torch.autograd.grad(loss, list(model.parameters()))


model = make_model().to(device)
X = torch.randn(8, 4, device=device)
y = torch.randn(8, 1, device=device)
full = gradients(model, X, y)  # the whole batch of 8 on one device

for workers in (2, 4):  # equal shards of 4 and of 2 rows
    per_shard = [gradients(model, Xs, ys) for Xs, ys in zip(X.chunk(workers), y.chunk(workers))]
    averaged = [torch.stack(gs).mean(dim=0) for gs in zip(*per_shard)]  # (1/W) Σ_w g_w
    # Same sum of 8 per-row terms, grouped differently: float32 rounding only (~1e-7)
    torch.testing.assert_close(averaged, list(full), rtol=1e-5, atol=1e-6)

# Unequal shards (5 rows and 3): the plain average is biased, a size-weighted one is not
big, small = gradients(model, X[:5], y[:5]), gradients(model, X[5:], y[5:])
plain = [(a + b) / 2 for a, b in zip(big, small)]
weighted = [(5 * a + 3 * b) / 8 for a, b in zip(big, small)]  # Σ_w (B_w / B) g_w
torch.testing.assert_close(weighted, list(full), rtol=1e-5, atol=1e-6)
error = [p - f for p, f in zip(plain, full)]
# The plain average counts each of the 3 small-shard rows as 1/6 instead of 1/8 and each of the 5 others as
# 1/10: its error is (4 g_big + 4 g_small - 5 g_big - 3 g_small) / 8 = (g_small - g_big) / 8. Float32 rounding
# of differences of order-1 gradients, as above.
torch.testing.assert_close(error, [(b - a) / 8 for a, b in zip(big, small)], rtol=1e-5, atol=1e-6)
miss = max(e.abs().max() for e in error)
assert miss > 1e-3
print(f"shards of 5 and 3 rows: the plain average misses by {miss:.1e}, the weighted one matches")
# --8<-- [end:shards]

# --8<-- [start:all_reduce]
def all_reduce_mean(per_worker):
    """What every worker holds after all-reduce(SUM) and a division by the world size."""
    world_size = len(per_worker)
    total = [torch.stack(gs).sum(dim=0) for gs in zip(*per_worker)]  # Σ_w g_w, the SUM all-reduce
    averaged = [t / world_size for t in total]  # (1/W) Σ_w g_w
    return [[a.clone() for a in averaged] for _ in range(world_size)]  # one identical copy per worker


per_worker = [gradients(model, Xs, ys) for Xs, ys in zip(X.chunk(2), y.chunk(2))]
for held in all_reduce_mean(per_worker):
    torch.testing.assert_close(held, list(full), rtol=1e-5, atol=1e-6)
# --8<-- [end:all_reduce]

# --8<-- [start:sampler]
dataset = TensorDataset(torch.arange(10, device=device))  # 10 examples for 4 ranks: not a multiple of 4
R = 4


def rank_indices(drop_last):
    """The examples each rank would read in one epoch (no process group needed to ask)."""
    return [list(DistributedSampler(dataset, num_replicas=R, rank=r, shuffle=False, drop_last=drop_last))
            for r in range(R)]


padded = rank_indices(drop_last=False)
assert [len(mine) for mine in padded] == [3] * R  # ⌈10 / 4⌉ each: every rank the same number
seen = [i for mine in padded for i in mine]
assert set(seen) == set(range(10)) and len(seen) == 12  # all 10 examples, and 2 of them twice

dropped = rank_indices(drop_last=True)
assert [len(mine) for mine in dropped] == [2] * R  # ⌊10 / 4⌋ each
used = {i for mine in dropped for i in mine}
assert len(used) == 8  # no repeats; 2 examples sit this epoch out

loaders = [DataLoader(dataset, batch_size=2, sampler=DistributedSampler(dataset, R, rank=r, shuffle=False))
           for r in range(R)]
steps = [[len(batch) for (batch,) in loader] for loader in loaders]  # shard size per step, per rank
assert steps == [[2, 1]] * R  # as many steps on every rank (as many all-reduces), equal shards at each

shuffled = DistributedSampler(dataset, R, rank=0, seed=0)  # shuffle=True is the default
epoch_0, again = list(shuffled), list(shuffled)
assert epoch_0 == again  # the same order every epoch, unless told which epoch it is ...
orders = []
for epoch in range(5):
    shuffled.set_epoch(epoch)  # ... with set_epoch(epoch), called at the start of every epoch
    orders.append(list(shuffled))
assert len({tuple(order) for order in orders}) > 1
print(f"10 examples on {R} ranks: padded {padded}; drop_last {dropped}")
# --8<-- [end:sampler]

# --8<-- [start:reference]
cpu = torch.device("cpu")  # gloo all-reduces CPU tensors; NCCL would need one GPU per process
WORLD_SIZE, PER_WORKER, STEPS, LR = 2, 4, 5, 0.1
data_X = torch.randn(32, 4, device=cpu)
data_y = torch.randn(32, 1, device=cpu)
batches = [torch.randperm(32, device=cpu)[: WORLD_SIZE * PER_WORKER] for _ in range(STEPS)]
start = make_model().to(cpu)  # forked workers inherit these exact weights


def flat(model):  # all parameters as one vector, for comparisons
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def train_single_process(steps):
    """The baseline: one process, the whole global batch of WORLD_SIZE × PER_WORKER rows per step."""
    model = make_model().to(cpu)
    model.load_state_dict(start.state_dict())
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    for idx in batches[:steps]:
        opt.zero_grad()
        F.mse_loss(model(data_X[idx]), data_y[idx]).backward()
        opt.step()
    return flat(model)
# --8<-- [end:reference]

# --8<-- [start:worker]
def worker(rank, world_size, store, results, use_ddp, steps):
    """One process of data-parallel SGD. Runs in a forked child: rank 0 or 1."""
    torch.set_num_threads(1)  # one process per core
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world_size)
    model = make_model().to(cpu)
    model.load_state_dict(start.state_dict())
    if use_ddp:
        if rank == 1:
            with torch.no_grad():
                model[0].weight.add_(1.0)  # spoil this replica: DDP must overwrite it
        model = DDP(model)  # broadcasts rank 0's parameters to every rank, then hooks backward
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    for idx in batches[:steps]:
        mine = idx.chunk(world_size)[rank]  # this worker's shard of the global batch
        opt.zero_grad()
        F.mse_loss(model(data_X[mine]), data_y[mine]).backward()
        if not use_ddp:  # by hand: sum over workers, then divide by their number
            for p in model.parameters():
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)  # g ← Σ_w g_w, on every rank
                p.grad /= world_size  # g ← (1/W) Σ_w g_w
        opt.step()  # same averaged gradient on every rank, so the same update
    results.put((rank, flat(model).tolist()))  # a few dozen floats: plain Python, no shared memory
    # Free the model before the process group. A DDP model holds the group; left to be freed on
    # return, it can be the group's last owner, and that teardown deadlocks now and then (gloo,
    # torch 2.13: it waits for gloo's thread while holding the GIL that thread needs).
    del model, opt
    dist.destroy_process_group()


def run_workers(use_ddp, steps):
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"  # gloo's sockets on the loopback interface only
    context = mp.get_context("fork")  # fork: the child inherits the functions defined above
    results = context.Queue()
    with tempfile.TemporaryDirectory() as tmpdir:  # rendezvous through a file, not a network port
        args = (WORLD_SIZE, f"{tmpdir}/store", results, use_ddp, steps)
        # join=True re-raises a worker's exception here; a few hundred bytes per result fit in the
        # queue's pipe buffer, so the workers can exit before we read them
        mp.start_processes(worker, args=args, nprocs=WORLD_SIZE, start_method="fork")
    by_rank = dict(results.get(timeout=30) for _ in range(WORLD_SIZE))
    return [torch.tensor(by_rank[rank], device=cpu) for rank in range(WORLD_SIZE)]
# --8<-- [end:worker]

# --8<-- [start:manual]
rank0, rank1 = run_workers(use_ddp=False, steps=1)
one_step = train_single_process(steps=1)
# The all-reduce adds the two shard gradients in its own order: float32 rounding only
torch.testing.assert_close(rank0, one_step, rtol=1e-5, atol=1e-6)
assert torch.equal(rank0, rank1)  # every rank received the same bits
print(f"hand all-reduce, 1 step: max gap to one process {(rank0 - one_step).abs().max():.1e}")
# --8<-- [end:manual]

# --8<-- [start:ddp]
rank0, rank1 = run_workers(use_ddp=True, steps=STEPS)
reference = train_single_process(steps=STEPS)
torch.testing.assert_close(rank0, reference, rtol=1e-5, atol=1e-6)  # rounding only, over 5 steps
assert torch.equal(rank0, rank1)  # the replicas are identical after every step, bit for bit
print(f"DDP, {STEPS} steps: max gap to one process {(rank0 - reference).abs().max():.1e}; ranks equal")
# --8<-- [end:ddp]

# --8<-- [start:local_sgd]
def train_alone_then_average(steps):
    """The misconception: each worker trains its own copy on its shards; average once at the end."""
    replicas = []
    for rank in range(WORLD_SIZE):
        model = make_model().to(cpu)
        model.load_state_dict(start.state_dict())
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        for idx in batches[:steps]:
            mine = idx.chunk(WORLD_SIZE)[rank]
            opt.zero_grad()
            F.mse_loss(model(data_X[mine]), data_y[mine]).backward()
            opt.step()
        replicas.append(flat(model))
    return torch.stack(replicas).mean(dim=0), replicas


averaged_once, replicas = train_alone_then_average(STEPS)
drift = (replicas[0] - replicas[1]).abs().max()  # unsynchronised replicas drift apart
gap = (averaged_once - reference).abs().max()
assert drift > 1e-2 and gap > 1e-3  # far outside the 1e-6 that DDP met: a different algorithm
# Yet the average is much closer to DDP than the replicas are to each other. The replicas part by their
# shards' gradients, r_0 - r_1 = η Σ_t (g_1 - g_0) to first order in η, and those parts cancel in the
# average; what is left comes from gradients taken at weights that have drifted, second order in η.
assert gap < drift / 4
# After ONE plain-SGD step, averaging weights is averaging gradients: the two agree
torch.testing.assert_close(train_alone_then_average(1)[0], one_step, rtol=1e-5, atol=1e-6)
print(f"train alone, average after {STEPS} steps: replicas differ by {drift:.1e}, "
      f"average is {gap:.1e} from DDP")
# --8<-- [end:local_sgd]

# Check yourself: each answer on the page is checked against what these lines print.
# No new processes here: the runs above are reused, or plain tensors show the point.
# --8<-- [start:quiz_all_reduce]
held = all_reduce_mean([[torch.tensor([1.0], device=device)], [torch.tensor([3.0], device=device)]])
by_worker = torch.cat([mine[0] for mine in held])  # what worker 0 and worker 1 hold
print(by_worker.tolist())
assert torch.equal(by_worker, torch.full((2,), 2.0, device=device))  # (1 + 3) / 2, the same on every worker
# --8<-- [end:quiz_all_reduce]

# --8<-- [start:quiz_average_weights]
def verdict(ours, ddp):  # equal up to float32 rounding, as DDP met above
    return "equal" if torch.allclose(ours, ddp, rtol=1e-5, atol=1e-6) else "different"


verdicts = verdict(train_alone_then_average(1)[0], one_step), verdict(averaged_once, reference)
print(f"after 1 step: {verdicts[0]}; after {STEPS} steps: {verdicts[1]}")
assert verdicts == ("equal", "different")  # from step 2 on, each replica's gradient is taken at its own weights
# --8<-- [end:quiz_average_weights]

# --8<-- [start:quiz_uneven]
per_example = torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0, 5.0], device=device)  # one weight's gradients
big_shard, small_shard = per_example[:6], per_example[6:]  # 6 rows on one worker, 2 on the other
plain_average = (big_shard.mean() + small_shard.mean()) / 2  # what DDP computes: (1 + 5) / 2
print(f"plain average {plain_average:.1f}, batch gradient {per_example.mean():.1f}")
assert plain_average == 3.0 and per_example.mean() == 2.0  # the 2 rows of the small shard count 3 times too much
# --8<-- [end:quiz_uneven]

# --8<-- [start:quiz_sampler]
per_rank = [list(DistributedSampler(dataset, num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
print(f"{[len(mine) for mine in per_rank]} examples per rank, {sum(map(len, per_rank))} reads of 10 examples")
assert [len(mine) for mine in per_rank] == [4, 4, 4]  # ⌈10 / 3⌉ each: 2 examples are read twice
# --8<-- [end:quiz_sampler]
