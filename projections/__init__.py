"""Read models over the certification log: one module per view, one runner, one query facade.

Entry points: `open_read_models(env, app)` builds the views and their runner from the
application's env; the returned `ReadModels` answers queries, catches up, rebuilds, verifies.
"""

from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.queries import ReadModels

__all__ = ["ReadModels", "open_read_models"]
