"""Pictures of a run: each request's latency over time, the migration's span marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .deploy import DeployReport  # noqa: E402

# Same input, same file: no dates or random ids in the SVG.
matplotlib.rcParams["svg.hashsalt"] = "handbook"
matplotlib.rcParams["svg.fonttype"] = "none"


def _panels(panels: list[tuple[str, object]], draw, *, title: str, ylabel: str, legend_size: int, path: Path) -> None:
    """Side-by-side panels, one per run: ``draw(axis, report, start)`` plots a run's requests against the seconds
    since its migration ``start``ed; the migration's span is shaded, and the figure saved as SVG at ``path``."""
    figure, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.4), sharey=True, squeeze=False)
    for axis, (name, report) in zip(axes[0], panels, strict=True):
        draw(axis, report, report.migration.started)
        axis.axvspan(0, report.migration.seconds, color="#fdae6b", alpha=0.35, label="migration running")
        axis.set_title(name, fontsize=10)
        axis.set_xlabel("seconds since the migration started")
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    axes[0][0].legend(loc="upper left", fontsize=legend_size)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="svg", metadata={"Date": None})
    plt.close(figure)


def timeline(panels: list[tuple[str, DeployReport]], *, title: str, path: Path) -> None:
    """Side-by-side panels, one per deploy: the old release's reads and writes, failed requests; migration shaded.
    A rolling update also shows the new release's requests, and a dotted line where each instance was replaced."""
    def draw(axis, report: DeployReport, start: float) -> None:
        # Each request at its scheduled time: a stall shows as a column of late requests, not as a gap.
        for kind, color in (("write", "#1f77b4"), ("read", "#2ca02c")):
            done = [s for s in report.old.of(kind) if not s.error]
            axis.scatter([s.scheduled - start for s in done], [s.ms for s in done], s=5, color=color, alpha=0.7,
                         label=f"{report.old.release} {kind}s")
        rolling = getattr(report, "phases", None)  # a rolling update: the new release's instances serve too
        if rolling:
            done = [s for s in report.new.samples if not s.error]
            axis.scatter([s.scheduled - start for s in done], [s.ms for s in done], s=5, color="#9467bd",
                         alpha=0.5, label=f"{report.new.release} requests")
            for phase in rolling:
                if phase.name.startswith("replacing"):
                    axis.axvline(phase.start - start, color="#7f7f7f", linewidth=0.6, linestyle=":")
        failed = [s for s in report.old.samples + report.new.samples if s.error]
        if failed:
            axis.scatter([s.scheduled - start for s in failed], [s.ms for s in failed], s=14, marker="x",
                         color="#d62728", label="failed requests (either release)")

    _panels(panels, draw, title=title, ylabel="latency from scheduled start (ms)", legend_size=8, path=path)


def site_timeline(panels: list[tuple[str, object]], *, title: str, path: Path) -> None:
    """Side-by-side panels, one per migration run on the real site (:class:`~lab.site_deploy.SiteReport`): every
    visitor's request at its arrival, by group of pages, failures marked; the timeouts drawn; migration shaded."""
    def draw(axis, report, start: float) -> None:
        for group, color, label in (("busy", "#1f77b4", "pages on the migrated table"),
                                    ("untouched", "#2ca02c", "pages on another table")):
            done = [r for r in report.traffic.of(group) if not r.failure]
            axis.scatter([r.scheduled - start for r in done], [r.ms for r in done], s=4, color=color, alpha=0.5,
                         label=label)
        failed = [r for r in report.traffic.requests if r.failure]
        if failed:
            axis.scatter([r.scheduled - start for r in failed], [r.ms for r in failed], s=10, marker="x",
                         color="#d62728", linewidths=0.6, label="failed (timeout or 5xx)")
        axis.axhline(report.shape.upstream_timeout * 1000, color="#7f7f7f", linewidth=0.8, linestyle="--")
        axis.axhline(report.traffic.load.timeout * 1000, color="#7f7f7f", linewidth=0.8, linestyle=":")

    _panels(panels, draw, title=title, ylabel="wait from arrival (ms); -- nginx, ·· visitor gives up", legend_size=7,
            path=path)
