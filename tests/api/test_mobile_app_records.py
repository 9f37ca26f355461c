"""Records shaped as the mSupply Mobile app (v8.7.4) pushes them are applied whole, and come back usable.

The app writes every value as a string: dates as ISO timestamps (`moment(date).toISOString()`) or
`0000-00-00` when it has none, times as `HH:MM:SS`, booleans and numbers as their text; it leaves a key
out when the value is undefined, and spells some field names its own way (`id` for name's `ID`,
`medicine_administrator_id`, `location_ID` on stock take lines). The field sets below are those of the
app's outgoing sync code. A re-install must get each record back with every field of its table, in the
forms the app's own parsers read.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from apps.queue.models import QuarantinedRecord
from apps.records.fieldtypes import EMPTY_DATE
from apps.records.registry import get_registry
from tests.support import client_for, make_site

pytestmark = pytest.mark.django_db

STORE = "STORE2"
WHEN = "2026-11-30T21:15:04.123Z"  # the app's dates
DAY = "2026-11-30"
PATIENT = "PATIENT1"

APP_RECORDS: dict[str, dict[str, Any]] = {
    "name": {
        "id": PATIENT, "type": "patient", "first": "Ana", "middle": "", "last": "Silva", "name": "Silva, Ana",
        "date_of_birth": "1990-04-02T12:00:00.000Z", "code": "P001", "email": "", "supplying_store_id": STORE,
        "phone": "", "customer": "true", "country": "", "bill_address1": "", "bill_address2": "",
        "barcode": "*P001*", "charge code": "P001", "currency_id": "", "isDeceased": "false",
        "is_deleted": "false", "female": "true", "nationality_ID": "", "occupation_ID": "",
        "ethnicity_ID": "", "created_date": WHEN,
    },
    "Location": {"ID": "LOC1", "code": "F1", "Description": "Fridge", "store_ID": STORE, "hold": "false"},
    "item_line": {
        "ID": "IL1", "store_ID": STORE, "item_ID": "ITEM1", "pack_size": "10", "expiry_date": "0000-00-00",
        "batch": "B1", "available": "5", "quantity": "5", "stock_on_hand_tot": "50", "cost_price": "1.25",
        "sell_price": "2", "total_cost": "6.25", "name_ID": "", "donor_id": "",
    },  # no location_ID: the app leaves it out when the batch has none
    "transact": {
        "ID": "T1", "name_ID": "NAME_CUSTOMER", "amount_outstanding": "0", "comment": "", "entry_date": WHEN,
        "type": "ci", "status": "nw", "total": "10", "their_ref": "", "confirm_date": "0000-00-00",
        "subtotal": "10", "user_ID": "U1", "mode": "store", "prescriber_ID": "", "category_ID": "",
        "confirm_time": "00:00:00", "store_ID": STORE, "linked_transaction_id": "", "user1": "",
        "requisition_ID": "", "nameInsuranceJoinID": "", "insuranceDiscountAmount": "0",
        "insuranceDiscountRate": "0", "paymentTypeID": "", "entry_time": "21:15:04",
        "Date_order_written": WHEN, "is_cancellation": "false", "currency_ID": "", "currency_rate": "1",
        "optionID": "", "service_price": "0", "foreign_currency_total": "0", "invoice_num": "12",
    },
    "trans_line": {
        "ID": "TL1", "transaction_ID": "T1", "item_ID": "ITEM1", "batch": "B1", "item_line_ID": "IL1",
        "price_extension": "2", "note": "", "cost_price": "1.25", "sell_price": "2", "expiry_date": WHEN,
        "pack_size": "10", "quantity": "1", "item_name": "Paracetamol", "donor_id": "", "type": "stock_out",
        "line_number": "1", "sent_pack_size": "10", "foreign_currency_price": "2", "linked_transact_id": "",
        "is_from_inventory_adjustment": "false", "medicine_administrator_id": "",
        "vaccine_vial_monitor_status_ID": "",
    },
    "requisition": {
        "ID": "R1", "date_entered": WHEN, "user_ID": "U1", "name_ID": "NAME_SUPPLIER", "status": "sg",
        "daysToSupply": "30", "store_ID": STORE, "serial_number": "3", "requester_reference": "",
        "comment": "", "type": "request", "programID": "", "periodID": "", "orderType": "",
        "custom_data": "", "date_order_received": "0000-00-00", "isRemoteOrder": "false",
    },
    "requisition_line": {
        "ID": "RL1", "requisition_ID": "R1", "item_ID": "ITEM1", "stock_on_hand": "50", "actualQuan": "0",
        "suggested_quantity": "20", "daily_usage": "1.5", "comment": "", "Cust_stock_order": "20",
        "line_number": "1", "Cust_prev_stock_balance": "0", "Cust_stock_received": "0",
        "Cust_stock_issued": "0", "Cust_loss_adjust": "0", "stockLosses": "0", "stockAdditions": "0",
        "DOSforAMCadjustment": "0", "optionID": "",
    },
    "Stock_take": {
        "ID": "ST1", "Description": "Monthly", "stock_take_created_date": WHEN, "stock_take_date": WHEN,
        "stock_take_time": "21:15:04", "created_by_ID": "U1", "status": "sg", "finalised_by_ID": "",
        "invad_additions_ID": "", "invad_reductions_ID": "", "store_ID": STORE, "comment": "",
        "programID": "", "serial_number": "4",
    },
    "Stock_take_lines": {
        "ID": "STL1", "stock_take_ID": "ST1", "item_line_ID": "IL1", "snapshot_qty": "5",
        "snapshot_packsize": "10", "stock_take_qty": "4", "line_number": "1", "expiry": "0000-00-00",
        "cost_price": "1.25", "sell_price": "2", "Batch": "B1", "item_ID": "ITEM1", "optionID": "",
        "is_edited": "true", "location_ID": "LOC1", "vaccine_vial_monitor_status_ID": "",
    },
    "clinician": {
        "ID": "C1", "code": "DR1", "last_name": "Lee", "first_name": "Jo", "registration_code": "REG-9",
        "address1": "", "address2": "", "phone": "", "email": "", "store_ID": STORE, "female": "false",
        "active": "true",
    },
    "nameInsuranceJoin": {
        "ID": "NIJ1", "discountRate": "10", "enteredByID": "U1", "expiryDate": "2027-12-31T00:00:00.000Z",
        "insuranceProviderID": "IP1", "isActive": "true", "nameID": PATIENT, "policyNumberFamily": "FAM-1",
        "policyNumberFull": "FAM-1-01", "policyNumberPerson": "01", "type": "personal",
    },
    "name_note": {
        "ID": "NN1", "entry_date": WHEN, "name_ID": PATIENT, "patient_event_ID": "", "note": "allergic",
        "data": "{}", "is_deleted": "false", "store_ID": STORE, "boolean_value": "false",
    },
    "adverse_drug_reaction": {
        "ID": "ADR1", "data": "{}", "entry_date": WHEN, "entry_time": "21:15:04", "form_schema_ID": "FS1",
        "name_ID": PATIENT, "store_ID": STORE, "user_ID": "U1",
    },
    "location_movement": {
        "ID": "LM1", "item_line_ID": "IL1", "location_ID": "LOC1", "enter_date": WHEN,
        "enter_time": "21:15:04", "exit_date": "0000-00-00", "exit_time": "00:00:00", "store_ID": STORE,
    },
    "sensor": {
        "ID": "S1", "macAddress": "AA:BB:CC:DD:EE:01", "name": "Fridge sensor", "locationID": "LOC1",
        "batteryLevel": "90", "logInterval": "300", "is_active": "true", "storeID": STORE,
        "log_delay_date": WHEN, "log_delay_time": "21:15:04", "programmed_date": WHEN,
        "programmed_time": "21:15:04",
    },
    "temperature_breach_config": {
        "ID": "TBC1", "minimum_temperature": "8", "maximum_temperature": "999", "duration": "3600",
        "description": "Hot", "colour": "#ff0000", "type": "HOT_CONSECUTIVE", "location_ID": "LOC1",
        "store_ID": STORE,
    },
    "temperature_breach": {
        "ID": "TB1", "start_date": WHEN, "start_time": "21:15:04", "end_date": "0000-00-00",
        "end_time": "00:00:00", "location_ID": "LOC1", "sensor_ID": "S1", "type": "HOT_CONSECUTIVE",
        "threshold_maximum_temperature": "999", "threshold_minimum_temperature": "8",
        "threshold_duration": "3600", "store_ID": STORE, "temperature_breach_config_ID": "TBC1",
    },
    "temperature_log": {
        "ID": "TLOG1", "temperature": "5.5", "date": WHEN, "time": "21:15:04", "location_ID": "LOC1",
        "temperature_breach_ID": "", "sensor_ID": "S1", "store_ID": STORE, "log_interval": "300",
    },
    "vaccine_vial_monitor_status_log": {
        "ID": "VVM1", "status_ID": "VS1", "date": WHEN, "time": "21:15:04", "item_line_ID": "IL1",
        "store_ID": STORE,
    },
    "indicator_value": {
        "ID": "IV1", "facility_ID": STORE, "period_ID": "P1", "column_ID": "COL1", "row_ID": "ROW1",
        "value": "12",
    },
    "message": {
        "ID": "MSG1", "fromStoreID": STORE, "body": "{}", "createdDate": WHEN, "createdTime": "21:15:04",
        "status": "new", "type": "upgrade",
    },
}  # fmt: skip

FORMS = {
    "date": re.compile(rf"\d{{4}}-\d{{2}}-\d{{2}}$|{re.escape(EMPTY_DATE)}$"),
    "datetime": re.compile(
        rf"\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}:\d{{2}}(\.\d{{3}})?Z$|{re.escape(EMPTY_DATE)}$"
    ),
    "time": re.compile(r"\d{2}:\d{2}:\d{2}$"),
    "boolean": re.compile(r"true$|false$"),
    "integer": re.compile(r"-?\d+(\.\d+)?(e[+-]?\d+)?$"),
    "real": re.compile(r"-?\d+(\.\d+)?(e[+-]?\d+)?$"),
}


def app_push(records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    body = []
    for number, (record_type, data) in enumerate(records.items()):
        key = "id" if "id" in data else "ID"
        body.append(
            {
                "SyncID": f"APP{number}",
                "RecordType": record_type,
                "RecordID": data[key],
                "SyncType": "I",
                "StoreID": STORE,
                "Data": data,
            }
        )
    return body


@pytest.fixture
def mobile():
    site = make_site(2, stores=[STORE])
    make_site(3)
    return client_for(site)


def test_every_record_the_app_writes_is_applied_with_nothing_quarantined(mobile):
    body = mobile.push(app_push(APP_RECORDS))

    assert (body["applied"], body["quarantined"]) == (len(APP_RECORDS), 0), body["quarantinedRecords"]
    assert not QuarantinedRecord.objects.exists()


def test_a_reinstall_gets_each_record_back_whole_in_the_forms_the_app_parses(mobile):
    mobile.push(app_push(APP_RECORDS))

    mobile.initial_dump()  # the app's own initialise: the mobile subset
    pulled = {(r["RecordType"], r["RecordID"]): r for r in mobile.drain()}

    registry = get_registry()
    for record_type, data in APP_RECORDS.items():
        spec = registry.types[record_type]
        record = pulled[(record_type, data.get("ID", data.get("id")))]["data"]
        assert set(record) == set(spec.fields), record_type  # every field, in the registry's spelling
        for name, value in record.items():
            kind = spec.field_types[name]
            assert isinstance(value, str)
            if kind in FORMS:
                assert FORMS[kind].match(value), (record_type, name, value)
    name = pulled[("name", PATIENT)]["data"]
    assert (name["ID"], name["date_of_birth"], name["female"]) == (PATIENT, "1990-04-02", "true")
    line = pulled[("trans_line", "TL1")]["data"]
    assert (line["medicine_administrator_ID"], line["expiry_date"]) == ("", "2026-11-30")
    assert pulled[("item_line", "IL1")]["data"]["location_ID"] == ""  # never sent: empty, but present
    assert pulled[("item_line", "IL1")]["data"]["expiry_date"] == EMPTY_DATE
    assert pulled[("Stock_take_lines", "STL1")]["data"]["location_id"] == "LOC1"
    assert pulled[("transact", "T1")]["data"]["confirm_time"] == "00:00:00"


def test_central_records_the_app_writes_reach_the_other_sites_whole(mobile):
    other = client_for(make_site(4))
    mobile.push(app_push(APP_RECORDS))

    pulled = {(r["RecordType"], r["RecordID"]): r["data"] for r in other.drain()}

    registry = get_registry()
    for record_type in ("name", "nameInsuranceJoin", "name_note", "adverse_drug_reaction"):
        data = APP_RECORDS[record_type]
        record = pulled[(record_type, data.get("ID", data.get("id")))]
        assert set(record) == set(registry.types[record_type].fields)
    assert pulled[("nameInsuranceJoin", "NIJ1")]["expiryDate"] == "2027-12-31"
    assert pulled[("name", PATIENT)]["created_date"] == "2026-11-30"
