"""Charts for the README, drawn from the rendered tables by the build (so the drift check keeps them
current), as SVG written the same way every time: fixed hash salt, no date, text kept as text."""
from __future__ import annotations

import io

import pandas as pd

from ..load import frame
from ..table_schemas import table_schema
from .coverage import long_date, table_spans

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


def footer(csvs: dict[str, bytes], what: str) -> str:
    """The source and "data through" line under a chart."""
    spans = table_spans(csvs)
    through = [f"{name} to {long_date(spans[name][1])}" for name in ("launches", "sanctions", "statements") if name in spans]
    return f"Source: dprk-timeline ({what}).\nData through: {', '.join(through)}."


def per_year(csvs: dict[str, bytes]) -> bytes:
    """Launch events and missiles per year, stacked by missile class."""
    launches = _columns(csvs, "launches", "launch_id", "korea_date", "missile_class")
    fired = _columns(csvs, "firings", "launch_id").groupby("launch_id").size()
    return draw_per_year(launches.assign(missiles=launches["launch_id"].map(fired).fillna(0).astype("int64")),
                         footer(csvs, "CNS North Korea Missile Test Database, CSIS, official statements"))


def draw_per_year(launches: pd.DataFrame, source: str = "") -> bytes:
    """The chart of launches (korea_date, missile_class and missiles: the rows of firings of each); the last
    year, which the data do not cover to its end, is hatched and labelled."""
    plt = _setup()
    launches = launches.dropna(subset=["korea_date"]).assign(
        year=lambda d: d["korea_date"].dt.year, cls=lambda d: d["missile_class"].astype("string").fillna("Unknown"))
    years = range(int(launches["year"].min()), int(launches["year"].max()) + 1)
    last = launches["korea_date"].max()
    partial = last.year if (last.month, last.day) != (12, 31) else None
    figure, axes = plt.subplots(2, 1, figsize=(10, 6.8), sharex=True)
    fired = launches[launches["missiles"] > 0]
    for ax, counted, label in ((axes[0], launches.groupby(["year", "cls"]).size(), "launch events"),
                               (axes[1], fired.groupby(["year", "cls"])["missiles"].sum(), "missiles")):
        counts = counted.unstack(fill_value=0).reindex(years, fill_value=0)
        bottom = pd.Series(0, index=counts.index)
        for cls in [c for c in CLASS_ORDER if c in counts.columns]:
            ax.bar(counts.index, counts[cls], bottom=bottom, color=COLOURS[cls], label=cls, width=0.8,
                   hatch=["//" if year == partial else "" for year in counts.index], edgecolor="white", linewidth=0)
            bottom += counts[cls]
        if partial:
            ax.annotate(f"to {last.day} {last:%b}", (partial, bottom[partial]), xytext=(0, 3),
                        textcoords="offset points", ha="center", fontsize=7, color="#333333")
        ax.set_ylabel(f"{label} per year")
        ax.grid(axis="y", color="#eeeeee")
        ax.set_axisbelow(True)
    axes[0].legend(ncol=5, frameon=False, title="class (BM: ballistic, class not stated)", loc="upper left")
    axes[0].set_title("North Korean missile launches per year, by class (Korea dates)"
                      + (f"; {partial} is partial (hatched)" if partial else ""), loc="left")
    axes[1].set_xlabel(source, fontsize=7, loc="left")
    return _svg(figure)


ROWS = {"launches": 2, "UN Security Council": 1, "United States": 0}
STYLES = {"designation": ("#4c72b0", "designation"), "amendment": ("#8c8c8c", "amendment or delisting"),
          "delisting": ("#8c8c8c", "amendment or delisting"), "proposal": ("#55a868", "proposal at the UN"),
          "proposal_blocked": ("#c44e52", "proposal blocked or vetoed"), "veto": ("#c44e52", "proposal blocked or vetoed")}


def timeline_2022(csvs: dict[str, bytes]) -> bytes:
    """The launches of 2022 with the number of statements answering each, and every sanctions action of the
    year, the UN's and the United States' apart (one without an exact day at the latest day it can be)."""
    plt = _setup()
    launches = _columns(csvs, "launches", "launch_id", "korea_date", "missile_class")
    links = _columns(csvs, "launch_statements", "launch_id")
    sanctions = _columns(csvs, "sanctions", "date_latest", "date_precision", "action", "authority_id")
    year = launches[launches["korea_date"].dt.year == 2022].copy()
    year["cls"] = year["missile_class"].astype("string").fillna("Unknown")
    year["statements"] = year["launch_id"].map(links.groupby("launch_id").size()).fillna(0).astype(int)
    actions = sanctions[sanctions["date_latest"].dt.year == 2022].assign(
        row=lambda d: d["authority_id"].astype("string").str.startswith("us-").map(
            {True: ROWS["United States"], False: ROWS["UN Security Council"]}),
        exact=lambda d: d["date_precision"].astype("string") == "day")
    figure, ax = plt.subplots(figsize=(11, 4.6))
    for cls in [c for c in CLASS_ORDER if c in set(year["cls"])]:
        rows = year[year["cls"] == cls]
        ax.scatter(rows["korea_date"], [ROWS["launches"]] * len(rows), s=30 + 25 * rows["statements"],
                   color=COLOURS[cls], alpha=0.85, label=cls, edgecolors="white", linewidths=0.5, zorder=3)
    previous = None
    for _, launch in year[year["statements"] > 0].sort_values("korea_date").iterrows():
        near = previous is not None and (launch["korea_date"] - previous[0]).days < 12
        lift = 22 if near and previous[1] == 12 else 12  # alternate heights where labels would touch
        ax.annotate(f"{launch['statements']}", (launch["korea_date"], ROWS["launches"]), xytext=(0, lift),
                    textcoords="offset points", ha="center", fontsize=7, color="#333333")
        previous = (launch["korea_date"], lift)
    seen = set()
    for (kind, exact), group in actions.groupby(["action", "exact"], sort=False):
        colour, label = STYLES[kind]
        label = label if exact else f"{label} (no exact day: latest possible)"
        ax.vlines(group["date_latest"], group["row"] - 0.3, group["row"] + 0.3, color=colour, linewidth=1.6,
                  linestyles="solid" if exact else "dotted", label=None if label in seen else label, zorder=2)
        seen.add(label)
    ax.set_ylim(-0.6, 2.7)
    ax.set_yticks(list(ROWS.values()), list(ROWS))
    ax.set_xlim(pd.Timestamp("2022-01-01"), pd.Timestamp("2022-12-31"))
    ax.grid(axis="x", color="#eeeeee")
    legend = ax.legend(ncol=4, frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.08))
    for handle in legend.legend_handles:
        if hasattr(handle, "set_sizes"):
            handle.set_sizes([40])  # one marker size in the legend; sizes on the chart count statements
    ax.set_title("2022: launches (size and figure: statements answering each) and sanctions actions", loc="left")
    figure.text(0, -0.36, footer(csvs, "launches from CNS and official statements; UN list, OFAC SDN list and "
                                       "news reports"), fontsize=7, ha="left", transform=ax.transAxes)
    return _svg(figure)


CHARTS = {"charts/launches-per-year.svg": per_year, "charts/timeline-2022.svg": timeline_2022}


def render_charts(csvs: dict[str, bytes]) -> dict[str, bytes]:
    """Every chart, by path, drawn from the tables' CSV bytes."""
    return {path: draw(csvs) for path, draw in CHARTS.items()}
