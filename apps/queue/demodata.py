"""Demo and benchmark data: a seeded generator of realistic mSupply-shaped records.

`seed_demo` creates the demo sites, stores and users and writes central and store data through
`apply_primary_changes` in batches, so the satellites' queues fill by the normal fan-out. The
`generate_*` functions build one record each as a plain dict (no database), shaped like the legacy
records real clients send (numbers, booleans, "YYYY-MM-DD" or "0000-00-00" dates, ~1-2 KB of JSON):
a benchmark can call them directly. Everything is drawn from `random.Random` objects derived from one
seed, one per table, so the same seed gives the same ids whatever the other tables' sizes.
"""

from __future__ import annotations

import calendar
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TextIO

from tqdm import tqdm

from apps.records.changes import Change, Refusal
from apps.sites.models import Site, Store, SyncUser
from apps.sites.services import site_create, store_create, sync_user_create

from .services import apply_primary_changes

Record = dict[str, Any]
BATCH = 500
NO_DATE = "0000-00-00"
# A fixed "today" keeps a second run with the same seed byte-identical (nothing updated).
REFERENCE_DAY = date(2025, 6, 30)


@dataclass(frozen=True)
class DemoSize:
    items: int
    names: int
    transactions: int
    lines_per_transaction: int = 4


SIZES = {
    "small": DemoSize(items=200, names=300, transactions=200),
    "medium": DemoSize(items=2000, names=3000, transactions=2000),
    # About 200 000 records with two satellites.
    "large": DemoSize(items=20000, names=20000, transactions=20000),
}


def _words(text: str) -> list[str]:
    return text.split()


# Word lists ------------------------------------------------------------------------------------
STEMS = _words(
    "Amo Cipro Para Metro Ibu Doxy Lora Cefa Azi Flu Keto Salbu Predni Ome Rani Ateno Furo Hydro "
    "Clotri Nysta Genta Ampi Cotri Arte Quini Chloro Diclo Enala Losa Metfo Gliben Amlo Ceftri "
    "Erythro Miconi Albenda Mebenda Prazi Lami Zido"
)
SUFFIXES = _words(
    "xicillin floxacin cetamol nidazole profen cycline tadine lexin thromycin conazole butamol "
    "solone prazole tidine lol semide chlorothiazide mazole statin micin sulfan mether nine quine "
    "fenac pril sartan rmin clamide dipine axone vudine"
)
FORMS = [
    ("Tablet", "tab", "T"),
    ("Capsule", "cap", "C"),
    ("Oral suspension", "ml", "S"),
    ("Syrup", "ml", "Y"),
    ("Injection", "vial", "I"),
    ("Cream", "tube", "R"),
    ("Eye drops", "bottle", "E"),
    ("Sachet", "sachet", "H"),
]
STRENGTHS = ["5 mg", "10 mg", "25 mg", "50 mg", "100 mg", "250 mg", "500 mg", "1 g", "125 mg/5 ml", "2%"]
UNITS = ["tab", "cap", "ml", "g", "vial", "amp", "tube", "bottle", "sachet", "each"]
CATEGORIES = {
    "Medicines": [
        "Antibiotics",
        "Analgesics",
        "Antimalarials",
        "Antifungals",
        "Cardiovascular",
        "Respiratory",
    ],
    "Consumables": ["Dressings", "Syringes and needles", "Diagnostics"],
    "Vaccines": ["Childhood vaccines", "Travel vaccines"],
}
PURPOSES = ["Bacterial infections", "Pain and fever", "Malaria", "Fungal infections", "Hypertension",
            "Asthma", "Worm infestation", "Diabetes", "Inflammation", "Gastric ulcer"]  # fmt: skip
INSTRUCTIONS = ["Take one tablet three times a day after food", "Take two capsules twice a day",
                "Apply thinly twice a day", "Take 5 ml every eight hours", "Take one daily in the morning",
                "Complete the full course", "Shake well before use", "Take with plenty of water"]  # fmt: skip
