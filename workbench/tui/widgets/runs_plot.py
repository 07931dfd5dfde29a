"""Plots across runs of one experiment (textual-plotext)."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from workbench.report import primary_metric
from workbench.results import RunResult


class RunsPlot(PlotextPlot):
    """One measure across runs, oldest first; x is the run's position."""

    def __init__(self, results: list[RunResult], measure: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.results = results
        self.measure = measure

    def values(self) -> list[tuple[float, ...]]:
        """(float, quantized, zk) metric, or (prove seconds,) per run."""
        out: list[tuple[float, ...]] = []
        for r in self.results:
            if self.measure == "metric":
                m = primary_metric(r)
                metrics = (r.metrics.float_model, r.metrics.quantized, r.metrics.zk)
                out.append(tuple(float(d.get(m, float("nan"))) for d in metrics))
            else:
                out.append((float(r.timings.prove_mean or 0.0),))
        return out

    def on_mount(self) -> None:
        plt = self.plt
        xs = list(range(1, len(self.results) + 1))
        vals = self.values()
        if self.measure == "metric":
            m = primary_metric(self.results[-1]) if self.results else "metric"
            plt.title(f"{m} by run")
            for i, (label, marker) in enumerate((("float", "dot"), ("quantized", "dot"), ("ZK", "braille"))):
                plt.plot(xs, [v[i] for v in vals], label=label, marker=marker)
        else:
            plt.title("prove s by run")
            plt.bar(xs, [v[0] for v in vals], width=0.4)
        plt.xticks(xs, [str(x) for x in xs])
        plt.xlabel("run (oldest = 1)")
