"""Sphinx extension: figures in guides come from recorded runs, never typed.

Reads ``examples/<slug>/evidence/evidence.json`` (written by ``nox -s
evidence``) and offers, in a guide ``guides/<slug>.md``:

* the role ``{evidence}`unsafe.writer_worst_wait_ms``` (the first PostgreSQL
  run recorded) or ``{evidence}`mariadb:unsafe.writer_worst_wait_ms``` (the
  run whose engine id starts with ``mariadb``), rendered as the number; a
  figure of another example's record is named after its slug:
  ``{evidence}`lock-reference/mariadb:int_to_bigint.large_ms```;
* the directive ``{evidence-stamp}``: where and when the figures were measured;
* the directive ``{evidence-table}``: the figures of every engine side by side;
* the directive ``{evidence-phases}``: a rolling update's requests and failures, release by release, phase by phase;

and anywhere, the directive ``{lock-reference}``: the locks each migration
operation takes on each engine, from the exact traces of ``examples/lock-reference``.
A missing figure is a build warning, so ``-W`` fails the build.
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

logger = logging.getLogger(__name__)

# The engine whose figures a guide quotes when it names none.
DEFAULT_ENGINE = "postgresql"
FIGURE_NAMES = {
    "migration_ms": "Migration took (ms)",
    "lock_modes": "Locks seen held (sampled every 2 ms)",
    "traced_lock_modes": "Locks the migration takes (traced)",
    "lock_held_ms": "Longest lock of any mode, held for (ms)",
    "write_blocking_lock_ms": "Lock that blocks writes, held for (ms)",
    "schema_change_ms": "Schema change seen running (ms)",
    "writer_worst_wait_ms": "Writer's worst wait (ms)",
    "reader_worst_wait_ms": "Reader's worst wait (ms)",
    "request_worst_wait_ms": "Worst wait of any request (ms)",
    "rows_per_second": "Rows per second",
    "lock_waits": "Backends seen waiting for a lock",
    "migration_lock_wait_ms": "The migration waited for its lock (ms)",
    "longest_lock_wait_ms": "Longest wait for a lock (ms)",
    "failed_requests": "Failed requests",
    "old_release_failures": "Failed requests of the old release",
    "new_release_failures": "Failed requests of the new release",
    "first_error": "Most common error",
    "writes_during_migration": "Writes during the migration",
    "migration_outcome": "The migration or command",
    "migration_error": "The migration's error",
}


for _kind, _name in (("reads", "Reads"), ("writes", "Writes")):
    FIGURE_NAMES.update({
        f"{_kind}.attempted": f"{_name} due during the step",
        f"{_kind}.failed": f"{_name} that failed",
        f"{_kind}.waited": f"{_name} slower than 100 ms",
        f"{_kind}.p50": f"{_name}: median latency (ms)",
        f"{_kind}.p99": f"{_name}: 99th percentile latency (ms)",
        f"{_kind}.max": f"{_name}: worst latency (ms)",
        f"{_kind}.longest_stall_ms": f"{_name}: longest stall (ms)",
        f"{_kind}_under_lock": f"{_name} completed while the lock was held",
    })
FIGURE_NAMES["rows"] = "Rows in the table"
# Going back: values the new release wrote that are still there after a step, values a reversal lost.
FIGURE_NAMES.update({
    "values_left": "Rows holding a value in the new column",
    "values_lost": "Rows whose value was lost",
})
# Backups: their time and size, and what dumpdata holds.
FIGURE_NAMES.update({
    "backup_ms": "Backup took (ms)",
    "backup_lock_modes": "Lock held by the backup",
    "restore_ms": "Restore took (ms)",
    "backup_mb": "Backup file (MB)",
    "dumpdata_ms": "dumpdata took (ms)",
    "dumpdata_mb": "dumpdata's output (MB)",
    "holds_legacy_codes": "Holds the legacy codes",
    "holds_coupons": "Holds the coupons",
    "exit_status": "rehearse exited with",
    "write_lock_ms": "Longest lock blocking writes (ms)",
    "worst_write_ms": "Worst write wait (ms)",
    "worst_read_ms": "Worst read wait (ms)",
    "failed_requests": "Requests failed",
})
# A rename by expand and contract: rows whose new column missed a write to the old one.
FIGURE_NAMES["differing_rows"] = "Rows whose new column differs from the old"
FIGURE_NAMES["table_mb"] = "Table and indexes after the step (MB)"
# A step that also locks another table (a foreign key's referenced table) records it under "referenced".
FIGURE_NAMES.update({
    "referenced.lock_modes": "Locks seen held on the referenced table (sampled)",
    "referenced.traced_lock_modes": "Locks taken on the referenced table (traced)",
    "referenced.lock_held_ms": "Held on the referenced table for (ms)",
    "referenced.writes_worst_wait_ms": "Worst wait of a write to the referenced table (ms)",
})

# A migration measured on the real site (lab.site_deploy): what its visitors saw, by group of pages.
for _group, _name in (("busy", "Pages on the migrated table"), ("untouched", "Pages on another table")):
    FIGURE_NAMES.update({
        f"{_group}.requests": f"{_name}: requests",
        f"{_group}.failed": f"{_name}: failed",
        f"{_group}.timeout": f"{_name}: timed out",
        f"{_group}.5xx": f"{_name}: 5xx answers",
        f"{_group}.p50": f"{_name}: median (ms)",
        f"{_group}.p99": f"{_name}: 99th percentile (ms)",
        f"{_group}.max": f"{_name}: worst (ms)",
    })
FIGURE_NAMES.update({
    "rate": "Visitors' requests per second",
    "capacity": "The site's capacity (requests/s)",
    "in_flight_max": "Requests in flight at the worst moment",
    # One session per worker (CONN_MAX_AGE): how many of the site's workers a lock held.
    "waiting_sessions": "Site's sessions seen waiting for a lock",
    "failing_after_ms": "Requests still failed after the migration, for (ms)",
    "recovery_ms": "Until the workers answered at once again (ms)",
    "window_s": "Visitors measured over (s)",
})

# Two migrate commands started together (guide deploy-migrations-first).
FIGURE_NAMES.update({
    "exit_statuses": "Exit statuses of the two runs",
    "recorded": "Times the migration is recorded as applied",
})

# A deploy of several steps on the live site, with the old release's background worker (lab.site_deploy.LiveSite).
FIGURE_NAMES.update({
    "copy_exit_statuses": "The copy's exit status, first run then second",
    "first_copy_said": "The first copy ended with",
    "old_worker_writes": "Writes of the old release's background worker",
    "fill_exit_statuses": "The fill's exit status, run by run",
    "missing_weights": "Products without a weight at the end",
    "worker_failures": "Failed writes of the background workers",
    "visitor_requests": "Visitors' requests",
    "visitor_failures": "Visitors' requests that failed",
    "visitor_worst_ms": "Visitors' worst wait (ms)",
})


# Figures a run records only where the engine's lock view can see them; elsewhere (SQLite) its lock_waits is None.
NEEDS_LOCK_VIEW = {"waiting_sessions"}


def figure(run: dict, label: str, name: str):
    """The figure ``name`` (dotted for nested figures: ``writes.max``) of step ``label`` in one engine's run."""
    value = run[label]
    if name in NEEDS_LOCK_VIEW and name not in value and value.get("lock_waits", 0) is None:
        return None  # shown as "not observable"
    for part in name.split("."):
        value = value[part]
    return value


