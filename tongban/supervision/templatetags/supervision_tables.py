"""Tags for the supervision pages' big repeated markup: filter options and statistics rows.

Rendered in Python because the template versions (a loop with an ``{% if %}`` per option, an
``{% include %}`` per row) took most of a statistics page's time: ~120 ms of 180 for a city
supervisor's 500 item options and 100 department rows.
"""

from collections.abc import Iterable

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def options(choices: Iterable[tuple[object, str]], selected=None, blank: str | None = "全部") -> SafeString:
    """``<option>`` elements for ``choices`` of (value, label), ``selected`` marked, led by an
    empty "全部" option unless ``blank`` is None. Values and labels are escaped."""
    chosen = "" if selected is None else str(selected)
    parts = [] if blank is None else [f'<option value="">{escape(blank)}</option>']
    for value, label in choices:
        mark = " selected" if str(value) == chosen else ""
        parts.append(f'<option value="{escape(value)}"{mark}>{escape(label)}</option>')
    return mark_safe("".join(parts))  # every value and label is escaped above


def _days(value: float | None) -> str:
    return "—" if value is None else floatformat(value, 1)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


@register.simple_tag
def stats_row(figures, head: str) -> SafeString:
    """One row of the statistics table (see ``stats.Figures``)."""
    rates = figures.rates
    cells = [
        figures.received,
        figures.accepted,
        figures.refused,
        figures.completed,
        figures.on_time,
        figures.late,
        _days(figures.average_days),
        _days(figures.p90_days),
        *(_percent(rates[k]) for k in ("online_share", "one_visit_share", "correction_rate", "refusal_rate")),
    ]
    # The cells are numbers and strings formatted here; only the heading comes from data.
    row = "".join(f"<td>{cell}</td>" for cell in cells)
    return mark_safe(f'<tr><th scope="row">{escape(head)}</th>{row}</tr>')