FIRST = _words(
    "Amina Joseph Grace Peter Mary John Fatima Samuel Ruth David Esther Moses Leah Daniel Naomi Paul "
    "Sarah James Hannah Isaac Rose Thomas Agnes Luke"
)
LAST = _words(
    "Banda Otieno Mwangi Phiri Kamau Tembo Njoroge Moyo Achieng Mensah Owusu Sesay Kanu Diallo Nkosi "
    "Dlamini Mutua Wanjiru Okafor Chanda Lungu Mbeki"
)
PLACES = _words(
    "Hillside Lakeview Northgate Riverbend Southfield Greenvale Eastbrook Westmoor Stonebridge Palm "
    "Grove Cedar Highland Valley Harbour Sunrise Meadow"
)
FACILITIES = ["Health Centre", "Clinic", "District Hospital", "Dispensary", "Health Post", "Mission Hospital"]
COMPANIES = ["Pharmaceuticals", "Medical Supplies Ltd", "Healthcare", "Pharma Distributors", "Generics"]
STREETS = ["Main Road", "Market Street", "Church Lane", "Station Road", "Hospital Road", "Mission Avenue"]
COUNTRIES = ["Kenya", "Malawi", "Zambia", "Ghana", "Uganda", "Tanzania"]
COLOURS = ["Red", "Blue", "Green", "Yellow", "White"]


def new_id(rng: random.Random) -> str:
    """A 32 uppercase hex id like mSupply's (a version-4 UUID), drawn from the seeded generator."""
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex.upper()


def day(days_ago: int) -> str:
    return (REFERENCE_DAY - timedelta(days=days_ago)).isoformat()


def _money(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 2)


def _phone(rng: random.Random) -> str:
    return f"+2{rng.randint(10, 99)} {rng.randint(700, 799)} {rng.randint(100000, 999999)}"


def _id_or_new(rng: random.Random, value: str | None) -> str:
    return new_id(rng) if value is None else value


# One record of each kind -----------------------------------------------------------------------
def generate_unit(rng: random.Random, *, units: str | None = None, order_number: int = 0) -> Record:
    units = units or rng.choice(UNITS)
    return {
        "ID": new_id(rng),
        "units": units,
        "comment": f"Dispensed per {units}",
        "order_number": order_number,
    }


def generate_item_category(
    rng: random.Random, *, description: str, parent_id: str = "", sort_order: int = 0
) -> Record:
    record: Record = {"Description": description, "ID": new_id(rng), "custom_data": None}
    if parent_id:
        record["parent_ID"] = parent_id
    record.update(sort_order=sort_order, summary_only=False)
    return record