def short_engine(label: str) -> str:
    """An engine's label short enough for a table column: ``PostgreSQL 18.6`` -> ``PG 18.6``."""
    return label.replace("PostgreSQL", "PG")


def examples_dir(srcdir: Path) -> Path:
    return Path(srcdir) / "examples"


def show(value, name: str = "") -> str:
    """A figure (named ``name``) as a guide prints it."""
    if value is None:
        return "not observable"
    if isinstance(value, list):
        # An empty list of lock modes: a trace took none; the 2 ms sampler saw none, which does not mean none was taken.
        return ", ".join(value) or ("none" if name.endswith("traced_lock_modes") else "not seen (sampled)")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        # Latencies are measured to a fraction of a millisecond; past 10 ms the fraction is noise.
        return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.1f}"
    return str(value)


class EvidenceMixin:
    def record(self, slug: str | None = None) -> dict | None:
        """The evidence of the page's own example, or of the example ``slug``."""
        docname = self.env.docname
        if slug is None:
            slug = docname.removeprefix("guides/")
            if docname == slug:
                return None
        path = examples_dir(self.env.srcdir) / slug / "evidence" / "evidence.json"
        if not path.is_file():
            return None
        self.env.note_dependency(str(path))
        return json.loads(path.read_text(encoding="utf-8"))


