"""Charts for the README, drawn from the rendered tables by the build (so the drift check keeps them
current), as SVG written the same way every time: fixed hash salt, no date, text kept as text."""
from __future__ import annotations

import io

import pandas as pd

from ..load import frame
from ..table_schemas import table_schema

MAX_LABELS = 200  # launches of 2022 whose statements are counted on the timeline chart
CLASS_ORDER = ["SRBM", "MRBM", "IRBM", "ICBM", "SLBM", "HGV", "SLV", "CM", "BM", "Unknown"]
COLOURS = {"SRBM": "#4c72b0", "MRBM": "#55a868", "IRBM": "#dd8452", "ICBM": "#c44e52", "SLBM": "#8172b3",
           "HGV": "#937860", "SLV": "#da8bc3", "CM": "#8c8c8c", "BM": "#ccb974", "Unknown": "#bbbbbb"}


def _columns(csvs: dict[str, bytes], name: str, *columns: str) -> pd.DataFrame:
    """Just the columns a chart uses, typed."""
    return frame(io.BytesIO(csvs[name]), table_schema(name), list(columns))


def _svg(figure) -> bytes:
    import matplotlib.pyplot as plt

    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(figure)
    return out.getvalue()


def _setup():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.hashsalt": "dprk-timeline", "svg.fonttype": "none", "font.family": "DejaVu Sans",
                                "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    import matplotlib.pyplot as plt
    return plt


def per_year(csvs: dict[str, bytes]) -> bytes:
    """Launch events and missiles per year, stacked by missile class."""
    launches = _columns(csvs, "launches", "launch_id", "korea_date", "missile_class")
    fired = _columns(csvs, "firings", "launch_id").groupby("launch_id").size()
    return draw_per_year(launches.assign(missiles=launches["launch_id"].map(fired).fillna(0).astype("int64")))


def draw_per_year(launches: pd.DataFrame) -> bytes:
    """The chart of launches (korea_date, missile_class and missiles: the rows of firings of each)."""
    plt = _setup()
    launches = launches.dropna(subset=["korea_date"]).assign(
        year=lambda d: d["korea_date"].dt.year, cls=lambda d: d["missile_class"].astype("string").fillna("Unknown"))
    years = range(int(launches["year"].min()), int(launches["year"].max()) + 1)
    figure, axes = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    fired = launches[launches["missiles"] > 0]
    for ax, counted, label in ((axes[0], launches.groupby(["year", "cls"]).size(), "launch events"),
                               (axes[1], fired.groupby(["year", "cls"])["missiles"].sum(), "missiles")):
        counts = counted.unstack(fill_value=0).reindex(years, fill_value=0)
        bottom = pd.Series(0, index=counts.index)
        for cls in [c for c in CLASS_ORDER if c in counts.columns]:
            ax.bar(counts.index, counts[cls], bottom=bottom, color=COLOURS[cls], label=cls, width=0.8)
            bottom += counts[cls]
        ax.set_ylabel(f"{label} per year")
        ax.grid(axis="y", color="#eeeeee")
        ax.set_axisbelow(True)
    axes[0].legend(ncol=5, frameon=False, title="class (BM: ballistic, class not stated)", loc="upper left")
    axes[0].set_title("North Korean missile launches per year, by class (Korea dates)", loc="left")
    axes[1].set_xlabel("Source: dprk-timeline, from the CNS North Korea Missile Test Database and news reports")
    return _svg(figure)


def timeline_2022(csvs: dict[str, bytes]) -> bytes:
    """The launches of 2022 with the number of statements answering each, and the sanctions actions."""
    plt = _setup()
    launches = _columns(csvs, "launches", "launch_id", "korea_date", "missile_class")
    links = _columns(csvs, "launch_statements", "launch_id")
    sanctions = _columns(csvs, "sanctions", "date", "action", "authority_id")
    year = launches[launches["korea_date"].dt.year == 2022].copy()
    year["cls"] = year["missile_class"].astype("string").fillna("Unknown")
    answered = links.groupby("launch_id").size()
    year["statements"] = year["launch_id"].map(answered).fillna(0).astype(int)
    actions = sanctions[(sanctions["date"].dt.year == 2022)]
    figure, ax = plt.subplots(figsize=(11, 4.2))
    for cls in [c for c in CLASS_ORDER if c in set(year["cls"])]:
        rows = year[year["cls"] == cls]
        ax.scatter(rows["korea_date"], [1] * len(rows), s=30 + 25 * rows["statements"], color=COLOURS[cls],
                   alpha=0.85, label=cls, edgecolors="white", linewidths=0.5, zorder=3)
    answered = year[year["statements"] > 0]
    if len(answered) <= MAX_LABELS:  # beyond that many a year, the figures would only overlap
        for _, launch in answered.iterrows():
            ax.annotate(f"{launch['statements']}", (launch["korea_date"], 1), xytext=(0, 12),
                        textcoords="offset points", ha="center", fontsize=7, color="#333333")
    styles = {"designation": ("#4c72b0", "sanctions designation"), "amendment": ("#8c8c8c", "sanctions amendment"),
              "delisting": ("#8c8c8c", "sanctions delisting"), "proposal": ("#55a868", "proposal at the UN"),
              "proposal_blocked": ("#c44e52", "proposal blocked"), "veto": ("#c44e52", "veto at the UN")}
    # one set of lines per kind of action and authority (OFAC's reach higher), in the order of their first date
    actions = actions.sort_values("date", kind="stable").assign(
        level=lambda d: d["authority_id"].eq("us-ofac").map({True: 0.55, False: 0.35}))
    seen = set()
    for (kind, level), group in actions.groupby(["action", "level"], sort=False):
        colour, label = styles[kind]
        ax.vlines(group["date"], 0.2, level, color=colour, linewidth=1.5, label=None if label in seen else label,
                  zorder=2)
        seen.add(label)
    ax.set_ylim(0, 1.5)
    ax.set_yticks([0.45, 1], ["sanctions", "launches"])
    ax.set_xlim(pd.Timestamp("2022-01-01"), pd.Timestamp("2022-12-31"))
    ax.grid(axis="x", color="#eeeeee")
    legend = ax.legend(ncol=4, frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.12))
    for handle in legend.legend_handles:
        if hasattr(handle, "set_sizes"):
            handle.set_sizes([40])  # one marker size in the legend; sizes on the chart count statements
    ax.set_title("2022: launches (size and figure: statements answering each) and sanctions actions", loc="left")
    return _svg(figure)


CHARTS = {"charts/launches-per-year.svg": per_year, "charts/timeline-2022.svg": timeline_2022}


def render_charts(csvs: dict[str, bytes]) -> dict[str, bytes]:
    """Every chart, by path, drawn from the tables' CSV bytes."""
    return {path: draw(csvs) for path, draw in CHARTS.items()}
