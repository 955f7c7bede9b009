"""The monthly report's charts, drawn with matplotlib (imported only when a report is
made: the bot starts without it) as PNG for the PDF: each step's median and 90th
percentile against its Mutu Baku, and the requests filed per week."""

from __future__ import annotations

import io

from letters.facts import MonthlyFigures


def charts(f: MonthlyFigures) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    pictures: dict[str, bytes] = {}
    steps = [s for s in f.steps if s.count]
    figure, axes = pyplot.subplots(figsize=(7.5, 3.4), dpi=150)
    labels = [f"Langkah {s.number}" for s in steps]
    places = range(len(steps))
    axes.bar([p - 0.2 for p in places], [s.median.total_seconds() / 60 if s.median else 0
                                          for s in steps], 0.4, label="median", color="#3b6ea5")
    axes.bar([p + 0.2 for p in places], [s.p90.total_seconds() / 60 if s.p90 else 0
                                          for s in steps], 0.4, label="persentil 90",
             color="#9cb8d9")
    axes.scatter(list(places), [s.standard.total_seconds() / 60 for s in steps], marker="_",
                 s=900, color="#c0392b", linewidths=2.5, label="Mutu Baku", zorder=3)
    axes.set_xticks(list(places), labels)
    axes.set_ylabel("menit")
    axes.legend(fontsize=8, loc="upper left")
    axes.set_title("Lama tiap langkah terhadap Mutu Baku", fontsize=10)
    pictures["langkah"] = _png(figure, pyplot)
    figure, axes = pyplot.subplots(figsize=(7.5, 2.6), dpi=150)
    axes.bar([f"tgl {days}" for days, _ in f.weeks], [n for _, n in f.weeks], color="#3b6ea5")
    for index, (_, n) in enumerate(f.weeks):
        axes.annotate(str(n), (index, n), ha="center", va="bottom", fontsize=8)
    axes.set_ylabel("permohonan")
    axes.set_title("Permohonan masuk per minggu", fontsize=10)
    pictures["mingguan"] = _png(figure, pyplot)
    return pictures


def _png(figure: object, pyplot: object) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()  # type: ignore[attr-defined]
    figure.savefig(buffer, format="png")  # type: ignore[attr-defined]
    pyplot.close(figure)  # type: ignore[attr-defined]
    return buffer.getvalue()