def generate_item(
    rng: random.Random,
    *,
    index: int = 0,
    unit_ids: dict[str, str] | None = None,
    category_id: str | None = None,
    account_ids: tuple[str, str, str] | None = None,
) -> Record:
    stem, suffix = rng.choice(STEMS), rng.choice(SUFFIXES)
    form, unit, form_code = rng.choice(FORMS)
    strength = rng.choice(STRENGTHS)
    generic = f"{stem}{suffix}"
    vaccine = rng.random() < 0.03
    pack = rng.choice([1, 10, 20, 28, 30, 100, 500, 1000])
    price = _money(rng, 0.05, 40)
    accounts = account_ids or (new_id(rng), new_id(rng), new_id(rng))
    return {
        "ID": new_id(rng),
        "item_name": f"{generic} {strength} {form}",
        "start_of_year_date": NO_DATE,
        "manufacture_method": "",
        "default_pack_size": pack,
        "atc_category": f"{rng.choice('ABCDJLMNPRS')}{rng.randint(1, 9):02d}{rng.choice('ABCDEF')}"
        f"{rng.choice('ABCDEFGH')}{rng.randint(1, 20):02d}",
        "medication_purpose": rng.choice(PURPOSES),
        "instructions": rng.choice(INSTRUCTIONS),
        "user_field_7": False,
        "flags": "",
        "ddd_value": "",
        "code": f"{stem[:3].upper()}{strength.split()[0].replace('%', '')}{form_code}-{index:05d}",
        "other_names": f"{rng.choice(PLACES)}{suffix[:4]}" if rng.random() < 0.3 else "",
        "type_of": "general",
        "price_editable": rng.random() < 0.2,
        "margin": rng.choice([0, 10, 15, 20, 25]),
        "barcode_spare": "".join(rng.choices("0123456789", k=13)),
        "spare_ignore_for_orders": False,
        "sms_pack_size": 0,
        "expiry_date_mandatory": rng.random() < 0.9,
        "volume_per_pack": round(rng.uniform(0.001, 0.5), 4),
        "department_ID": "",
        "weight": round(rng.uniform(0.01, 2), 3),
        "essential_drug_list": rng.random() < 0.6,
        "catalogue_code": f"CAT-{rng.randint(1000, 9999)}",
        "indic_price": price,
        "user_field_1": "",
        "spare_hold_for_issue": False,
        "builds_only": False,
        "reference_bom_quantity": 0,
        "use_bill_of_materials": False,
        "description": f"{generic} {strength} {form.lower()}, pack of {pack}",
        "spare_hold_for_receive": False,
        "Message": "",
        "interaction_group_ID": "",
        "spare_pack_to_one_on_receive": False,
        "cross_ref_item_ID": "",
        "strength": strength,
        "user_field_4": False,
        "user_field_6": "",
        "spare_internal_analysis": 0,
        "user_field_2": "",
        "user_field_3": "",
        "ddd factor": 0,
        "account_stock_ID": accounts[0],
        "account_purchases_ID": accounts[1],
        "account_income_ID": accounts[2],
        "unit_ID": unit_ids[unit] if unit_ids and unit in unit_ids else new_id(rng),
        "outer_pack_size": rng.choice([0, 10, 50, 100]),
        "category_ID": _id_or_new(rng, category_id),
        "ABC_category": rng.choice("ABC"),
        "warning_quantity": rng.choice([0, 10, 50, 100]),
        "user_field_5": 0,
        "print_units_in_dis_labels": rng.random() < 0.5,
        "volume_per_outer_pack": round(rng.uniform(0, 5), 3),
        "normal_stock": rng.random() < 0.8,
        "critical_stock": rng.random() < 0.1,
        "spare_non_stock": False,
        "non_stock_name_ID": "",
        "is_sync": False,
        "sms_code": "",
        "category2_ID": "",
        "category3_ID": "",
        "buy_price": round(price * 0.8, 2),
        "VEN_category": rng.choice("VEN"),
        "universalcodes_code": f"{rng.getrandbits(36):09x}",
        "universalcodes_name": generic,
        "kit_data": None,
        "custom_data": None,
        "doses": rng.randint(1, 3) if vaccine else 0,
        "is_vaccine": vaccine,
        "restricted_location_type_ID": "",
        "product_specifications": "",
    }


NAME_KINDS = ("patient", "customer", "supplier", "store")


