"""The demo sites and a whole demo data set, table by table, referenced tables first."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from apps.records.changes import Refusal
from apps.sites.models import Site, Store, SyncUser
from apps.sites.services import site_create, store_create, sync_user_create

from .generators import (
    CATEGORIES,
    NAME_KINDS,
    UNITS,
    DemoSize,
    RecordData,
    generate_item,
    generate_item_category,
    generate_item_line,
    generate_item_store_join,
    generate_location,
    generate_name,
    generate_name_store_join,
    generate_store,
    generate_trans_line,
    generate_transact,
    generate_unit,
    new_id,
)


# A whole demo data set -------------------------------------------------------------------------
@dataclass
class DemoSite:
    """A satellite of the demo: its site, its one store and the store's user."""

    site_id: int
    name: str
    password: str
    store_id: str
    store_name: str
    store_code: str
    name_id: str
    username: str
    created: bool = True


@dataclass
class TableCount:
    record_type: str
    generated: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    seconds: float = 0.0


@dataclass
class DemoResult:
    sites: list[DemoSite]
    counts: list[TableCount] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(c.generated for c in self.counts)

    @property
    def refused(self) -> int:
        return sum(c.refused for c in self.counts)


def site_plan(index: int) -> tuple[str, str, str, str]:
    """(site name, store name, store code, user name) of the index-th demo site: pharmacy, clinic, ..."""
    if index == 0:
        return "pharmacy", "Pharmacy", "PHA", "pharmacist"
    if index == 1:
        return "clinic", "Clinic", "CLI", "nurse"
    return f"clinic{index}", f"Clinic {index}", f"CL{index}", f"nurse{index}"


def ensure_sites(*, count: int, password: str, seed: int) -> list[DemoSite]:
    """Sites 2.. with one store and one user each; what exists already is used as it is."""
    rng = random.Random(f"{seed}:sites")
    result: list[DemoSite] = []
    for index in range(count):
        name, store_name, code, username = site_plan(index)
        planned_store_id, planned_name_id = new_id(rng), new_id(rng)
        site = Site.objects.filter(pk=index + 2).first() or Site.objects.filter(name=name).first()
        created = site is None
        if site is None:
            site = site_create(site_id=index + 2, name=name, password=password)
        store = site.stores.order_by("pk").first()
        if store is None:
            store = Store.objects.filter(pk=planned_store_id).first() or store_create(
                store_id=planned_store_id,
                name=store_name,
                site_id=site.pk,
                name_id=planned_name_id,
                code=code,
                supplying_store_id=result[0].store_id if result else None,
            )
        if not SyncUser.objects.filter(username=username).exists():
            sync_user_create(username=username, password=password, store_ids=[store.pk])
        result.append(
            DemoSite(
                site_id=site.pk,
                name=site.name,
                password=password,
                store_id=store.pk,
                store_name=store.name,
                store_code=store.code or code,
                name_id=store.name_id,
                username=username,
                created=created,
            )
        )
    return result


@dataclass
class _Stock:
    line_id: str
    item: tuple[str, str, int, float]  # id, name, pack size, price
    batch: str
    expiry: str
    cost: float
    location_id: str


@dataclass
class _State:
    """What later tables need to know about earlier ones (ids only: records are never all in memory)."""

    unit_ids: dict[str, str] = field(default_factory=dict)
    category_ids: list[str] = field(default_factory=list)
    items: list[tuple[str, str, int, float]] = field(default_factory=list)
    names: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in NAME_KINDS})
    locations: dict[str, list[str]] = field(default_factory=dict)
    visible_items: dict[str, list[int]] = field(default_factory=dict)
    visible_names: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    stock: dict[str, list[_Stock]] = field(default_factory=dict)
    transactions: list[tuple[str, bool, list[tuple[_Stock, int]]]] = field(default_factory=list)


Table = tuple[str, int, Iterator[RecordData]]


