"""Every kind of source, read from local files, a local HTTP server and SQL databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from django.db import connection

from apps.imports.models import DataSource, ImportRun
from apps.imports.services import schedule_create, schedule_run_now
from apps.imports.sources import SourceError, google_sheet_csv_url, read_source
from apps.imports.sql_source import check_select
from apps.records.models import Record

from .conftest import LocalServer, Page, csv_schedule, write_csv, xlsx_bytes

pytestmark = pytest.mark.django_db


def item_data(record_id: str) -> dict:
    return orjson.loads(Record.objects.get(record_type_id="item", record_id=record_id).data)


def test_a_csv_file_under_the_root_is_imported_with_columns_matched_to_fields_in_any_case(file_root: Path):
    path = write_csv(
        file_root, "items.csv", ["id,CODE,Item_Name", "A1,AMX,Amoxicillin", "A2,PCM,Paracetamol"]
    )
    run = schedule_run_now(schedule=csv_schedule(path), rate_limited=False)
    assert (run.status, run.rows, run.columns, run.added) == ("succeeded", 2, ["id", "CODE", "Item_Name"], 2)
    assert item_data("A2") == {"ID": "A2", "code": "PCM", "item_name": "Paracetamol"}


def test_semicolon_csv_with_a_bom_and_blank_lines_is_read(file_root: Path):
    (file_root / "x.csv").write_bytes("\ufeffID;code\n\nB1;X1\nB2;X2\n".encode())
    source = DataSource(kind="csv", path="x.csv")
    table = read_source(source)
    assert (table.columns, table.rows) == (["ID", "code"], [["B1", "X1"], ["B2", "X2"]])


@pytest.mark.parametrize("path", ["../outside.csv", "/etc/passwd", "sub/../../outside.csv"])
def test_a_path_outside_the_file_root_is_refused(file_root: Path, path: str):
    (file_root.parent / "outside.csv").write_text("ID\nZ\n")
    with pytest.raises(SourceError, match="outside IMPORTS_FILE_ROOT"):
        read_source(DataSource(kind="csv", path=path))


def test_a_missing_file_fails_the_run_with_its_name_and_writes_nothing(file_root: Path):
    run = schedule_run_now(schedule=csv_schedule("nowhere.csv"), rate_limited=False)
    assert run.status == "failed" and "nowhere.csv" in run.error
    assert not Record.objects.filter(record_type_id="item").exists()


def test_csv_and_xlsx_from_a_local_http_server(db, http_server: LocalServer):
    http_server.pages["/items.csv"] = Page(b"ID,code\nH1,C1\n")
    http_server.pages["/items.xlsx"] = Page(
        xlsx_bytes([["ID", "code", "default_pack_size"], ["X1", "K1", 10], ["X2", "K2", 2.0]]),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    from_csv = schedule_create(
        name="csv url", record_type="item", source_kind="csv", config={"url": http_server.url("/items.csv")}
    )
    from_xlsx = schedule_create(
        name="xlsx url",
        record_type="item",
        source_kind="xlsx",
        config={"url": http_server.url("/items.xlsx"), "sheetName": "Items"},
    )
    assert schedule_run_now(schedule=from_csv, rate_limited=False).added == 1
    run = schedule_run_now(schedule=from_xlsx, rate_limited=False)
    assert (run.status, run.added) == ("succeeded", 2), run.error
    # Numbers stay numbers; a whole float is stored as an integer, the same on every run.
    assert item_data("X2") == {"ID": "X2", "code": "K2", "default_pack_size": 2}
    assert item_data("H1")["code"] == "C1"


def test_an_xlsx_file_with_a_range_reads_only_that_range(file_root: Path):
    rows = [["title row"], ["ID", "code", "junk"], ["R1", "C1", "x"], ["R2", "C2", "y"]]
    (file_root / "book.xlsx").write_bytes(xlsx_bytes(rows))
    table = read_source(DataSource(kind="xlsx", path="book.xlsx", sheet_name="Items", cell_range="A2:B4"))
    assert (table.columns, table.rows) == (["ID", "code"], [["R1", "C1"], ["R2", "C2"]])
    with pytest.raises(SourceError, match="no sheet 'Nope'"):
        read_source(DataSource(kind="xlsx", path="book.xlsx", sheet_name="Nope"))


def test_a_file_that_is_not_a_workbook_is_refused_in_words(file_root: Path):
    (file_root / "fake.xlsx").write_text("ID,code\n")
    with pytest.raises(SourceError, match=r"not an \.xlsx workbook"):
        read_source(DataSource(kind="xlsx", path="fake.xlsx"))


def test_google_sheet_link_becomes_its_csv_export_with_sheet_and_range():
    url = google_sheet_csv_url(
        "https://docs.google.com/spreadsheets/d/abc_DEF-1/edit#gid=0",
        sheet_name="Item list",
        cell_range="A1:C9",
    )
    assert url == (
        "https://docs.google.com/spreadsheets/d/abc_DEF-1/gviz/tq?tqx=out%3Acsv&sheet=Item+list&range=A1%3AC9"
    )


def test_a_public_google_sheet_export_is_read_with_its_sheet_and_range(http_server: LocalServer):
    http_server.pages["/export"] = Page(b'"ID","code"\n"G1","S1"\n')
    source = DataSource(
        kind="googleSheet", url=http_server.url("/export"), sheet_name="Items", cell_range="A1:B"
    )
    table = read_source(source)
    assert table.rows == [["G1", "S1"]]
    assert http_server.requested == ["/export?sheet=Items&range=A1%3AB"]


@pytest.mark.parametrize(
    "page",
    [
        Page(b"", status=302, location="/ServiceLogin?continue=x"),  # Google's answer to a private sheet
        Page(b"<html>Sign in</html>", content_type="text/html"),
        Page(b"forbidden", status=403),
    ],
)
def test_a_private_google_sheet_gives_access_denied(http_server: LocalServer, page: Page):
    http_server.pages["/private"] = page
    http_server.pages["/ServiceLogin"] = Page(b"<html>login</html>", content_type="text/html")
    with pytest.raises(SourceError, match="Access denied"):
        read_source(DataSource(kind="googleSheet", url=http_server.url("/private")))


def test_an_unreachable_url_fails_in_words_without_its_query_string(http_server: LocalServer):
    with pytest.raises(SourceError, match="answered HTTP 404") as error:
        read_source(DataSource(kind="csv", url=http_server.url("/missing.csv?token=SECRET")))
    assert "SECRET" not in str(error.value)


def test_sql_from_a_sqlite_file_named_in_the_environment(db, tmp_path: Path, monkeypatch):
    database = tmp_path / "erp.sqlite3"
    with sqlite3.connect(database) as erp:
        erp.execute("CREATE TABLE products (sku TEXT, label TEXT, pack INTEGER, price NUMERIC)")
        erp.executemany(
            "INSERT INTO products VALUES (?, ?, ?, ?)", [("S1", "Gauze", 10, 1.5), ("S2", "Tape", 1, 2)]
        )
    monkeypatch.setenv("IMPORTS_SQL_ERP_URL", f"sqlite:///{database}")
    schedule = schedule_create(
        name="erp",
        record_type="item",
        source_kind="sql",
        config={
            "connection": "erp",
            "query": "SELECT sku AS ID, label AS item_name, pack AS default_pack_size FROM products "
            "ORDER BY sku",
        },
    )
    run = schedule_run_now(schedule=schedule, rate_limited=False)
    assert (run.status, run.added, run.columns) == ("succeeded", 2, ["ID", "item_name", "default_pack_size"])
    assert item_data("S1") == {"ID": "S1", "item_name": "Gauze", "default_pack_size": 10}


def test_a_sqlite_sql_source_cannot_write_even_through_a_select(tmp_path: Path, monkeypatch):
    database = tmp_path / "erp.sqlite3"
    with sqlite3.connect(database) as erp:
        erp.execute("CREATE TABLE t (id TEXT)")
    monkeypatch.setenv("IMPORTS_SQL_ERP_URL", f"sqlite:///{database}")
    from apps.imports.sql_source import read_sql

    with pytest.raises(SourceError):
        read_sql(connection="erp", query="WITH x AS (SELECT 1) SELECT * FROM t; DROP TABLE t", timeout=5)
    assert read_sql(connection="erp", query="select * from t", timeout=5).columns == ["id"]


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM item",
        "SELECT 1; DELETE FROM item",
        "SELECT * INTO copy FROM item",
        "UPDATE item SET x = 1",
        "SELECT * FROM t FOR UPDATE",
        "",
    ],
)
def test_only_one_read_only_select_is_accepted(query: str):
    with pytest.raises(SourceError):
        check_select(query)


def test_select_with_comments_strings_and_a_trailing_semicolon_is_accepted():
    text = check_select("-- items\nSELECT 'a;b' AS note, updated_at FROM t /* delete */ ;")
    assert text.startswith("SELECT") and not text.endswith(";")


def test_an_unknown_connection_names_the_environment_variable_to_set(tmp_path: Path):
    from apps.imports.sql_source import read_sql

    with pytest.raises(SourceError, match="IMPORTS_SQL_WAREHOUSE_2_URL"):
        read_sql(connection="warehouse-2", query="SELECT 1", timeout=5)


@pytest.mark.mariadb
@pytest.mark.skipif(connection.vendor != "mysql", reason="needs the MySQL/MariaDB of CI")
@pytest.mark.django_db(transaction=True)
def test_sql_from_the_mariadb_database_alias_is_read_only_with_a_timeout():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE erp_products (sku VARCHAR(20), label VARCHAR(50))")
        cursor.execute("INSERT INTO erp_products VALUES ('M1', 'Mask'), ('M2', 'Glove')")
    try:
        schedule = schedule_create(
            name="mariadb",
            record_type="item",
            source_kind="sql",
            config={
                "connection": "default",
                "query": "SELECT sku AS ID, label AS item_name FROM erp_products",
            },
        )
        run = schedule_run_now(schedule=schedule, rate_limited=False)
        assert (run.status, run.added) == (ImportRun.Status.SUCCEEDED, 2), run.error
        from apps.imports.sql_source import read_sql

        # The timeout stops a query that runs too long.
        with pytest.raises(SourceError, match="failed"):
            read_sql(connection="default", query="SELECT SLEEP(3)", timeout=1)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE erp_products")


def test_a_connection_whose_driver_is_missing_says_which_extra_to_install(monkeypatch):
    from apps.imports.sql_source import read_sql

    monkeypatch.setenv("IMPORTS_SQL_WAREHOUSE_URL", "mssql://reader:pw@sqlserver.example/erp")
    with pytest.raises(SourceError, match="sqlserver") as error:
        read_sql(connection="warehouse", query="SELECT 1", timeout=5)
    assert "pw@" not in str(error.value)


def test_the_delimiter_comes_from_the_header_so_commas_in_values_do_not_split_a_semicolon_file(file_root):
    (file_root / "semi.csv").write_text("ID;item_name\nA1;Gauze, sterile, 10 cm\nA2;Tape\n")
    (file_root / "tab.csv").write_text("ID\titem_name\nT1\tSalt; iodised\n")
    assert read_source(DataSource(kind="csv", path="semi.csv")).rows == [
        ["A1", "Gauze, sterile, 10 cm"],
        ["A2", "Tape"],
    ]
    assert read_source(DataSource(kind="csv", path="tab.csv")).rows == [["T1", "Salt; iodised"]]
    (file_root / "one.csv").write_text("ID\nX1\n")
    assert read_source(DataSource(kind="csv", path="one.csv")).rows == [["X1"]]
