"""The SVG renderer: well-formed markup, scaled to its data, every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from apps.monitoring.svg import Series, bar_chart, line_chart, nice_ceiling

NS = "{http://www.w3.org/2000/svg}"


def test_a_line_chart_is_well_formed_and_its_lines_reach_the_top_of_a_nice_scale():
    markup = line_chart(
        title="Requests", labels=["00:00", "01:00", "02:00"], series=[Series("requests", [0, 37, 12])]
    )
    root = ET.fromstring(markup)
    (line,) = root.iter(f"{NS}polyline")
    ys = [float(point.split(",")[1]) for point in line.attrib["points"].split()]
    assert ys[0] > ys[2] > ys[1]  # 0 at the bottom, the largest value highest
    labels = [t.text for t in root.iter(f"{NS}text")]
    assert "50" in labels and "00:00" in labels  # the axis goes to 50, the next 1-2-5 step above 37


def test_text_is_escaped():
    markup = bar_chart(title="Lag <b>", bars=[('<script>alert("x")</script>', 3.0)], unit="h&")
    root = ET.fromstring(markup)  # parses: nothing broke out of its element
    assert "<script>" not in markup
    assert any(t.text and t.text.startswith('<script>alert("x")') for t in root.iter(f"{NS}text"))


def test_empty_data_draws_a_note_rather_than_failing():
    assert "Nothing to show." in bar_chart(title="Lag", bars=[])
    ET.fromstring(line_chart(title="t", labels=[], series=[Series("s", [])]))


def test_nice_ceiling_steps():
    assert [nice_ceiling(v) for v in (0, 0.3, 1, 3, 7, 10, 11, 4500)] == [1, 0.5, 1, 5, 10, 10, 20, 5000]
