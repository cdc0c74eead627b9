"""`Store`: the product's verbs over one store, each atomic and journaled.

A thin facade: each aggregate keeps its verbs in its own module of
`store.domain`, on top of `Core` (the engine, the user, the settings, the
journal). Reads are served from memory; `refresh()` catches up with other
processes; every write verb takes the store lock, works on the freshest data
and is committed whole or not at all.
"""
from __future__ import annotations

from store.domain.batches import Batches
from store.domain.campaigns import Campaigns
from store.domain.customers import Customers
from store.domain.destructive import Destructive
from store.domain.reads import Reads
from store.domain.related import Related
from store.domain.review_queue import ReviewQueue
from store.domain.signup import SignUps
from store.domain.sources import Sources
from store.domain.sync import Sync


# (Destructive holds Pictures; ReviewQueue holds Distinct)
class Store(Customers, Sources, Related, Destructive, ReviewQueue, Batches, Campaigns, Sync, SignUps, Reads):
    """One store opened for reading and writing (see the module's docstring)."""
