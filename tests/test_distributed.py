"""Tests for lrnotes.nets.distributed: the budget helpers, the resume schedule, and real
torch.distributed runs (gloo, CPU, 127.0.0.1, a free port, bounded in time)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from lrnotes.nets import distributed as D
from lrnotes import schedules as S
from lrnotes.nets.models import mlp

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 120  # seconds, for every group of processes started here


# --------------------------------------------------------------------------- workers (importable: spawn)
def _sleep(rank, world_size, seconds):
    time.sleep(seconds)


def _fail_on_rank_1(rank, world_size):
    if rank == 1:
        raise ValueError("rank 1 failed on purpose")
    return rank


def _group_facts(rank, world_size):
    import torch.distributed as dist

    t = torch.tensor([float(rank + 1)])
    dist.all_reduce(t)
    return {"rank": dist.get_rank(), "size": dist.get_world_size(), "sum": float(t),
            "backend": dist.get_backend(), "addr": os.environ.get("GLOO_SOCKET_IFNAME")}


# --------------------------------------------------------------------------- the budget
@pytest.mark.parametrize("drop_last", [True, False])
def test_steps_per_epoch_is_torchs_own_count(drop_last):
    for n in (7, 10, 96, 97, 100, 1347):
        ds = TensorDataset(torch.arange(n))
        for W in (1, 2, 3, 4, 8):
            for b in (1, 3, 8):
                lens = {len(DataLoader(ds, batch_size=b, drop_last=drop_last,
                                       sampler=DistributedSampler(ds, num_replicas=W, rank=r, shuffle=True,
                                                                  drop_last=drop_last)))
                        for r in range(W)}
                assert len(lens) == 1            # every rank makes the same number of steps
                torch_len = lens.pop()
                if torch_len == 0:
                    with pytest.raises(ValueError, match="dataset_size"):
                        D.steps_per_epoch(n, b, W, drop_last=drop_last)
                else:
                    assert D.steps_per_epoch(n, b, W, drop_last=drop_last) == torch_len, (n, W, b)


def test_step_budget_follows_the_world_size():
    assert D.step_budget(4, 1347, 16, 2) == 4 * 84
    assert D.step_budget(4, 1347, 8, 1) == 4 * 168      # half the GPUs: twice the steps
    assert D.step_budget(0, 1347, 8) == 0
    assert D.step_budget(3, 100, 10, 2, drop_last=False) == 3 * 10
    with pytest.raises(ValueError, match="global_batch must be a multiple of world_size"):
        D.step_budget(1, 100, 10, 3)
    with pytest.raises(ValueError, match="epochs"):
        D.step_budget(-1, 100, 10)
    with pytest.raises(ValueError, match="dataset_size"):
        D.step_budget(1, 15, 16, 2)
    with pytest.raises(ValueError, match="world_size"):
        D.steps_per_epoch(10, 1, 0)
    with pytest.raises(ValueError, match="batch_per_rank"):
        D.steps_per_epoch(10, 0)


def test_lr_scale_rules():
    assert D.lr_scale(16, 8) == 0.5
    assert D.lr_scale(16, 64, "sqrt") == 2.0
    assert D.lr_scale(16, 64, "none") == 1.0
    with pytest.raises(ValueError, match="rule must be one of"):
        D.lr_scale(16, 8, "cubic")
    with pytest.raises(ValueError, match="old_batch"):
        D.lr_scale(0, 8)
    with pytest.raises(ValueError, match="new_batch"):
        D.lr_scale(8, 2.5)


# --------------------------------------------------------------------------- the resume schedule
PLAN = S.cosine(336, 0.5, warmup=17)


def test_resume_schedule_is_retarget_times_the_rule():
    t = np.arange(700)
    same = D.resume_schedule(PLAN, 168, 504)
    assert np.array_equal(same(t), S.retarget(PLAN, at=168, total=504)(t)) and same.params["scale"] == 1.0
    down = D.resume_schedule(PLAN, 168, 504, old_batch=16, new_batch=8)
    assert np.array_equal(down(t[:168]), PLAN(t[:168]))
    assert np.array_equal(down(t[168:]), 0.5 * S.retarget(PLAN, at=168, total=504)(t[168:]))
    assert down(168) / 8 == PLAN(168) / 16                   # no jump in the LR per example
    assert down.total == 504 and down(504) == 0.0 and down(600) == 0.0
    sq = D.resume_schedule(PLAN, 168, 210, old_batch=16, new_batch=64, rule="sqrt")
    assert sq(168) == 2.0 * PLAN(168)


def test_resume_schedule_cap():
    up = D.resume_schedule(PLAN, 168, 178, old_batch=16, new_batch=256)
    assert up.params["scale"] == 16.0 and up(168) == 16 * PLAN(168)
    capped = D.resume_schedule(PLAN, 168, 178, old_batch=16, new_batch=256, max_lr=1.5)
    lrs = capped(np.arange(168, 179))
    assert lrs.max() == pytest.approx(1.5, rel=1e-12) and np.all(lrs <= 1.5 * (1 + 1e-12))
    assert 0 < capped.params["scale"] < 16
    loose = D.resume_schedule(PLAN, 168, 178, old_batch=16, new_batch=256, max_lr=100.0)
    assert loose.params["scale"] == 16.0                      # a cap above the request: unused
    with pytest.raises(ValueError, match="max_lr"):
        D.resume_schedule(PLAN, 168, 178, max_lr=0.0)
    with pytest.raises(ValueError, match="sched must be an lrnotes Schedule"):
        D.resume_schedule(lambda t: 0.1, 1, 10)
    with pytest.raises(ValueError, match="at must be before the old budget ends"):
        D.resume_schedule(PLAN, 336, 400)


def test_retarget_keeps_the_warmup_in_samples():
    """Resumed inside the warmup at half the batch, the ramp ends after the same examples."""
    B, B2, a, W = 16, 8, 8, 17
    total = a + (336 - a) * B // B2
    new = D.resume_schedule(PLAN, a, total, old_batch=B, new_batch=B2)
    top = int(np.argmax(new(np.arange(total)) / new.params["scale"] >= PLAN(W)))
    assert a * B + (top - a) * B2 == W * B


def test_load_scheduler_sets_the_new_rate_at_once():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = S.to_torch(opt, PLAN)
    for _ in range(168):
        opt.step()
        sched.step()
    state, opt_state = sched.state_dict(), opt.state_dict()
    new = D.resume_schedule(PLAN, 168, 504, old_batch=16, new_batch=8)
    opt2 = torch.optim.SGD([p], lr=0.1)
    opt2.load_state_dict(opt_state)
    assert opt2.param_groups[0]["lr"] == PLAN(168)              # the saved rate...
    s2 = D.load_scheduler(opt2, new, state)
    assert s2.last_epoch == 168 and opt2.param_groups[0]["lr"] == new(168)  # ...replaced
    opt2.step()
    s2.step()
    assert opt2.param_groups[0]["lr"] == new(169)


# --------------------------------------------------------------------------- launch
def test_free_port_is_a_free_loopback_port():
    import socket

    port = D.free_port()
    assert 1024 <= port < 65536
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_launch_checks_its_arguments():
    with pytest.raises(ValueError, match="fn must be a function importable"):
        D.launch(lambda rank, ws: None, 2)
    with pytest.raises(ValueError, match="world_size"):
        D.launch(_sleep, 0, 0.0)
    with pytest.raises(ValueError, match="timeout"):
        D.launch(_sleep, 1, 0.0, timeout=0)
    with pytest.raises(ValueError, match="backend"):
        D.launch(_sleep, 1, 0.0, backend="mpi")


def test_launch_runs_a_group_on_the_loopback_address():
    out = D.launch(_group_facts, 2, timeout=LIMIT)
    assert [o["rank"] for o in out] == [0, 1] and {o["size"] for o in out} == {2}
    assert {o["sum"] for o in out} == {3.0} and {o["backend"] for o in out} == {"gloo"}
    if sys.platform.startswith("linux"):
        assert {o["addr"] for o in out} == {"lo"}


def test_launch_is_bounded_in_time_and_kills_its_processes():
    import multiprocessing

    t0 = time.monotonic()
    with pytest.raises(TimeoutError, match="timeout=6"):
        D.launch(_sleep, 2, 600.0, timeout=6)
    assert time.monotonic() - t0 < 6 + 20
    assert not multiprocessing.active_children()


def test_launch_raises_a_ranks_error():
    with pytest.raises(Exception, match="rank 1 failed on purpose"):
        D.launch(_fail_on_rank_1, 2, timeout=LIMIT)


# --------------------------------------------------------------------------- real DDP runs
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """World size 2 for 4 epochs (rank 0 saves after 2), then resumed at world size 1."""
    ckpt = tmp_path_factory.mktemp("ddp") / "ckpt.pt"
    job = D.Job(checkpoint=str(ckpt), seeds=(0, 1), epochs=4, save_epoch=2, batch_per_rank=4,
                hidden=(8,), n_train=96, eval_every=6, policies=("retarget", "retarget, scaled"))
    first = D.launch(D.first_run, 2, job, timeout=LIMIT)
    (resumed,) = D.launch(D.resume_run, 1, job, timeout=LIMIT)
    return job, first, resumed


def test_every_rank_sees_the_same_learning_rate(runs):
    job, first, _ = runs
    T = job.budget(2)
    assert T == 4 * 12 and first[0]["steps_per_epoch"] == 12 and first[0]["global_batch"] == 8
    plan = D.plan_schedule(job, 2)
    assert np.array_equal(first[0]["lr"], first[1]["lr"])          # bit for bit, nothing sent
    assert np.array_equal(first[0]["lr"], plan(np.arange(T)))
    assert np.array_equal(first[0]["params"], first[1]["params"])  # DDP kept the ranks together
    assert first[0]["lr_end"] == first[1]["lr_end"] == plan(T) == 0.0


def test_checkpoint_from_rank_0_resumes_exactly_on_every_rank(runs):
    job, first, _ = runs
    a = first[0]["at"]
    assert a == job.budget(2, job.save_epoch) == 24
    for r in first:
        assert np.array_equal(r["params_resumed"], r["params"])
        assert np.array_equal(r["lr_resumed"], r["lr"][a:])


def test_resume_at_world_size_1_has_no_jump_and_ends_at_the_new_budget(runs):
    job, first, res = runs
    a, plan = first[0]["at"], D.plan_schedule(job, 2)
    new_total = a + D.step_budget(job.epochs - job.save_epoch, 96, 4, 1)
    assert res["at"] == a and res["total"] == new_total == 24 + 2 * 24 and res["steps_per_epoch"] == 24
    i, j = res["policies"].index("retarget"), res["policies"].index("retarget, scaled")
    assert res["lr"][i, 0] == plan(a)                      # no jump at the resume step
    assert res["lr"][j, 0] / 4 == plan(a) / 8              # no jump per example (linear rule)
    for k in (i, j):
        assert res["lr_end"][k] == 0.0 == plan(job.budget(2))   # the end value, at the new budget
        assert np.all(res["lr"][k, :-1] > 0) and np.all(np.diff(res["lr"][k, 3:]) <= 0)
    pol = D.resume_policies(job, 2, 1)
    for name, k in (("retarget", i), ("retarget, scaled", j)):
        assert np.array_equal(res["lr"][k], pol[name](np.arange(a, new_total)))


def _single_process(job, seed, phases):
    """One process, no torch.distributed: the same model, taking the global batches that
    DistributedSampler's ranks take together (a block of the epoch's permutation)."""
    data = job.data()
    net = mlp([64, *job.hidden, 10], seed)
    opt = torch.optim.SGD(net.parameters(), lr=0.0)
    t = 0
    for epochs, B, sched in phases:
        for e in epochs:
            perm = torch.randperm(job.n_examples, generator=torch.Generator().manual_seed(seed + e))
            for j in range(job.n_examples // B):
                idx = perm[j * B:(j + 1) * B]
                for g in opt.param_groups:
                    g["lr"] = sched(t)
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(data.x_train[idx]), data.y_train[idx]).backward()
                opt.step()
                t += 1
    return torch.cat([p.detach().reshape(-1) for p in net.parameters()]).double().numpy()


def test_resumed_parameters_match_a_single_process_run(runs):
    job, first, res = runs
    plan, pol = D.plan_schedule(job, 2), D.resume_policies(job, 2, 1)
    for k, name in enumerate(res["policies"]):
        for m, seed in enumerate(job.seeds):
            ref = _single_process(job, seed, [(range(0, 2), 8, plan), (range(2, 4), 4, pol[name])])
            np.testing.assert_allclose(res["params"][k, m], ref, rtol=1e-4, atol=1e-5)
    # and the first run, never resized, is the single process with the global batch of 8
    for m, seed in enumerate(job.seeds):
        ref = _single_process(job, seed, [(range(0, 4), 8, plan)])
        np.testing.assert_allclose(first[0]["params"][m], ref, rtol=1e-4, atol=1e-5)
    assert not np.allclose(res["params"][0], res["params"][1])  # the policies differ


def test_job_checks_its_fields(tmp_path):
    with pytest.raises(ValueError, match="save_epoch must be before the last epoch"):
        D.Job(checkpoint="x", epochs=2, save_epoch=2)
    with pytest.raises(ValueError, match="policies must be"):
        D.Job(checkpoint="x", policies=("restart",))
    with pytest.raises(ValueError, match="warmup"):
        D.Job(checkpoint="x", warmup=1.0)
    job = D.Job(checkpoint="x", policies=("retarget, capped",))
    with pytest.raises(ValueError, match="needs job.max_lr"):
        D.resume_policies(job, 2, 1)
    assert D.resume_policies(replace(job, max_lr=0.1), 2, 1)["retarget, capped"].params["scale"] <= 0.5


def _torchrun_like(tmp_path, phase, world_size, *extra):
    """What torchrun does: start the module once per rank, with RANK, WORLD_SIZE and the
    rendezvous (here 127.0.0.1 and a free port) in the environment."""
    port = D.free_port()
    procs = []
    for rank in range(world_size):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo",
                   LRNOTES_SCALE="quick", PYTHONPATH=str(ROOT))
        cmd = [sys.executable, "-m", "lrnotes.nets.distributed", phase, "--checkpoint", str(tmp_path / "c.pt"),
               "--out", str(tmp_path / f"{phase}.pt"), "--seeds", "1", "--epochs", "2", "--save-epoch", "1",
               *extra]
        procs.append(subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT))
    try:
        outs = [p.communicate(timeout=LIMIT)[0].decode() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0] * world_size, outs
    return torch.load(tmp_path / f"{phase}.pt", weights_only=False)


def test_the_command_line_runs_under_a_torchrun_environment(tmp_path):
    first = _torchrun_like(tmp_path, "first", 2, "--batch-per-rank", "64")
    assert first["world_size"] == 2 and first["global_batch"] == 128 and first["at"] == 1347 // 2 // 64
    assert (tmp_path / "c.pt").exists()
    resumed = _torchrun_like(tmp_path, "resume", 1, "--batch-per-rank", "64")
    assert resumed["world_size"] == 1 and resumed["at"] == first["at"]
    assert resumed["total"] == first["at"] + 1347 // 64 and resumed["policies"] == list(D.POLICIES[:4])
    assert np.all(resumed["lr_end"][2:] == 0.0)              # both re-targets end at 0
