"""lrnotes: the companion package of *Learning-Rate Schedules, Executable*.

Modules
-------
schedules   closed-form learning-rate schedules, combinators and the torch adapter
plotting    the book's house style and schedule previews
config      the quick/full scale switch and seeding
variational the continuous budget problem (Euler–Lagrange, with sympy)
theory      the weighted identity and last-iterate bounds
sgd         vectorised SGD on toy convex problems
grading     the exercises' autograder (a package: machinery + one module per exercise)
exercises   the student-notebook generator; snippets: code quoted from the sources
"""

from .config import SCALE_ENV, pick, scale, seed_everything

__all__ = ["SCALE_ENV", "pick", "scale", "seed_everything"]
__version__ = "0.1.0"