class EvidenceRole(EvidenceMixin, SphinxRole):
    def run(self):
        example, _, text = self.text.rpartition("/")
        record = self.record(example or None)
        engine, _, key = text.rpartition(":")
        engine = engine or DEFAULT_ENGINE
        label, _, name = key.partition(".")
        runs = [r for r in (record or {}).get("runs", []) if r["engine"].startswith(engine)]
        try:
            value = figure(runs[0], label, name) if name else runs[0][label]
        except (IndexError, KeyError, TypeError):
            logger.warning("no recorded figure %r for %s (run: nox -s evidence)", self.text, self.env.docname,
                           location=self.get_location())
            return [nodes.literal(self.text, self.text)], []
        shown = show(value, name)
        return [nodes.inline(shown, shown, classes=["evidence"])], []


class EvidenceDirective(EvidenceMixin, SphinxDirective):
    """Base of the evidence directives: Markdown they generate is parsed in place."""

    def parse_markdown(self, text: str):
        container = nodes.container(classes=["evidence"])
        self.state.nested_parse(StringList(text.splitlines()), self.content_offset, container)
        return [container]


class EvidenceStampDirective(EvidenceDirective):
    def run(self):
        record = self.record()
        if record is None:
            logger.warning("no evidence recorded for %s (run: nox -s evidence)", self.env.docname,
                           location=self.get_location())
            return []
        engines = ", ".join(f"{run['label']} ({run['origin']})" for run in record["runs"])
        # Each step records the rows it ran on; some run on fewer than the run's default.
        rows = sorted({step.get("rows", run["rows"]) for run in record["runs"]
                       for step in run.values() if isinstance(step, dict)} or {run["rows"] for run in record["runs"]})
        text = (f"Measured by `nox -s evidence` on {record['generated']}: {engines}; "
                f"{', '.join(f'{r:,}' for r in rows)} rows; SQL as Django {record.get('django', '(unknown)')} "
                f"writes it; example fingerprint `{record['fingerprint'][:12]}`. {NARROW_ROWS}")
        return self.parse_markdown(text + "\n\n" + self.other_djangos())

    def other_djangos(self) -> str:
        """What each other Django series recorded writes differently from the SQL the guide shows."""
        slug = self.env.docname.removeprefix("guides/")
        base = examples_dir(self.env.srcdir) / slug / "evidence" / "sql"
        parts = []
        for other in sorted(base.glob("django-*")):
            series = other.name.removeprefix("django-")
            changed = []
            for path in sorted(other.glob("*.sql")):
                self.env.note_dependency(str(path))
                shown = base / path.name
                if shown.is_file() and shown.read_text() != path.read_text():
                    diff = difflib.unified_diff(shown.read_text().splitlines(), path.read_text().splitlines(),
                                                f"shown/{path.name}", f"django-{series}/{path.name}", lineterm="")
                    changed.append("```diff\n" + "\n".join(diff) + "\n```")
            if changed:
                parts.append(f"Django {series} writes other SQL for {len(changed)} of the migrations shown:\n\n"
                             + "\n\n".join(changed))
            else:
                parts.append(f"Django {series} writes the same SQL for every migration shown (checked by its tests).")
        return "\n\n".join(parts)


