"""`Store`: the product's verbs over one store, each atomic and journaled.

A thin facade over the aggregates of `store.domain` (`Parts`): one `Session` (the
engine, the user, the settings, the journal) shared by composition, and each
aggregate given the session and, by name, the other aggregates it uses. The Store
forwards every verb to the part that holds it (`forward`): what a caller sees is
unchanged, and what each part holds is written in its constructor. Reads are
served from memory; `refresh()` catches up with other processes; every write verb
takes the store lock, works on the freshest data and is committed whole or not at all.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Self, TypeVar, cast, get_type_hints, overload

from store.domain.batches import Batches
from store.domain.campaigns import Campaigns
from store.domain.consent import Consent
from store.domain.customers import Customers
from store.domain.destructive import Destructive
from store.domain.distinct import Distinct
from store.domain.history import History
from store.domain.links import Links
from store.domain.matcher import Matcher
from store.domain.pictures import Pictures
from store.domain.reads import Reads, SessionJournal
from store.domain.records import Records
from store.domain.related import Related
from store.domain.review_queue import ReviewQueue
from store.domain.self_service import SelfService
from store.domain.session import Session
from store.domain.signup import SignUps
from store.domain.sources import Sources
from store.domain.sync import Sync

if TYPE_CHECKING:
    from store.matching.pairs import Pair, RecordRef
    from store.views.duplicates import LikelyCustomer

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Parts:
    """The session and the aggregates of one Store."""

    session: Session
    records: Records
    pictures: Pictures
    distinct: Distinct
    customers: Customers
    sources: Sources
    related: Related
    destructive: Destructive
    review_queue: ReviewQueue
    batches: Batches
    campaigns: Campaigns
    consent: Consent
    sync: Sync
    sign_ups: SignUps
    links: Links
    self_service: SelfService
    reads: Reads
    history: History


def compose(session: Session, matcher: Matcher) -> Parts:
    """Every aggregate over `session`, each given the others it uses."""
    records, pictures, distinct = Records(session), Pictures(session), Distinct(session)
    return Parts(
        session=session, records=records, pictures=pictures, distinct=distinct,
        customers=Customers(session, records),
        sources=Sources(session, records, distinct, matcher),
        related=Related(session, records),
        destructive=Destructive(session, records, pictures),
        review_queue=ReviewQueue(session, distinct),
        batches=Batches(session, records),
        campaigns=Campaigns(session),
        consent=Consent(session),
        sync=Sync(session, records, matcher),
        sign_ups=SignUps(session, records, matcher),
        links=Links(session),
        self_service=SelfService(session),
        reads=Reads(session),
        history=History(SessionJournal(session)),
    )


# Which field of Parts holds each aggregate class (forward finds a verb's part by its class).
_PART_OF: dict[tuple[str, str], str] = {(kind.__module__, kind.__qualname__): name
                                        for name, kind in get_type_hints(Parts).items()}


class _Forwarded:
    """A member of one of a Store's parts, under the same name on the Store: the part is the
    field of Parts holding the class that defines it (found when the Store's class is made).
    Setting the member on a Store sets it on that part, so what replaces it (a test's
    monkeypatch) is what the part's own verbs call."""

    def __init__(self, member: Callable[..., object]) -> None:
        self.name = member.__name__
        owner = (member.__module__, member.__qualname__.rsplit(".", 1)[0])
        if owner not in _PART_OF:
            raise TypeError(f"{member.__qualname__}: no part of a Store is a {owner[1]}")
        self.part = _PART_OF[owner]

    def __set_name__(self, owner: type, name: str) -> None:
        if name != self.name:
            raise TypeError(f"{owner.__name__}.{name} forwards {self.part}.{self.name}: a forwarded member keeps its name")

    def target(self, store: Store) -> object:
        return getattr(store.parts, self.part)

    def __set__(self, store: Store, value: object) -> None:
        setattr(self.target(store), self.name, value)


class forward(_Forwarded, Generic[P, R]):
    """`add_related = forward(Related.add_related)`: the verb of the Store's `related`, with its signature."""

    def __init__(self, verb: Callable[Concatenate[Any, P], R]) -> None:
        super().__init__(verb)

    @overload
    def __get__(self, store: None, owner: type[Store]) -> Callable[Concatenate[Store, P], R]: ...
    @overload
    def __get__(self, store: Store, owner: type[Store]) -> Callable[P, R]: ...
    def __get__(self, store: Store | None, owner: type[Store]) -> Callable[P, R] | Callable[Concatenate[Store, P], R]:
        if store is None:
            return self.unbound
        return cast("Callable[P, R]", getattr(self.target(store), self.name))

    def unbound(self, store: Store, /, *args: P.args, **kwargs: P.kwargs) -> R:
        """The verb as read from the class (`Store.verb(store, …)`)."""
        verb = cast("Callable[P, R]", getattr(self.target(store), self.name))
        return verb(*args, **kwargs)


class forward_property(_Forwarded, Generic[T]):
    """`title = forward_property(Session.title)`: the property of the Store's `session`."""

    def __init__(self, getter: Callable[[Any], T]) -> None:
        read = cast(property, getter).fget  # (typed as its getter for mypy, a property at run time)
        if read is None:
            raise TypeError(f"{getter!r} is no property to forward")
        super().__init__(read)

    @overload
    def __get__(self, store: None, owner: type[Store]) -> Self: ...
    @overload
    def __get__(self, store: Store, owner: type[Store]) -> T: ...
    def __get__(self, store: Store | None, owner: type[Store]) -> T | Self:
        if store is None:
            return self
        return cast(T, getattr(self.target(store), self.name))


class StoreMatcher:
    """The duplicate matcher over one Store (the aggregates' `Matcher`). It keeps the Store
    by a weak reference: the matcher's index is kept per Store for as long as the Store lives."""

    def __init__(self, store: Store) -> None:
        self._store = weakref.ref(store)

    def store(self) -> Store:
        store = self._store()
        if store is None:
            raise ReferenceError("the store this matcher reads was closed and dropped")
        return store

    def matches_for(self, table: str, record: Mapping[str, Any]) -> list[Pair]:
        from store.matching import matches_for

        return matches_for(self.store(), table, record)

    def matches_among(self, table: str, records: Sequence[Mapping[str, Any]], *, limit: int) -> list[list[Pair]]:
        from store.matching import matches_among

        return matches_among(self.store(), table, records, limit=limit)

    def likely_customers(self, ref: RecordRef, record: Mapping[str, Any]) -> list[LikelyCustomer]:
        from store.views.duplicates import likely_customers

        return likely_customers(self.store(), ref, record)


class Store:
    """One store opened for reading and writing (see the module's docstring)."""

    def __init__(self, path: str | Path, *, user: str | None = None, lock_timeout: float = 15.0, verify: bool = True,
                 default_country: str | None = None, create: bool = True) -> None:
        """See `Session`: the keyword arguments are its."""
        session = Session(path, user=user, lock_timeout=lock_timeout, verify=verify, default_country=default_country,
                          create=create)
        self.parts = compose(session, StoreMatcher(self))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # The session: the store itself, its settings, one record by id.
    location = forward_property(Session.location)
    where = forward_property(Session.where)
    user = forward_property(Session.user)
    title = forward_property(Session.title)
    settings = forward_property(Session.settings)
    close = forward(Session.close)
    verify = forward(Session.verify)
    files = forward(Session.files)
    refresh = forward(Session.refresh)
    reserved = forward(Session.reserved)
    take_changes = forward(Session.take_changes)
    watch = forward(Session.watch)
    changed_elsewhere = forward(Session.changed_elsewhere)
    page_reads = forward(Session.page_reads)
    prepare_lookups = forward(Session.prepare_lookups)
    acting_for = forward(Session.acting_for)
    compact = forward(Session.compact)
    frame = forward(Session.frame)
    customer = forward(Session.customer)
    has_customer = forward(Session.has_customer)
    customers_of = forward(Session.customers_of)
    source = forward(Session.source)
    has_source = forward(Session.has_source)
    child = forward(Session.child)
    children = forward(Session.children)
    headquarters = forward(Session.headquarters)

    check_customer = forward(Records.check_customer)
    check_source = forward(Records.check_source)

    has_pictures = forward(Pictures.has_pictures)
    picture_names = forward(Pictures.picture_names)
    picture = forward(Pictures.picture)
    set_picture = forward(Pictures.set_picture)
    remove_picture = forward(Pictures.remove_picture)

    mark_distinct = forward(Distinct.mark_distinct)
    distinct_pairs = forward(Distinct.distinct_pairs)
    record_name = forward(Distinct.record_name)
    record_names = forward(Distinct.record_names)

    update_settings = forward(Customers.update_settings)
    add_customer = forward(Customers.add_customer)
    edit_customer = forward(Customers.edit_customer)
    set_tags = forward(Customers.set_tags)
    switch_active = forward(Customers.switch_active)
    deactivate = forward(Customers.deactivate)
    reactivate = forward(Customers.reactivate)

    add_source = forward(Sources.add_source)
    activate = forward(Sources.activate)
    customers_like_source = forward(Sources.customers_like_source)
    merge_source_into = forward(Sources.merge_source_into)
    discard = forward(Sources.discard)
    erase_prospect = forward(Sources.erase_prospect)
    edit_source = forward(Sources.edit_source)

    add_department = forward(Related.add_department)
    set_headquarters = forward(Related.set_headquarters)
    edit_department = forward(Related.edit_department)
    add_contact = forward(Related.add_contact)
    edit_contact = forward(Related.edit_contact)
    add_related = forward(Related.add_related)
    set_status = forward(Related.set_status)
    complete_task = forward(Related.complete_task)
    log_conversation = forward(Related.log_conversation)
    log_export = forward(Related.log_export)

    delete = forward(Destructive.delete)
    merge_into = forward(Destructive.merge_into)
    obfuscate = forward(Destructive.obfuscate)
    obfuscation_due = forward(Destructive.obfuscation_due)
    obfuscate_inactive = forward(Destructive.obfuscate_inactive)
    undo = forward(Destructive.undo)

    queued_pairs = forward(ReviewQueue.queued_pairs)

    apply_batch = forward(Batches.apply_batch)
    import_runs = forward(Batches.import_runs)
    remembered_mappings = forward(Batches.remembered_mappings)
    remembered_mapping = forward(Batches.remembered_mapping)
    forget_mapping = forward(Batches.forget_mapping)

    audience = forward(Campaigns.audience)
    recipients = forward(Campaigns.recipients)
    reachable = forward(Campaigns.reachable)
    templates = forward(Campaigns.templates)
    template = forward(Campaigns.template)
    save_template = forward(Campaigns.save_template)
    remove_template = forward(Campaigns.remove_template)
    start_campaign = forward(Campaigns.start_campaign)
    campaign = forward(Campaigns.campaign)
    delivered = forward(Campaigns.delivered)
    record_sent = forward(Campaigns.record_sent)
    record_sent_many = forward(Campaigns.record_sent_many)
    finish_campaign = forward(Campaigns.finish_campaign)

    set_marketing = forward(Consent.set_marketing)

    sync_runs = forward(Sync.sync_runs)
    record_failed_sync = forward(Sync.record_failed_sync)
    sync = forward(Sync.sync)
    sync_conflicts = forward(Sync.sync_conflicts)
    resolve_conflict = forward(Sync.resolve_conflict)
    resolve_run_conflicts = forward(Sync.resolve_run_conflicts)

    sign_up = forward(SignUps.sign_up)
    confirm_sign_up = forward(SignUps.confirm_sign_up)
    prepare_sign_ups = forward(SignUps.prepare_sign_ups)
    # (a test replaces it to delete a record while the matcher looks)
    _likely_same = forward(SignUps._likely_same)

    sign_link = forward(Links.sign_link)
    check_link = forward(Links.check_link)

    account_holder = forward(SelfService.account_holder)
    own_data = forward(SelfService.own_data)
    request_erasure = forward(SelfService.request_erasure)
    erasure_requests = forward(SelfService.erasure_requests)

    customers = forward(Reads.customers)
    customer_count = forward(Reads.customer_count)
    sources = forward(Reads.sources)
    find = forward(Reads.find)
    lookup = forward(Reads.lookup)
    lookup_held = forward(Reads.lookup_held)
    first_holders = forward(Reads.first_holders)
    shared_keys = forward(Reads.shared_keys)
    record = forward(Reads.record)
    journal = forward(Reads.journal)
    next_undo = forward(Reads.next_undo)
    stats = forward(Reads.stats)
    customer_order = forward(Reads.customer_order)
    headquarters_of = forward(Reads.headquarters_of)
    related_counts = forward(Reads.related_counts)

    log = forward(History.log)
    history = forward(History.history)
    customer_id = forward(History.customer_id)