def generate_dataset(*, size: DemoSize, sites: list[DemoSite], seed: int) -> Iterator[Table]:
    """(record type, count, records) per table, referenced tables first. No database.

    Consume each table's records before asking for the next table: later tables use the ids of
    earlier ones.
    """
    state = _State()
    stores = [s.store_id for s in sites]

    def rng_for(table: str) -> random.Random:
        return random.Random(f"{seed}:{table}")

    rng = rng_for("unit")
    units = [generate_unit(rng, units=u, order_number=n) for n, u in enumerate(UNITS)]
    state.unit_ids = {u["units"]: u["ID"] for u in units}
    yield "unit", len(units), iter(units)

    rng = rng_for("item_category")
    categories: list[RecordData] = []
    for n, (top, subs) in enumerate(CATEGORIES.items()):
        parent = generate_item_category(rng, description=top, sort_order=n)
        categories.append(parent)
        for m, sub in enumerate(subs):
            child = generate_item_category(rng, description=sub, parent_id=parent["ID"], sort_order=m)
            categories.append(child)
            state.category_ids.append(child["ID"])
    yield "item_category", len(categories), iter(categories)

    yield "item", size.items, _items(rng_for("item"), size, state)
    n_names = len(sites) + size.names
    yield "name", n_names, _names(rng_for("name"), size, sites, state)
    rng = rng_for("store")
    store_records = [
        generate_store(rng, store_id=s.store_id, name=s.store_name, code=s.store_code,
                       name_id=s.name_id, site_id=s.site_id)
        for s in sites
    ]  # fmt: skip
    yield "store", len(store_records), iter(store_records)

    rng = rng_for("Location")
    per_store = 8 + size.items // 200
    locations = [generate_location(rng, store_id=s, index=n) for s in stores for n in range(per_store)]
    for record in locations:
        state.locations.setdefault(record["store_ID"], []).append(record["ID"])
    yield "Location", len(locations), iter(locations)

    rng = rng_for("item_store_join")
    for k, store in enumerate(stores):
        share = 0.9 if k == 0 else 0.75
        state.visible_items[store] = [i for i in range(len(state.items)) if rng.random() < share]
    total = sum(len(v) for v in state.visible_items.values())
    yield "item_store_join", total, _item_store_joins(rng, state)

    rng = rng_for("name_store_join")
    _plan_name_visibility(rng, sites, state)
    total = sum(len(ids) for kinds in state.visible_names.values() for ids in kinds.values())
    yield "name_store_join", total, _name_store_joins(rng, state)

    rng = rng_for("item_line")
    plan = {store: [i for i in state.visible_items[store] for _ in range(_batches(rng))] for store in stores}
    yield "item_line", sum(len(v) for v in plan.values()), _item_lines(rng, plan, state)

    rng = rng_for("transact")
    yield "transact", size.transactions, _transactions(rng, size, sites, state)
    total = sum(len(lines) for _, _, lines in state.transactions)
    yield "trans_line", total, _trans_lines(rng_for("trans_line"), state)


def _batches(rng: random.Random) -> int:
    """How many stock lines (batches) a store holds of a visible item: often none, sometimes two."""
    r = rng.random()
    return 0 if r < 0.4 else (2 if r > 0.85 else 1)


def _items(rng: random.Random, size: DemoSize, state: _State) -> Iterator[RecordData]:
    accounts = (new_id(rng), new_id(rng), new_id(rng))
    for n in range(size.items):
        record = generate_item(
            rng,
            index=n + 1,
            unit_ids=state.unit_ids,
            category_id=rng.choice(state.category_ids),
            account_ids=accounts,
        )
        state.items.append((record["ID"], record["item_name"], record["default_pack_size"],
                            record["indic_price"]))  # fmt: skip
        yield record


def _names(rng: random.Random, size: DemoSize, sites: list[DemoSite], state: _State) -> Iterator[RecordData]:
    for site in sites:
        yield generate_name(rng, kind="store", record_id=site.name_id, name=site.store_name,
                            code=site.store_code)  # fmt: skip
        state.names["store"].append(site.name_id)
    suppliers = max(1, round(size.names * 0.08))
    customers = max(1, round(size.names * 0.17))
    patients = max(0, size.names - suppliers - customers)
    n = 0
    for kind, count in (("supplier", suppliers), ("customer", customers), ("patient", patients)):
        for _ in range(count):
            n += 1
            record = generate_name(rng, kind=kind, index=n)
            state.names[kind].append(record["ID"])
            yield record


def _item_store_joins(rng: random.Random, state: _State) -> Iterator[RecordData]:
    for store, visible in state.visible_items.items():
        locations = state.locations.get(store, [""])
        for i in visible:
            location = rng.choice(locations) if rng.random() < 0.3 else ""
            yield generate_item_store_join(
                rng, item_id=state.items[i][0], store_id=store, location_id=location
            )