class EvidenceTableDirective(EvidenceDirective):
    """One small table per figure: the steps as rows, the engines as columns, one figure per cell.
    ``:figures:`` names the figures (default: lock modes, worst write), ``:runs:`` the steps (default: all)."""

    option_spec = {"figures": directives.unchanged, "runs": directives.unchanged}

    def run(self):
        record = self.record()
        if record is None:
            logger.warning("no evidence recorded for %s", self.env.docname, location=self.get_location())
            return []
        operations = record["operations"]
        if "runs" in self.options:
            labels = [label.strip() for label in self.options["runs"].split(",")]
            operations = {label: operations.get(label, label) for label in labels}
        wanted = [n.strip() for n in self.options.get("figures", "lock_modes, writes.max").split(",")]
        unknown = [name for name in wanted if name not in FIGURE_NAMES]
        if unknown:
            logger.warning("evidence-table: unknown figures %s; known: %s", unknown, ", ".join(FIGURE_NAMES),
                           location=self.get_location())
            return []
        # A step some engines do not run (a PostgreSQL-only statement, say) leaves those engines out.
        runs = [run for run in record["runs"] if all(label in run for label in operations)]
        if not runs:
            logger.warning("evidence-table: no engine ran all of %s", ", ".join(operations),
                           location=self.get_location())
            return []
        blocks = []
        try:
            for name in wanted:
                lines = [f"**{FIGURE_NAMES[name]}**", "",
                         "| Step | " + " | ".join(short_engine(run["label"]) for run in runs) + " |",
                         "|---|" + "---:|" * len(runs)]
                for label, operation in operations.items():
                    rows = {run[label].get("rows", run["rows"]) for run in runs}
                    size = f" ({', '.join(f'{r:,}' for r in sorted(rows))} rows)"
                    cells = [show(figure(run, label, name), name) for run in runs]
                    lines.append(f"| {operation}{size} | " + " | ".join(cells) + " |")
                blocks.append("\n".join(lines))
        except (KeyError, TypeError) as missing:
            logger.warning("the evidence of %s lacks %s: run nox -s evidence", self.env.docname, missing,
                           location=self.get_location())
            return []
        return self.parse_markdown("\n\n".join(blocks))


class LockReferenceDirective(EvidenceDirective):
    """The locks each migration operation takes, from the exact traces of the ``lock-reference`` example: one table
    per engine, in tabs synchronised with the guides' engine tabs. A missing or stale record is a warning."""

    HEADER = ("| Operation | Lock | Reads wait | Writes wait | Time at {small} / {large} rows | Guide |\n"
              "|---|---|---|---|---|---|")

    def run(self):
        path = examples_dir(self.env.srcdir) / LOCK_REFERENCE / "evidence" / "evidence.json"
        for source in _sources(examples_dir(self.env.srcdir) / LOCK_REFERENCE):
            self.env.note_dependency(str(source))
        problem = _staleness(self.env.srcdir, LOCK_REFERENCE)
        if problem:
            logger.warning("lock-reference: %s", problem, location=self.get_location())
        if not path.is_file():
            return []
        record = json.loads(path.read_text(encoding="utf-8"))
        try:
            runs = sorted(record["runs"], key=_engine_order)
            newest = max((int(run["label"].split()[-1].split(".")[0]) for run in runs
                          if run["engine"].startswith("postgresql")), default=None)
            tabs = [self.tab(run, record["operations"], newest) for run in runs]
        except (KeyError, TypeError, ValueError) as missing:
            logger.warning("%s lacks %s: run nox -s evidence -- %s", path, missing, LOCK_REFERENCE,
                           location=self.get_location())
            return []
        engines = ", ".join(f"{run['label']} ({run['origin']})" for run in runs)
        stamp = (f"Traced by `nox -s evidence` on {record['generated']}: {engines}; SQL as Django "
                 f"{record.get('django', '(unknown)')} writes it; example fingerprint `{record['fingerprint'][:12]}`.")
        return self.parse_markdown("::::{tab-set}\n:sync-group: engine\n\n" + "\n\n".join(tabs) + "\n::::\n\n" + stamp)

    def tab(self, run: dict, operations: dict, newest: int | None) -> str:
        """One engine's tab: how its locks were seen, its table, and what its cells leave unsaid."""
        vendor, _, version = run["engine"].partition("-")
        major = version.split(".")[0]
        name, sync = {
            "postgresql": (f"PostgreSQL {major}", "postgresql" if major == str(newest) else f"postgresql-{major}"),
            "mariadb": ("MariaDB", "mysql"),
            "mysql": ("MySQL", "mysql"),
            "sqlite": ("SQLite", "sqlite"),
        }[vendor]
        first = run[next(iter(operations))]
        small, large = f"{first['small_rows']:,}", f"{first['large_rows']:,}"
        lines = [f":::{{tab-item}} {name}", f":sync: {sync}", "",
                 f"{run['label']} ({run['origin']}); {small} and {large} rows. {_how_seen(run, operations)}", "",
                 self.HEADER.format(small=small, large=large)]
        reasons = []
        for label, operation in operations.items():
            figures = run[label]
            if figures["observed"] == "not observable":
                reasons.extend(method for method in figures["methods"] if method not in reasons)
            time = f"{_ms(figures['small_ms'])}\u00a0/\u00a0{_ms(figures['large_ms'])}\u00a0ms"  # on one line
            if figures["grows"]:  # what a reader extrapolates from: the time each million rows added
                time += f", {_ms(_per_million_rows(figures))}\u00a0ms per 10⁶ rows"
            lines.append(f"| {operation} | {_lock_cell(figures)} | {figures['reads_wait']} | "
                         f"{figures['writes_wait']} | {time} | {_guide_link(figures['guide'])} |")
        if vendor == "mariadb":
            lines += ["", "Metadata lock modes without their `MDL_` prefix."]
        lines += ["", *(f"{reason[0].upper()}{reason[1:]}." for reason in reasons), ":::"]
        return "\n".join(lines)


