"""ECharts options for the dashboard and statistics pages, rendered with ``json_script``.

Only data and plain options here (no functions: the CSP forbids eval); ``static/supervision/
charts.js`` finds each ``[data-chart]`` element and applies the options from its JSON script.
"""

from __future__ import annotations

from tongban.supervision.stats import Figures

GREEN, YELLOW, RED, BLUE, GREY = "#1a7f37", "#b26a00", "#c62828", "#1f5fbf", "#5b6573"
TEXT = {"fontSize": 14}


def _bar(categories: list[str], series: list[dict], *, horizontal: bool = False) -> dict:
    cat_axis = {
        "type": "category",
        "data": categories,
        "inverse": horizontal,  # first row on top
        "axisLabel": {"interval": 0, "width": 150, "overflow": "break", **TEXT},
    }
    val_axis = {"type": "value", "minInterval": 1, "axisLabel": TEXT}
    return {
        "aria": {"enabled": True, "decal": {"show": True}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "textStyle": TEXT},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 40, "containLabel": True},
        "xAxis": val_axis if horizontal else cat_axis,
        "yAxis": cat_axis if horizontal else val_axis,
        "series": series,
    }


def lights(counts: dict[str, int]) -> dict:
    return {
        "aria": {"enabled": True, "decal": {"show": True}},
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0, "textStyle": TEXT},
        "series": [
            {
                "type": "pie",
                "radius": ["38%", "68%"],
                "center": ["50%", "45%"],
                "label": {"show": False},
                "data": [
                    {
                        "name": f"红灯 {counts.get('red', 0)} 件",
                        "value": counts.get("red", 0),
                        "itemStyle": {"color": RED},
                    },
                    {
                        "name": f"黄灯 {counts.get('yellow', 0)} 件",
                        "value": counts.get("yellow", 0),
                        "itemStyle": {"color": YELLOW},
                    },
                    {
                        "name": f"绿灯 {counts.get('green', 0)} 件",
                        "value": counts.get("green", 0),
                        "itemStyle": {"color": GREEN},
                    },
                ],
            }
        ],
    }


def by_group(rows: list[Figures]) -> dict:
    rows = rows[:15]
    labels = [r.label for r in rows]
    return _bar(
        labels,
        [
            {
                "name": "收件",
                "type": "bar",
                "data": [r.counts["received"] for r in rows],
                "itemStyle": {"color": BLUE},
            },
            {
                "name": "办结",
                "type": "bar",
                "data": [r.counts["completed"] for r in rows],
                "itemStyle": {"color": GREY},
            },
            {
                "name": "按期办结",
                "type": "bar",
                "data": [r.counts["on_time"] for r in rows],
                "itemStyle": {"color": GREEN},
            },
            {
                "name": "超期办结",
                "type": "bar",
                "data": [r.counts["late"] for r in rows],
                "itemStyle": {"color": RED},
            },
        ],
        horizontal=True,  # long Chinese department and item names read well on any width
    )


def trend(rows: list[Figures]) -> dict:
    labels = [r.label[5:] if len(r.label) == 10 else r.label for r in rows]
    option = _bar(
        labels,
        [
            {
                "name": "收件",
                "type": "line",
                "data": [r.counts["received"] for r in rows],
                "itemStyle": {"color": BLUE},
            },
            {
                "name": "办结",
                "type": "line",
                "data": [r.counts["completed"] for r in rows],
                "itemStyle": {"color": GREEN},
            },
        ],
    )
    option["xAxis"]["axisLabel"] = {"interval": "auto", **TEXT}
    return option


def dashboard(by_department: list[Figures], by_day: list[Figures], counts: dict[str, int]) -> dict:
    return {"lights": lights(counts), "departments": by_group(by_department), "trend": trend(by_day)}


def statistics(rows: list[Figures], group_label: str) -> dict:
    if rows and group_label in ("日", "月"):
        return {"main": trend(rows)}
    return {"main": by_group(rows)}