def generate_name(
    rng: random.Random,
    *,
    kind: str = "patient",
    record_id: str | None = None,
    name: str | None = None,
    code: str | None = None,
    index: int = 0,
) -> Record:
    """A `name`: a patient, a customer facility, a supplier company or a store's own name."""
    patient = kind == "patient"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    place = rng.choice(PLACES)
    if name is None:
        name = {
            "patient": f"{last}, {first}",
            "customer": f"{place} {rng.choice(FACILITIES)}",
            "supplier": f"{place} {rng.choice(COMPANIES)}",
        }.get(kind, f"{place} Store")
    code = code or f"{kind[:1].upper()}{index:06d}"
    female = rng.random() < 0.5
    born = day(rng.randint(365, 80 * 365)) if patient else NO_DATE
    facility = kind in ("customer", "store")
    return {
        "ID": _id_or_new(rng, record_id),
        "name": name,
        "fax": "",
        "phone": _phone(rng),
        "customer": kind != "supplier",
        "bill_address1": f"{rng.randint(1, 400)} {rng.choice(STREETS)}",
        "bill_address2": place,
        "supplier": kind in ("supplier", "store"),
        "charge code": code,
        "margin": 0,
        "comment": "",
        "currency_ID": "",
        "country": rng.choice(COUNTRIES),
        "freightfac": 0,
        "email": f"{name.split(',')[0].split()[0].lower()}{index}@example.org",
        "custom1": "",
        "code": code,
        "last": last if patient else "",
        "first": first if patient else "",
        "title": "",
        "female": female if patient else False,
        "date_of_birth": born,
        "overpayment": 0,
        "group_ID": "",
        "hold": False,
        "ship_address1": "",
        "ship_address2": "",
        "url": "",
        "barcode": f"*{code}*",
        "postal_address1": f"P.O. Box {rng.randint(10, 9999)}",
        "postal_address2": place,
        "category1_ID": "",
        "region_ID": "",
        "type": "patient" if patient else ("store" if kind == "store" else "facility"),
        "price_category": rng.choice("ABC") if facility else "",
        "flag": "",
        "manufacturer": kind == "supplier" and rng.random() < 0.4,
        "print_invoice_alphabetical": False,
        "custom2": "",
        "custom3": "",
        "default_order_days": rng.choice([0, 30, 60, 90]) if facility else 0,
        "connection_type": 0,
        "PATIENT_PHOTO": "",
        "NEXT_OF_KIN_ID": "",
        "POBOX": "",
        "ZIP": 0,
        "middle": "",
        "preferred": False,
        "Blood_Group": rng.choice(["A+", "B+", "O+", "AB+", "O-", ""]) if patient else "",
        "marital_status": "",
        "Benchmark": False,
        "next_of_kin_relative": "",
        "mother_id": "",
        "postal_address3": "",
        "postal_address4": "",
        "bill_address3": "",
        "bill_address4": "",
        "ship_address3": "",
        "ship_address4": "",
        "ethnicity_ID": "",
        "occupation_ID": "",
        "religion_ID": "",
        "national_health_number": f"NH{rng.randint(10**7, 10**8 - 1)}" if patient else "",
        "Master_RTM_Supplier_Code": 0,
        "ordering_method": "",
        "donor": kind == "supplier" and rng.random() < 0.1,
        "latitude": round(rng.uniform(-15, 5), 5),
        "longitude": round(rng.uniform(28, 40), 5),
        "Master_RTM_Supplier_name": "",
        "category2_ID": "",
        "category3_ID": "",
        "category4_ID": "",
        "category5_ID": "",
        "category6_ID": "",
        "bill_address5": "",
        "bill_postal_zip_code": "",
        "postal_address5": "",
        "postal_zip_code": "",
        "ship_address5": "",
        "ship_postal_zip_code": "",
        "supplying_store_id": "",
        "license_number": f"LIC-{rng.randint(1000, 9999)}" if facility else "",
        "license_expiry": day(-rng.randint(30, 700)) if facility else NO_DATE,
        "has_current_license": facility,
        "custom_data": None,
        "maximum_credit": 0,
        "nationality_ID": "",
        "created_date": day(rng.randint(0, 1500)),
        "isDeceased": False,
        "om_created_datetime": "",
        "om_gender": ("FEMALE" if female else "MALE") if patient else "",
        "om_date_of_death": "",
        "HSH_code": "",
        "HSH_name": "",
    }


def generate_store(
    rng: random.Random,
    *,
    store_id: str | None = None,
    name: str = "Store",
    code: str = "STO",
    name_id: str | None = None,
    site_id: int = 1,
) -> Record:
    record: Record = {
        "ID": _id_or_new(rng, store_id),
        "name": name,
        "code": code,
        "name_ID": _id_or_new(rng, name_id),
        "mwks_export_mode": "",
        "IS_HIS": False,
        "sort_issues_by_status_spare": False,
        "disabled": False,
        "responsible_user_ID": "",
        "organisation_name": "Demo Health Services",
        "address_1": f"{rng.randint(1, 400)} {rng.choice(STREETS)}",
        "address_2": rng.choice(PLACES),
        "logo": "",
        "sync_id_remote_site": site_id,
        "address_3": "",
        "address_4": "",
        "address_5": "",
        "postal_zip_code": "",
        "store_mode": "store",
        "phone": _phone(rng),
        "tags": "",
    }
    record.update({f"spare_user_{n}": "" for n in range(1, 17)})
    record.update(custom_data=None, created_date=day(rng.randint(400, 1500)))
    return record


