"""``policy sweep``: a case evaluated across a range of one person's income, with every benefit
cliff located to the cent and drawn as a picture.

* :mod:`.points` sets the income and evaluates (the one place that calls the evaluator);
* :mod:`.core` builds the grid, evaluates it and locates each change by bisection;
* :mod:`.limits` reads from the traces which income limit a change crossed;
* :mod:`.picture` draws the sweep (SVG, PNG, or HTML with tooltips).
"""

from .core import Change, Sweep, dollars, grid, money, sweep
from .limits import Limit

__all__ = ["sweep", "Sweep", "Change", "Limit", "grid", "money", "dollars"]
