"""lrnotes: the companion package of *Learning-Rate Schedules, Executable*.

Modules
-------
schedules   closed-form learning-rate schedules, combinators and the torch adapter
peers       the stored learning-rate curves of HF, timm, optax, keras and torch
plotting    the book's house style and schedule previews
config      the quick/full scale switch and seeding
variational the continuous budget problem (Euler–Lagrange, with sympy)
theory      the weighted identity and last-iterate bounds
landscapes  toy objectives (double well, quadratic, multiscale, cliff, river valley)
sgd         the vectorised simulator: SGD / momentum / Adam over many seeds on toy problems
sharpness   top Hessian eigenvalue by power iteration on Hessian-vector products
data        scikit-learn's bundled digits (offline); opt-in MNIST from IDX files
models      batched MLPs: many small networks with stacked parameters
train       batched training over seeds x schedules with torch.optim, checkpoints
distributed DDP: the budget follows the world size; a resume on another world size, re-targeted
stats       confidence intervals: Wilson, difference of proportions, mean
stability   critical learning rates: heavy-ball threshold, growth of a schedule, partial sums
thermostat  exact moments on a quadratic and the injected-noise thermostat
scaling     batch-size x peak-LR sweeps on digits, and their best and largest stable peaks
precision   low-precision formats: limits, rounding, quantised schedules, master weights
failures    helpers of the failure-mode case studies (gradient logs, clipping scale)
refine      a schedule refined from the gradient norms of a logged run
piecewise   piecewise-linear schedules: sawtooth, polyline, fit under the bound
anytime     training without knowing T: loss trigger, schedule-free SGD, branched cooldowns
curvature   a curvature-aware learning-rate factor from Hessian-vector products
games       a small GAN on a ring of Gaussians, and mode coverage
federated   federated averaging on non-IID splits, and client drift
grading     the exercises' autograder (a package: machinery + one module per exercise)
exercises   the student-notebook generator; snippets: code quoted from the sources
errata      the notes on the sources, as data (rendered by the errata appendix)
book_exec   execute the book's notebooks in parallel into Jupyter Book's cache
"""

from .config import SCALE_ENV, pick, scale, seed_everything

__all__ = ["SCALE_ENV", "pick", "scale", "seed_everything"]
__version__ = "0.1.0"