def generate_location(rng: random.Random, *, store_id: str | None = None, index: int = 0) -> Record:
    colour = COLOURS[index % len(COLOURS)]
    code = f"{colour}.{index // len(COLOURS) + 1:02d}"
    return {
        "ID": new_id(rng),
        "code": code,
        "Description": f"Shelf {code}",
        "Comment": "",
        "Volume": rng.choice([0, 1.5, 2.0, 5.0]),
        "type_ID": "",
        "object_type": "",
        "parent_id": "",
        "Colour": "",
        "bottom_y_coordinate": 0,
        "summary_only": False,
        "store_ID": _id_or_new(rng, store_id),
        "priority": 0,
        "hold": False,
        "replenishment_type": "",
        "asset_ID": "",
    }


def generate_item_store_join(
    rng: random.Random, *, item_id: str | None = None, store_id: str | None = None, location_id: str = ""
) -> Record:
    minimum = rng.choice([0, 10, 50, 100])
    return {
        "AMC_modification_factor": 0,
        "ID": new_id(rng),
        "bulk_replenish_at_packs": 0,
        "bulk_replenish_up_to_packs": 0,
        "custom_data": None,
        "default_location_ID": location_id,
        "default_price": _money(rng, 0.1, 50),
        "estimated_AMC": rng.randint(0, 500),
        "forecast_method": 0,
        "hold_for_issue": False,
        "hold_for_receive": False,
        "ignore_for_orders": False,
        "inactive": rng.random() < 0.02,
        "include_on_price_list": rng.random() < 0.5,
        "indic_price": 0,
        "item_ID": _id_or_new(rng, item_id),
        "location_bulk_ID": "",
        "margin": 0.0,
        "maximum_stock": minimum * 3,
        "minimum_stock": minimum,
        "non_stock": False,
        "non_stock_name_ID": "",
        "pack_to_one": False,
        "pack_to_one_allow": False,
        "pickface_location_ID": "",
        "pickface_pack_size": 0,
        "pickface_replenish_at_packs": 0,
        "pickface_replenish_up_to_packs": 0,
        "projection_for_calcs": "",
        "report_quantity": 0,
        "restricted_location_type_id": "",
        "store_ID": _id_or_new(rng, store_id),
    }


def generate_name_store_join(
    rng: random.Random, *, name_id: str | None = None, store_id: str | None = None
) -> Record:
    return {
        "ID": new_id(rng),
        "inactive": rng.random() < 0.02,
        "name_ID": _id_or_new(rng, name_id),
        "spare_Category_ID": 0,
        "spare_Category_optional2_id": 0,
        "spare_Category_optional_id": 0,
        "store_ID": _id_or_new(rng, store_id),
    }


def generate_item_line(
    rng: random.Random,
    *,
    item_id: str | None = None,
    store_id: str | None = None,
    location_id: str = "",
    supplier_name_id: str = "",
    pack_size: int = 1,
    cost_price: float | None = None,
) -> Record:
    cost = _money(rng, 0.05, 40) if cost_price is None else cost_price
    quantity = rng.randint(0, 400)
    return {
        "ID": new_id(rng),
        "available": quantity,
        "barcodeID": "",
        "batch": f"{rng.choice('ABCDEFGHKMNPRSTX')}{rng.randint(1000, 99999)}",
        "cost_price": cost,
        "expiry_date": day(-rng.randint(60, 1100)),
        "donor_id": "",
        "extraData": None,
        "hold": rng.random() < 0.01,
        "initial_quan": quantity + rng.randint(0, 200),
        "item_ID": _id_or_new(rng, item_id),
        "kit_data": None,
        "location_ID": location_id,
        "manufacturer_ID": "",
        "name_ID": supplier_name_id,
        "note": "",
        "pack_inners_per_outer": 0,
        "pack_quan_per_inner": 0,
        "pack_size": pack_size,
        "quantity": quantity,
        "sell_price": round(cost * 1.25, 2),
        "spare": 0,
        "spare_start_year_quan_tot": 0,
        "stock_on_hand_tot": quantity,
        "store_ID": _id_or_new(rng, store_id),
        "total_cost": round(cost * quantity, 2),
        "total_volume": 0,
        "user_1": "",
        "user_2": "",
        "user_3": "",
        "user_4": "",
        "user_5_ID": "",
        "user_6_ID": "",
        "user_7_ID": "",
        "user_8_ID": "",
        "volume_per_pack": 0,
        "vvm_status_id": "",
        "weight_per_pack": 0,
        "om_item_variant_id": "",
        "oms_fields": None,
    }