LOCK_REFERENCE = "lock-reference"
# What every figure was measured on, and what it leaves out.
NARROW_ROWS = ("The example's rows are narrow (a few numbers and short strings) and the tables fit in memory: a "
               "table with wider rows, or read from disk, takes longer for the same number of rows.")


def _per_million_rows(figures: dict) -> float:
    """How much longer the operation took for each million rows more, between the two sizes traced."""
    rows = figures["large_rows"] - figures["small_rows"]
    return (figures["large_ms"] - figures["small_ms"]) / rows * 1_000_000
# Tabs in this order: PostgreSQL, newest first, then MariaDB (or MySQL), then SQLite.
_VENDOR_ORDER = {"postgresql": 0, "mariadb": 1, "mysql": 1, "sqlite": 2}


def _engine_order(run: dict) -> tuple:
    vendor, _, version = run["engine"].partition("-")
    return _VENDOR_ORDER.get(vendor, 3), [-int(part) for part in version.split(".") if part.isdigit()]


# How a row's locks were seen, as a tab says it.
HOW_SEEN = {
    "exact": "read exactly, after each statement",
    "observed while running": "seen while running",
    "no lock view": "SQLite shows no lock modes: a schema change locks the whole database file",
    "not observable": "not observable",
    "no SQL": "no SQL on this engine",
}


def _how_seen(run: dict, operations: dict) -> str:
    """How the locks were seen, in one sentence: as most rows were, then the rows seen otherwise."""
    by_kind: dict[str, list[str]] = {}
    for label, operation in operations.items():
        by_kind.setdefault(run[label]["observed"], []).append(operation)
    usual = max(by_kind, key=lambda kind: len(by_kind[kind]))
    others = [f"{', '.join(rows)}: {HOW_SEEN.get(kind, kind)}" for kind, rows in by_kind.items() if kind != usual]
    return "; ".join([f"Locks {HOW_SEEN.get(usual, usual)}", *others]) + "."


def _lock_cell(figures: dict) -> str:
    """The modes on the operation's table, strongest first, then those on other tables; in words where the engine
    shows no lock modes or the trace saw none."""
    if figures["observed"] == "no lock view":
        return "database file, for writing"
    if figures["observed"] == "not observable":
        return "not observable"
    if figures["observed"] == "no SQL":
        return "none: no SQL on this engine"

    def modes(found: list[str]) -> str:
        # MariaDB's names may break after an underscore, so that the column can be narrow.
        return ", ".join(mode.removeprefix("MDL_").replace("_", "_<wbr>") for mode in found)

    cell = modes(figures["lock_modes"]) or ("no table lock" if figures["observed"] == "exact" else "none seen")
    for table, found in figures["other_tables"].items():
        waits = figures.get("other_waits", {}).get(table, {})
        blocked = [f"{kind} wait {when}" for kind, when in waits.items() if when != "no"]
        cell += f"<br>on `{table}`: {modes(found)}" + (f" ({'; '.join(blocked)})" if blocked else "")
    return cell


# Short names for the guides' links, so that the column stays narrow; another guide is linked by its title.
GUIDE_LINK_TEXT = {
    "add-a-column-and-fill-it": "Add a column",
    "add-index-concurrently": "Add an index",
    "remove-a-field": "Remove a field",
}


