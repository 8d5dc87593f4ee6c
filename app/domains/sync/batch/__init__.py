"""Batches pushed by regional systems (docs/sync.md): items validated one by one, applied in
dependency order (units, then innovations, replications and hub activities, which name them),
each reported; a bad item fails alone. Writes are confined to the caller's institution. Each
batch is recorded as a run.

Units, replications and hub activities are few and their rules (the tree, the region; the
source, the holder, the lineage; the hub's dates and references) live in their services: they
are written one by one, each in a savepoint. Innovations come by the thousand: they are checked in
Python against what one query per kind of reference loaded, then written with one INSERT and one
UPDATE per batch (bench/README.md).

- `items`: parsing each item, duplicates, what the appliers share (the batch, a savepoint);
- `run`: the attempt, applying it kind by kind, its run (and a failed attempt's);
- `units`, `innovations`, `replications`, `hub_activities`: each kind's items.
"""

from app.domains.sync.batch.items import SUPPORTED
from app.domains.sync.batch.run import Attempt, check_size, failed_run, push

__all__ = ["SUPPORTED", "Attempt", "check_size", "failed_run", "push"]