def generate_transact(
    rng: random.Random,
    *,
    store_id: str | None = None,
    name_id: str | None = None,
    kind: str = "ci",
    status: str = "fn",
    invoice_num: int = 1,
    days_ago: int | None = None,
    total: float | None = None,
    mode: str = "store",
) -> Record:
    """A `transact` header: `ci` customer invoice (to a customer, patient or another store), `si`."""
    written = rng.randint(0, 365) if days_ago is None else days_ago
    done = status == "fn"
    confirmed = status in ("cn", "fn")
    total = _money(rng, 1, 2000) if total is None else total
    seconds = rng.randint(7 * 3600, 18 * 3600)
    return {
        "Colour": 0,
        "Date_order_received": day(written) if kind == "si" else NO_DATE,
        "Date_order_written": day(written),
        "ID": new_id(rng),
        "amount_outstanding": 0 if done else total,
        "arrival_date_actual": day(max(written - 3, 0)) if kind == "si" and done else NO_DATE,
        "arrival_date_estimated": NO_DATE,
        "authorisationStatus": "",
        "budget_period_ID": "",
        "category2_ID": "",
        "category_ID": "",
        "comment": rng.choice(["", "", "Monthly order", "Urgent", "Top-up"]),
        "confirm_date": day(written) if confirmed else NO_DATE,
        "confirm_time": seconds if confirmed else 0,
        "finalised_date": day(written) if done else NO_DATE,
        "finalised_time": seconds + 60 if done else 0,
        "contact_id": "",
        "currency_ID": "",
        "currency_rate": 1,
        "custom_data": None,
        "diagnosis_ID": "",
        "donor_default_id": "",
        "encounter_id": "",
        "entry_date": day(written),
        "entry_time": seconds,
        "export_batch": 0,
        "foreign_currency_total": 0,
        "goodsReceivedConfirmation": None,
        "goods_received_ID": "",
        "hold": False,
        "insuranceDiscountAmount": 0,
        "insuranceDiscountRate": 0,
        "internalData": None,
        "invoice_num": invoice_num,
        "invoice_printed_date": NO_DATE,
        "is_authorised": confirmed,
        "is_cancellation": False,
        "lastModifiedAt": calendar.timegm((REFERENCE_DAY - timedelta(days=written)).timetuple()) + seconds,
        "linked_goods_received_ID": "",
        "linked_transaction_id": "",
        "local_charge_distributed": 0,
        "mode": mode,
        "mwks_sequence_num": 0,
        "nameInsuranceJoinID": "",
        "name_ID": _id_or_new(rng, name_id),
        "number_of_cartons": rng.randint(0, 5) if kind == "ci" and mode == "store" else 0,
        "optionID": "",
        "original_PO_ID": "",
        "paymentTypeID": "",
        "pickslip_printed_date": NO_DATE,
        "prescriber_ID": "",
        "requisition_ID": "",
        "responsible_officer_ID": "",
        "service_descrip": "",
        "service_price": 0,
        "ship_date": day(written) if kind == "ci" and confirmed else NO_DATE,
        "ship_method_ID": "",
        "ship_method_comment": "",
        "status": status,
        "store_ID": _id_or_new(rng, store_id),
        "subtotal": total,
        "supplier_charge_fc": 0,
        "tax": 0,
        "tax_rate": 0,
        "their_ref": f"PO{rng.randint(1000, 99999)}" if kind == "si" else "",
        "total": total,
        "type": kind,
        "user1": "",
        "user2": "",
        "user3": "",
        "user4": "",
        "user_ID": "",
        "wardID": "",
        "waybill_number": "",
        "om_allocated_datetime": "",
        "om_picked_datetime": "",
        "om_shipped_datetime": "",
        "om_delivered_datetime": "",
        "om_verified_datetime": "",
        "om_created_datetime": "",
        "om_transport_reference": "",
        "om_expected_delivery_date": "",
        "oms_fields": None,
    }


