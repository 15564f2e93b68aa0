"""Generate the peer reference curves that ``tests/test_peers.py`` and the book compare with.

Runs the real schedulers of HF transformers, timm, optax, keras and torch, each as a
training loop sees it, and writes ``lrnotes/_data/peer_curves.json`` with every curve,
the exact call that made it, its dtype, and the library versions.  The tests and the
book read that file; none of these libraries is needed to run them.

Regenerate (in a scratch virtualenv, *not* the project's .venv):

    python -m venv /tmp/peers && /tmp/peers/bin/pip install torch torchvision timm \
        transformers "jax[cpu]" optax keras
    /tmp/peers/bin/python tests/peers/generate.py

Add curves to the stored file without touching the others (their lines stay as they
are, but for the comma the last one gains; each added curve records the versions that
made it):

    /tmp/peers/bin/python tests/peers/generate.py --add NAME [NAME ...]

The curves added by issue 19 (``timm_cosine_k_decay``, ``timm_poly_k_decay``,
``timm_cosine_noise``) were made that way, in a venv with ``torch==2.13.0`` (the CPU
wheel), ``numpy==2.4.6``, and ``timm==1.0.31`` installed with ``--no-deps`` (with
pyyaml, huggingface_hub, safetensors).  No CPU torchvision for that torch was at hand,
and ``import timm`` imports torchvision, so :func:`_timm_scheduler` loads
``timm.scheduler`` under an empty stand-in for the ``timm`` package (its real
directory, without running ``timm/__init__.py``); the scheduler modules themselves
import only torch, numpy and the standard library, and run unchanged.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import sys
import types
from importlib.metadata import version
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "lrnotes" / "_data" / "peer_curves.json"
PEAK = 0.1  # the base learning rate of every curve

# name: (library, the call as written and evaluated, number of steps t = 0..steps-1, what it shows)
CURVES = {
    # ---- HF transformers (LambdaLR: float64 multipliers of the optimizer's lr = PEAK)
    "hf_linear_warmup": ("transformers", "get_linear_schedule_with_warmup(opt, num_warmup_steps=100, "
                         "num_training_steps=1000)", 1200),
    "hf_cosine_warmup": ("transformers", "get_cosine_schedule_with_warmup(opt, num_warmup_steps=100, "
                         "num_training_steps=1000)", 1200),
    "hf_cosine_hard_restarts": ("transformers", "get_cosine_with_hard_restarts_schedule_with_warmup(opt, "
                                "num_warmup_steps=100, num_training_steps=1000, num_cycles=3)", 1200),
    "hf_cosine_hard_restarts_frac": ("transformers", "get_cosine_with_hard_restarts_schedule_with_warmup(opt, "
                                     "num_warmup_steps=100, num_training_steps=1100, num_cycles=3)", 1200),
    "hf_cosine_min_lr_rate": ("transformers", "get_cosine_with_min_lr_schedule_with_warmup_lr_rate(opt, "
                              "num_warmup_steps=100, num_training_steps=1000, min_lr_rate=0.01)", 1200),
    "hf_polynomial": ("transformers", "get_polynomial_decay_schedule_with_warmup(opt, num_warmup_steps=100, "
                      "num_training_steps=1000, lr_end=1e-3, power=2.0)", 1200),
    "hf_inverse_sqrt": ("transformers", "get_inverse_sqrt_schedule(opt, num_warmup_steps=100)", 1200),
    "hf_inverse_sqrt_timescale": ("transformers", "get_inverse_sqrt_schedule(opt, num_warmup_steps=50, "
                                  "timescale=400)", 1200),
    "hf_wsd_linear": ("transformers", "get_wsd_schedule(opt, num_warmup_steps=100, num_decay_steps=300, "
                      "num_training_steps=1000, warmup_type='linear', decay_type='linear', "
                      "min_lr_ratio=0.1)", 1200),
    "hf_wsd_cosine": ("transformers", "get_wsd_schedule(opt, num_warmup_steps=100, num_decay_steps=300, "
                      "num_training_steps=1000, warmup_type='cosine', decay_type='cosine')", 1200),
    "hf_wsd_1-sqrt": ("transformers", "get_wsd_schedule(opt, num_warmup_steps=100, num_decay_steps=300, "
                      "num_training_steps=1000, warmup_type='1-sqrt', decay_type='1-sqrt', "
                      "min_lr_ratio=0.05)", 1200),
    # ---- timm (its own Scheduler, stepped per update: step_update)
    "timm_cosine_cycles": ("timm", "CosineLRScheduler(opt, t_initial=200, lr_min=1e-3, cycle_mul=1.5, "
                           "cycle_decay=0.7, cycle_limit=4, warmup_t=50, warmup_lr_init=1e-4, "
                           "t_in_epochs=False)", 1800),
    "timm_cosine_prefix": ("timm", "CosineLRScheduler(opt, t_initial=300, lr_min=1e-3, cycle_decay=0.5, "
                           "cycle_limit=3, warmup_t=100, warmup_lr_init=1e-3, warmup_prefix=True, "
                           "t_in_epochs=False)", 1100),
    "timm_cosine_missed_restarts": ("timm", "CosineLRScheduler(opt, t_initial=5, cycle_mul=1.4, cycle_limit=20, "
                                    "t_in_epochs=False)", 1000),
    "timm_wsd_rsqrt": ("timm", "WSDLRScheduler(opt, t_initial=1000, decay_t=200, lr_min=1e-3, "
                       "stable_fn='rsqrt', decay_fn='1-sqrt', warmup_t=100, t_in_epochs=False)", 1200),
    # ---- optax (jax, float32 as a default jax install computes)
    "optax_warmup_cosine": ("optax", "warmup_cosine_decay_schedule(init_value=0.0, peak_value=0.1, "
                            "warmup_steps=100, decay_steps=1000, end_value=1e-3)", 1200),
    "optax_sgdr": ("optax", "sgdr_schedule([dict(init_value=0.0, peak_value=0.1, warmup_steps=30, "
                   "decay_steps=300, end_value=1e-3), dict(init_value=0.0, peak_value=0.07, warmup_steps=30, "
                   "decay_steps=400, end_value=1e-3), dict(init_value=0.0, peak_value=0.05, warmup_steps=30, "
                   "decay_steps=500, end_value=1e-3)])", 1300),
    "optax_join": ("optax", "join_schedules([linear_schedule(0.0, 0.1, 100), constant_schedule(0.1), "
                   "cosine_decay_schedule(0.1, 300, alpha=0.01)], boundaries=[100, 700])", 1200),
    "optax_polynomial": ("optax", "polynomial_schedule(init_value=0.1, end_value=1e-3, power=2, "
                         "transition_steps=1000)", 1200),
    "optax_piecewise": ("optax", "piecewise_constant_schedule(0.1, {400: 0.1, 800: 0.1})", 1200),
    # ---- keras 3 (float32 schedules, jax backend)
    "keras_cosine_warmup": ("keras", "CosineDecay(initial_learning_rate=0.0, decay_steps=1000, alpha=0.01, "
                            "warmup_target=0.1, warmup_steps=100)", 1200),
    "keras_cosine_restarts": ("keras", "CosineDecayRestarts(0.1, first_decay_steps=100, t_mul=2.0, "
                              "m_mul=0.8, alpha=0.01)", 1500),
    "keras_cosine_restarts_missed": ("keras", "CosineDecayRestarts(0.1, first_decay_steps=10, t_mul=1.3, "
                                     "m_mul=1.0, alpha=0.0)", 1000),
    "keras_piecewise": ("keras", "PiecewiseConstantDecay(boundaries=[400, 800], values=[0.1, 0.01, 0.001])",
                        1200),
    # ---- torch (LRScheduler recursions)
    "torch_cosine_annealing": ("torch", "CosineAnnealingLR(opt, T_max=1000, eta_min=1e-3)", 1200),
    "torch_linearlr_default": ("torch", "LinearLR(opt, total_iters=100)", 1200),
    # added by issue 19 with torch 2.13.0+cpu alone (its version is stored with the curve)
    "torch_cycliclr_exp_range": ("torch", "CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=50, "
                                 "mode='exp_range', gamma=0.998, cycle_momentum=False)", 1200),
    # added by issue 19 with --add (timm 1.0.31 without its package __init__, torch 2.13.0+cpu)
    "timm_cosine_k_decay": ("timm", "CosineLRScheduler(opt, t_initial=300, lr_min=1e-3, cycle_mul=1.5, "
                            "cycle_decay=0.8, cycle_limit=3, warmup_t=50, warmup_lr_init=1e-4, "
                            "k_decay=2.0, t_in_epochs=False)", 1600),
    "timm_poly_k_decay": ("timm", "PolyLRScheduler(opt, t_initial=1000, power=2.0, lr_min=1e-3, warmup_t=100, "
                          "warmup_lr_init=1e-4, warmup_prefix=True, k_decay=0.5, t_in_epochs=False)", 1200),
    "timm_cosine_noise": ("timm", "CosineLRScheduler(opt, t_initial=1000, lr_min=1e-3, warmup_t=50, "
                          "warmup_lr_init=1e-4, noise_range_t=(200, 800), noise_pct=0.2, noise_std=0.5, "
                          "noise_seed=7, t_in_epochs=False)", 1200),
}


def _torch_like(call: str, steps: int, namespace: dict, timm: bool = False) -> np.ndarray:
    import torch

    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=PEAK)
    sched = eval(call, dict(namespace, opt=opt))
    out = np.empty(steps)
    for t in range(steps):
        out[t] = opt.param_groups[0]["lr"]
        param.grad = torch.ones(1)
        opt.step()
        if timm:
            sched.step_update(t + 1)
        else:
            sched.step()
    return out


def _timm_scheduler():
    """``timm.scheduler``; without torchvision, under a stand-in for the ``timm`` package.

    ``import timm`` runs ``timm/__init__.py``, which imports the models and so
    torchvision.  The stand-in is an empty module whose ``__path__`` is timm's real
    directory, so ``timm.scheduler`` and its modules are the installed files, run as
    they are; only the package ``__init__`` is skipped.
    """
    try:
        return importlib.import_module("timm.scheduler")
    except ModuleNotFoundError as err:
        if err.name != "torchvision":
            raise
    for name in [n for n in sys.modules if n == "timm" or n.startswith("timm.")]:
        del sys.modules[name]
    spec = importlib.util.find_spec("timm")
    stub = types.ModuleType("timm")
    stub.__path__ = list(spec.submodule_search_locations)
    stub.__file__ = spec.origin
    sys.modules["timm"] = stub
    return importlib.import_module("timm.scheduler")


def _versions(library: str) -> str:
    """The versions that made a curve added with --add: the library's, and torch's for timm."""
    libs = [library] + (["torch"] if library in ("timm", "transformers") else [])
    return ", ".join(f"{lib} {version(lib)}" for lib in libs)


def _run(library: str, call: str, steps: int) -> tuple[np.ndarray, str]:
    if library == "transformers":
        import transformers.optimization as m

        return _torch_like(call, steps, vars(m)), "float64"
    if library == "torch":
        from torch.optim import lr_scheduler as m

        return _torch_like(call, steps, vars(m)), "float64"
    if library == "timm":
        m = _timm_scheduler()
        from timm.scheduler.wsd_lr import WSDLRScheduler

        return _torch_like(call, steps, dict(vars(m), WSDLRScheduler=WSDLRScheduler), timm=True), "float64"
    if library == "optax":
        import jax
        import jax.numpy as jnp
        import optax

        fn = jax.jit(eval(call, vars(optax)))
        vals = [fn(jnp.asarray(t, dtype=jnp.int32)) for t in range(steps)]  # as optax's count
        dtype = str(vals[0].dtype)
        return np.array([float(v) for v in vals]), dtype
    if library == "keras":
        import keras

        sched = eval(call, vars(keras.optimizers.schedules))
        vals = [sched(t) for t in range(steps)]
        dtype = str(keras.ops.convert_to_numpy(vals[0]).dtype)
        return np.array([float(keras.ops.convert_to_numpy(v)) for v in vals]), dtype
    raise ValueError(library)


def _curve(name: str) -> dict:
    library, call, steps = CURVES[name]
    values, dtype = _run(library, call, steps)
    text = [str(np.float32(v)) for v in values] if dtype == "float32" else [repr(float(v)) for v in values]
    print(f"{name:28s} {library:12s} {dtype:8s} {steps:5d} steps, max {values.max():.4g}")
    return {"library": library, "call": call, "base_lr": PEAK if library in ("transformers", "timm", "torch") else None,
            "steps": steps, "dtype": dtype, "values": [float(v) for v in text]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--add", nargs="+", metavar="NAME", choices=sorted(CURVES),
                        help="compute only these curves and add them to the stored file")
    args = parser.parse_args(argv)
    if args.add:
        data = json.loads(OUT.read_text())
        there = sorted(set(args.add) & set(data["curves"]))
        if there:
            sys.exit(f"already stored (regenerate the whole file to change them): {there}")
        for name in args.add:
            c = _curve(name)
            values = c.pop("values")  # the versions before the values, as in the curves added before
            data["curves"][name] = dict(c, version=_versions(CURVES[name][0]), values=values)
        _write(data)
        return
    curves = {name: _curve(name) for name in CURVES}
    libs = ["transformers", "timm", "optax", "jax", "jaxlib", "keras", "torch", "numpy"]
    data = {
        "about": "Learning rates of the peers' schedulers at updates t = 0..steps-1, as a training loop "
                 "sees them (HF/torch/timm: the optimizer's lr before update t; optax/keras: the schedule "
                 "called with the update count t). Written by tests/peers/generate.py; do not edit by hand.",
        "generator": "tests/peers/generate.py",
        "python": platform.python_version(),
        "keras_backend": os.environ["KERAS_BACKEND"],
        "versions": {lib: version(lib) for lib in libs},
        "curves": curves,
    }
    _write(data)


def _write(data: dict) -> None:
    curves = data["curves"]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # one curve per line keeps the file diffable and small
    lines = ["{"]
    head = {k: v for k, v in data.items() if k != "curves"}
    for k, v in head.items():
        lines.append(f"  {json.dumps(k)}: {json.dumps(v)},")
    lines.append('  "curves": {')
    items = list(curves.items())
    for i, (name, c) in enumerate(items):
        lines.append(f"    {json.dumps(name)}: {json.dumps(c, separators=(',', ':'))}" + ("," if i < len(items) - 1 else ""))
    lines += ["  }", "}"]
    OUT.write_text("\n".join(lines) + "\n")
    json.loads(OUT.read_text())
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB) with python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