def _guide_link(slug: str | None) -> str:
    if not slug:
        return "—"
    text = GUIDE_LINK_TEXT.get(slug)
    return f"{{doc}}`{text} </guides/{slug}>`" if text else f"{{doc}}`/guides/{slug}`"


def _ms(value: float) -> str:
    """A time short enough for a cell: one decimal under 10 ms, whole milliseconds above."""
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def _sources(example: Path) -> list[Path]:
    """The files an example's evidence is made from, and the record: a page built from it depends on them."""
    return [path for path in sorted(example.rglob("*")) if path.is_file() and path.suffix != ".pyc"
            and not {"tests", "__pycache__"} & set(path.relative_to(example).parts)]


def _staleness(srcdir, slug: str) -> str | None:
    """Why the example's evidence cannot be trusted (lab.evidence's verdict), or None."""
    root = str(Path(srcdir).resolve())
    if root not in sys.path:
        sys.path.append(root)  # the lab lives at the root of the sources
    from lab import evidence

    return evidence.staleness(slug)


class EvidencePhasesDirective(EvidenceDirective):
    """A rolling update phase by phase (``:run: LABEL``): each release's requests and failures in each phase, on
    one engine (``:engine:``, default PostgreSQL)."""

    option_spec = {"run": directives.unchanged_required, "engine": directives.unchanged}

    def run(self):
        record = self.record()
        label, engine = self.options.get("run", ""), self.options.get("engine", DEFAULT_ENGINE)
        try:
            run = next(run for run in record["runs"] if run["engine"].startswith(engine))
            step = run[label]
            phases, old, new = step["phases"], step["old_release"], step["new_release"]
        except (KeyError, TypeError, StopIteration) as missing:
            logger.warning("no recorded phases for run %r on %s of %s (%s): run nox -s evidence", label, engine,
                           self.env.docname, missing, location=self.get_location())
            return []
        lines = [f"**{record['operations'].get(label, label)}: {step['instances']} instances, "
                 f"{short_engine(run['label'])}, {step.get('rows', run['rows']):,} rows**", "",
                 f"| Phase | ms | {old} requests | failed | {new} requests | failed |",
                 "|---|---:|---:|---:|---:|---:|"]
        for row in phases:
            cells = [row["ms"], row["old_requests"], row["old_failed"], row["new_requests"], row["new_failed"]]
            lines.append(f"| {row['phase']} | " + " | ".join(show(cell) for cell in cells) + " |")
        return self.parse_markdown("\n".join(lines))


class EvidenceErrorsDirective(EvidenceDirective):
    """The errors requests met during one deploy (``:run: LABEL``), engine by engine, as the engine said them."""

    option_spec = {"run": directives.unchanged_required}

    def run(self):
        record = self.record()
        label = self.options.get("run", "")
        try:
            runs = [(run["label"], run[label]["errors"]) for run in record["runs"]]
        except (KeyError, TypeError) as missing:
            logger.warning("no recorded errors for run %r of %s (%s): run nox -s evidence", label,
                           self.env.docname, missing, location=self.get_location())
            return []
        items = []
        for engine, errors in runs:
            item = nodes.list_item()
            paragraph = nodes.paragraph()
            paragraph += nodes.strong(engine, engine)
            paragraph += nodes.Text(": " if errors else ": no failed request")
            item += paragraph
            if errors:
                # Inline code, not a block: a long error text wraps instead of scrolling sideways.
                inner = nodes.bullet_list()
                for count, error in errors:
                    line = nodes.paragraph()
                    line += nodes.Text(f"{count:,}× ")
                    line += nodes.literal(error, error, classes=["evidence-error"])
                    inner += nodes.list_item("", line)
                item += inner
            items.append(item)
        return [nodes.bullet_list("", *items)]


def setup(app):
    """Register the role and directives."""
    app.add_role("evidence", EvidenceRole())
    app.add_directive("evidence-stamp", EvidenceStampDirective)
    app.add_directive("evidence-table", EvidenceTableDirective)
    app.add_directive("evidence-errors", EvidenceErrorsDirective)
    app.add_directive("evidence-phases", EvidencePhasesDirective)
    app.add_directive("lock-reference", LockReferenceDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