def generate_trans_line(
    rng: random.Random,
    *,
    transaction_id: str | None = None,
    item_id: str | None = None,
    item_name: str = "Item",
    item_line_id: str = "",
    line_number: int = 1,
    stock_in: bool = False,
    quantity: int | None = None,
    pack_size: int = 1,
    cost_price: float | None = None,
    sell_price: float | None = None,
    batch: str = "",
    expiry_date: str = NO_DATE,
    location_id: str = "",
) -> Record:
    cost = _money(rng, 0.05, 40) if cost_price is None else cost_price
    sell = round(cost * 1.25, 2) if sell_price is None else sell_price
    quantity = rng.randint(1, 60) if quantity is None else quantity
    return {
        "ID": new_id(rng),
        "Weight": 0,
        "barcodeID": "",
        "batch": batch,
        "box_number": "",
        "cost_price": cost,
        "custom_data": None,
        "expiry_date": expiry_date,
        "foreign_currency_price": 0,
        "goods_received_lines_ID": "",
        "isVVMPassed": "",
        "is_from_inventory_adjustment": False,
        "item_ID": _id_or_new(rng, item_id),
        "item_line_ID": item_line_id,
        "item_name": item_name,
        "line_number": line_number,
        "linked_trans_line_ID": "",
        "linked_transact_id": "",
        "local_charge_line_total": 0,
        "location_ID": location_id,
        "manufacturer_ID": "",
        "medicine_administrator_ID": "",
        "note": rng.choice(["", "", "", rng.choice(INSTRUCTIONS)]),
        "optionID": "",
        "order_lines_ID": "",
        "pack_inners_in_outer": 0,
        "pack_size": pack_size,
        "pack_size_inner": 0,
        "prescribedQuantity": 0,
        "price_extension": round((cost if stock_in else sell) * quantity, 2),
        "quantity": quantity,
        "repeat_ID": "",
        "sell_price": sell,
        "sentQuantity": 0,
        "sent_pack_size": pack_size,
        "source_backorder_id": "",
        "spare": 0,
        "supp_trans_line_ID_ns": "",
        "transaction_ID": _id_or_new(rng, transaction_id),
        "type": "stock_in" if stock_in else "stock_out",
        "user_1": "",
        "user_2": "",
        "user_3": "",
        "user_4": "",
        "user_5_ID": "",
        "user_6_ID": "",
        "user_7_ID": "",
        "user_8_ID": "",
        "vaccine_vial_monitor_status_ID": "",
        "volume_per_pack": 0,
        "om_item_variant_id": "",
        "donor_id": "",
        "oms_fields": None,
    }


GENERATORS: dict[str, Callable[..., Record]] = {
    "unit": generate_unit,
    "item_category": lambda rng: generate_item_category(rng, description=rng.choice(list(CATEGORIES))),
    "item": generate_item,
    "name": generate_name,
    "store": generate_store,
    "Location": generate_location,
    "item_store_join": generate_item_store_join,
    "name_store_join": generate_name_store_join,
    "item_line": generate_item_line,
    "transact": generate_transact,
    "trans_line": generate_trans_line,
}


def generate_record(rng: random.Random, record_type: str) -> Record:
    """One standalone record of the type, its references random ids (for benchmarks)."""
    return GENERATORS[record_type](rng)


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


Table = tuple[str, int, Iterator[Record]]


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
    categories: list[Record] = []
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


def _items(rng: random.Random, size: DemoSize, state: _State) -> Iterator[Record]:
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


def _names(rng: random.Random, size: DemoSize, sites: list[DemoSite], state: _State) -> Iterator[Record]:
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


def _item_store_joins(rng: random.Random, state: _State) -> Iterator[Record]:
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


def _name_store_joins(rng: random.Random, state: _State) -> Iterator[Record]:
    for store, kinds in state.visible_names.items():
        for ids in kinds.values():
            for name_id in ids:
                yield generate_name_store_join(rng, name_id=name_id, store_id=store)


def _item_lines(rng: random.Random, plan: dict[str, list[int]], state: _State) -> Iterator[Record]:
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
) -> Iterator[Record]:
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


def _trans_lines(rng: random.Random, state: _State) -> Iterator[Record]:
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