def _plan_name_visibility(rng: random.Random, sites: list[DemoSite], state: _State) -> None:
    """Who each store deals with: the other stores, suppliers and customers, and its patients."""
    names = state.names
    for k, site in enumerate(sites):
        share = 1.0 if k == 0 else 0.3
        state.visible_names[site.store_id] = {
            "store": [s.name_id for s in sites if s.store_id != site.store_id],
            "supplier": [n for n in names["supplier"] if rng.random() < share],
            "customer": [n for n in names["customer"] if rng.random() < share],
            "patient": [],
        }
    for patient in names["patient"]:
        homes = rng.sample(sites, 2) if len(sites) > 1 and rng.random() < 0.1 else [rng.choice(sites)]
        for home in homes:
            state.visible_names[home.store_id]["patient"].append(patient)


def _name_store_joins(rng: random.Random, state: _State) -> Iterator[RecordData]:
    for store, kinds in state.visible_names.items():
        for ids in kinds.values():
            for name_id in ids:
                yield generate_name_store_join(rng, name_id=name_id, store_id=store)


def _item_lines(rng: random.Random, plan: dict[str, list[int]], state: _State) -> Iterator[RecordData]:
    for store, item_indexes in plan.items():
        suppliers = state.visible_names[store]["supplier"] or state.names["supplier"] or [""]
        locations = state.locations.get(store, [""])
        state.stock[store] = []
        for i in item_indexes:
            item = state.items[i]
            location = rng.choice(locations) if rng.random() < 0.5 else ""
            record = generate_item_line(
                rng,
                item_id=item[0],
                store_id=store,
                location_id=location,
                supplier_name_id=rng.choice(suppliers),
                pack_size=item[2],
                cost_price=round(item[3] * 0.8, 2),
            )
            state.stock[store].append(
                _Stock(
                    record["ID"], item, record["batch"], record["expiry_date"], record["cost_price"], location
                )
            )
            yield record


def _transactions(
    rng: random.Random, size: DemoSize, sites: list[DemoSite], state: _State
) -> Iterator[RecordData]:
    """Customer invoices, supplier invoices, and transfers from the pharmacy to the clinics."""
    shares = [0.5] + [0.5 / (len(sites) - 1)] * (len(sites) - 1) if len(sites) > 1 else [1.0]
    counts = [round(size.transactions * share) for share in shares]
    counts[0] += size.transactions - sum(counts)
    clinics = [s.name_id for s in sites[1:]]
    low, high = max(1, size.lines_per_transaction - 1), size.lines_per_transaction + 1
    for k, (site, count) in enumerate(zip(sites, counts, strict=True)):
        store = site.store_id
        visible = state.visible_names[store]
        numbers: dict[str, int] = {}
        stock = state.stock.get(store, [])
        for _ in range(count):
            r = rng.random()
            mode = "store"
            if k == 0 and clinics and r < 0.15:
                kind, status, other = "ci", "fn", rng.choice(clinics)
            elif r < (0.45 if k == 0 else 0.25):
                kind, status = "si", rng.choice(["fn", "fn", "cn"])
                other = rng.choice(visible["supplier"] or state.names["supplier"])
            else:
                kind, status = "ci", rng.choice(["fn", "fn", "fn", "cn", "nw"])
                patients = visible["patient"] or state.names["patient"]
                if patients and (k > 0 or rng.random() < 0.3):
                    other, mode = rng.choice(patients), "dispensary"
                else:
                    other = rng.choice(visible["customer"] or state.names["customer"])
            n_lines = min(rng.randint(low, high), len(stock))
            lines = [(s, rng.randint(1, 60)) for s in rng.sample(stock, n_lines)]
            total = round(sum(s.cost * (1 if kind == "si" else 1.25) * q for s, q in lines), 2)
            numbers[kind] = numbers.get(kind, 0) + 1
            record = generate_transact(
                rng, store_id=store, name_id=other, kind=kind, status=status,
                invoice_num=numbers[kind], total=total, mode=mode,
            )  # fmt: skip
            state.transactions.append((record["ID"], kind == "si", lines))
            yield record


def _trans_lines(rng: random.Random, state: _State) -> Iterator[RecordData]:
    for transaction_id, stock_in, lines in state.transactions:
        for number, (stock, quantity) in enumerate(lines, 1):
            yield generate_trans_line(
                rng,
                transaction_id=transaction_id,
                item_id=stock.item[0],
                item_name=stock.item[1],
                item_line_id=stock.line_id,
                line_number=number,
                stock_in=stock_in,
                quantity=quantity,
                pack_size=stock.item[2],
                cost_price=stock.cost,
                sell_price=round(stock.cost * 1.25, 2),
                batch=stock.batch,
                expiry_date=stock.expiry,
                location_id=stock.location_id,
            )
