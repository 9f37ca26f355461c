"""One generated record of each kind, as a plain dict shaped like real mSupply records (no database)."""

from __future__ import annotations

import calendar
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# One generated record: field name to value, as a client would send it.
RecordData = dict[str, Any]
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
def generate_unit(rng: random.Random, *, units: str | None = None, order_number: int = 0) -> RecordData:
    units = units or rng.choice(UNITS)
    return {
        "ID": new_id(rng),
        "units": units,
        "comment": f"Dispensed per {units}",
        "order_number": order_number,
    }


def generate_item_category(
    rng: random.Random, *, description: str, parent_id: str = "", sort_order: int = 0
) -> RecordData:
    record: RecordData = {"Description": description, "ID": new_id(rng), "custom_data": None}
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
) -> RecordData:
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
) -> RecordData:
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
) -> RecordData:
    record: RecordData = {
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


def generate_location(rng: random.Random, *, store_id: str | None = None, index: int = 0) -> RecordData:
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
) -> RecordData:
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
) -> RecordData:
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
) -> RecordData:
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
) -> RecordData:
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
) -> RecordData:
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


GENERATORS: dict[str, Callable[..., RecordData]] = {
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


def generate_record(rng: random.Random, record_type: str) -> RecordData:
    """One standalone record of the type, its references random ids (for benchmarks)."""
    return GENERATORS[record_type](rng)