# Writing it ------------------------------------------------------------------------------------
def seed_demo(
    *,
    size: DemoSize,
    sites: int = 2,
    seed: int = 1,
    password: str = "demo",
    progress: bool | None = False,
    progress_file: TextIO | None = None,
) -> DemoResult:
    """Create the demo sites and write the data set through the primary's normal write path.

    Idempotent for a given seed: a second run finds every record unchanged and queues nothing new.
    `progress`: True shows one bar per table, None only when `progress_file` is a terminal.
    """
    started = time.perf_counter()
    result = DemoResult(sites=ensure_sites(count=sites, password=password, seed=seed))
    for record_type, total, records in generate_dataset(size=size, sites=result.sites, seed=seed):
        bar = tqdm(
            total=total,
            desc=f"{record_type:<16}",
            unit="rec",
            file=progress_file,
            disable=None if progress is None else not progress,
            leave=True,
            smoothing=0.1,
        )
        with bar:
            count = TableCount(record_type)
            table_started = time.perf_counter()
            for batch in _batched(records, BATCH):
                _apply(record_type, batch, count, result)
                bar.update(len(batch))
            count.seconds = time.perf_counter() - table_started
            result.counts.append(count)
    result.seconds = time.perf_counter() - started
    return result


def _batched(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _apply(record_type: str, batch: list[Record], count: TableCount, result: DemoResult) -> None:
    changes = [
        Change(
            record_type=record_type,
            record_id=r["ID"],
            action="upsert",
            data=r,
            store_id=r.get("store_ID", ""),
        )
        for r in batch
    ]
    written = apply_primary_changes(changes=changes)
    count.generated += len(batch)
    count.added += written.added
    count.updated += written.updated
    count.unchanged += written.unchanged
    count.refused += len(written.refused)
    result.refusals.extend(written.refused[: max(0, 20 - len(result.refusals))])


def format_summary(result: DemoResult) -> str:
    header = (
        f"{'record type':<18}{'records':>9}{'added':>9}{'updated':>9}{'unchanged':>11}{'refused':>9}"
        f"{'seconds':>9}"
    )
    rows = [header, "-" * len(header)]
    for c in result.counts:
        rows.append(
            f"{c.record_type:<18}{c.generated:>9}{c.added:>9}{c.updated:>9}{c.unchanged:>11}{c.refused:>9}"
            f"{c.seconds:>9.1f}"
        )
    totals = TableCount("total")
    for c in result.counts:
        for name in ("generated", "added", "updated", "unchanged", "refused"):
            setattr(totals, name, getattr(totals, name) + getattr(c, name))
    rows.append("-" * len(header))
    rows.append(
        f"{'total':<18}{totals.generated:>9}{totals.added:>9}{totals.updated:>9}"
        f"{totals.unchanged:>11}{totals.refused:>9}{result.seconds:>9.1f}"
    )
    rows.append(f"({result.seconds:.1f} s, {totals.generated / max(result.seconds, 1e-9):.0f} records/s)")
    for refusal in result.refusals:
        rows.append(f"refused {refusal.change.record_type} {refusal.change.record_id}: {refusal.reason}")
    return "\n".join(rows)


def basic_header(name: str, password: str) -> str:
    from base64 import b64encode

    from apps.sites.services import password_to_sha256

    token = b64encode(f"{name}:{password_to_sha256(password)}".encode()).decode()
    return f"Basic {token}"


def format_credentials(result: DemoResult, *, url: str = "http://127.0.0.1:8000") -> str:
    lines = [f"Server: {url}", ""]
    for s in result.sites:
        password = s.password if s.created else "(unchanged: the site existed already)"
        lines.append(f"  site {s.site_id}  name {s.name}  password {password}")
        lines.append(f"          store {s.store_name} ({s.store_code})  id {s.store_id}  name_ID {s.name_id}")
        lines.append(f"          user  {s.username} / {s.password if s.created else '(unchanged)'}")
    if result.sites:
        first = result.sites[0]
        lines += [
            "",
            f"Example, site {first.site_id} ({first.name}):",
            f"  Authorization: {basic_header(first.name, first.password)}",
            f"  curl -H 'Authorization: {basic_header(first.name, first.password)}' \\",
            "       -H 'msupply-site-uuid: demo-device' \\",
            f"       '{url}/sync/v3/queued_records/count?from_site={first.site_id}&to_site=1'",
        ]
    lines += ["", "Admin: run `manage.py createsuperuser`, then open " + url + "/admin/"]
    return "\n".join(lines)
