"""The filter options and statistics rows rendered by tags (supervision_tables)."""

from __future__ import annotations

from django.template import Context, Template

from tongban.supervision.stats import Figures


def render(source: str, **context) -> str:
    return Template("{% load supervision_tables %}" + source).render(Context(context))


def test_options_mark_the_chosen_value_and_escape_labels():
    html = render("{% options choices chosen %}", choices=[(1, "市场监管局"), (12, "<b>数据</b>")], chosen=12)
    assert html == (
        '<option value="">全部</option><option value="1">市场监管局</option>'
        '<option value="12" selected>&lt;b&gt;数据&lt;/b&gt;</option>'
    )
    assert "selected" not in render("{% options choices None %}", choices=[(1, "a")])
    assert render('{% options choices "online" blank=None %}', choices=[("online", "网上")]) == (
        '<option value="online" selected>网上</option>'
    )


def test_statistics_row_formats_days_and_rates():
    fig = Figures(label="金安区")
    fig.counts.update(received=6, accepted=4, refused=1, corrected=1, completed=4, on_time=3, late=1)
    fig.counts.update(online_full=2, one_visit=3)
    for days in (2, 5, 8, 20):
        fig.add_days(days, 1)
    html = render("{% stats_row r r.label %}", r=fig)
    cells = html.replace("</td>", "").split("<td>")[1:]
    assert html.startswith('<tr><th scope="row">金安区</th>')
    assert cells[:6] == ["6", "4", "1", "4", "3", "1"]
    assert cells[6:8] == ["8.8", "16.4"]  # average 35/4, 90th percentile
    assert [c.removesuffix("</tr>") for c in cells[8:]] == ["50%", "75%", "20%", "20%"]
    empty = render('{% stats_row r "合计" %}', r=Figures())
    assert empty.count("—") == 6  # no completions, no decisions: no days, no rates
