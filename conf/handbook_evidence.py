"""Sphinx extension: figures in guides come from recorded runs, never typed.

Reads ``examples/<slug>/evidence/evidence.json`` (written by ``nox -s
evidence``) and offers, in a guide ``guides/<slug>.md``:

* the role ``{evidence}`unsafe.writer_worst_wait_ms``` (the first PostgreSQL
  run recorded) or ``{evidence}`mariadb:unsafe.writer_worst_wait_ms``` (the
  run whose engine id starts with ``mariadb``), rendered as the number;
* the directive ``{evidence-stamp}``: where and when the figures were measured;
* the directive ``{evidence-table}``: the figures of every engine side by side;

and anywhere, the directive ``{lock-reference}``: every operation the guides
cover, with the locks observed on each engine and version.
A missing figure is a build warning, so ``-W`` fails the build.
"""

from __future__ import annotations

import json
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
    "lock_modes": "Lock held by the migration",
    "lock_held_ms": "Lock held for (ms)",
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
FIGURE_NAMES["traced_modes"] = "Lock modes on the table (exact trace)"


def figure(run: dict, label: str, name: str):
    """The figure ``name`` (dotted for nested figures: ``writes.max``) of step ``label`` in one engine's run."""
    value = run[label]
    for part in name.split("."):
        value = value[part]
    return value


def short_engine(label: str) -> str:
    """An engine's label short enough for a table column: ``PostgreSQL 18.6`` -> ``PG 18.6``."""
    return label.replace("PostgreSQL", "PG")


def examples_dir(srcdir: Path) -> Path:
    return Path(srcdir) / "examples"


def load_evidence(srcdir: Path) -> dict[str, dict]:
    """Every example's evidence record, by slug."""
    records = {}
    for path in sorted(examples_dir(srcdir).glob("*/evidence/evidence.json")):
        records[path.parent.parent.name] = json.loads(path.read_text(encoding="utf-8"))
    return records


def show(value) -> str:
    """A figure as a guide prints it."""
    if value is None:
        return "not observable"
    if isinstance(value, list):
        return ", ".join(value) or "none"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class EvidenceMixin:
    def record(self) -> dict | None:
        docname = self.env.docname
        slug = docname.removeprefix("guides/")
        path = examples_dir(self.env.srcdir) / slug / "evidence" / "evidence.json"
        if docname == slug or not path.is_file():
            return None
        self.env.note_dependency(str(path))
        return json.loads(path.read_text(encoding="utf-8"))


class EvidenceRole(EvidenceMixin, SphinxRole):
    def run(self):
        record = self.record()
        engine, _, key = self.text.rpartition(":")
        engine = engine or DEFAULT_ENGINE
        label, _, name = key.partition(".")
        runs = [r for r in (record or {}).get("runs", []) if r["engine"].startswith(engine)]
        try:
            value = figure(runs[0], label, name) if name else runs[0][label]
        except (IndexError, KeyError, TypeError):
            logger.warning("no recorded figure %r for %s (run: nox -s evidence)", self.text, self.env.docname,
                           location=self.get_location())
            return [nodes.literal(self.text, self.text)], []
        return [nodes.inline(show(value), show(value), classes=["evidence"])], []


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
        rows = sorted({run["rows"] for run in record["runs"]})
        text = (f"Measured by `nox -s evidence` on {record['generated']}: {engines}; "
                f"{', '.join(f'{r:,}' for r in rows)} rows; SQL as Django {record.get('django', '(unknown)')} "
                f"writes it; example fingerprint `{record['fingerprint'][:12]}`.")
        return self.parse_markdown(text)


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
        runs = record["runs"]
        blocks = []
        try:
            for name in wanted:
                lines = [f"**{FIGURE_NAMES[name]}**", "",
                         "| Step | " + " | ".join(short_engine(run["label"]) for run in runs) + " |",
                         "|---|" + "---:|" * len(runs)]
                for label, operation in operations.items():
                    rows = {run[label].get("rows", run["rows"]) for run in runs}
                    size = f" ({', '.join(f'{r:,}' for r in sorted(rows))} rows)"
                    cells = [show(figure(run, label, name)) for run in runs]
                    lines.append(f"| {operation}{size} | " + " | ".join(cells) + " |")
                blocks.append("\n".join(lines))
        except (KeyError, TypeError) as missing:
            logger.warning("the evidence of %s lacks %s: run nox -s evidence", self.env.docname, missing,
                           location=self.get_location())
            return []
        return self.parse_markdown("\n\n".join(blocks))


class LockReferenceDirective(EvidenceDirective):
    def run(self):
        records = load_evidence(self.env.srcdir)
        lines = [
            "| Operation | Engine | Lock held by the migration | Held for (ms) | Requests that waited for it "
            "(longest, ms) | Writer's worst wait (ms) | Rows | Guide |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for slug, record in records.items():
            path = examples_dir(self.env.srcdir) / slug / "evidence" / "evidence.json"
            self.env.note_dependency(str(path))
            try:
                steps = record.get("migration_steps", list(record["operations"]))
                for label, operation in record["operations"].items():
                    if label not in steps:
                        continue
                    for run in record["runs"]:
                        figures = run[label]
                        lines.append(
                            f"| `{operation}` | {run['label']} | {show(figures['lock_modes'])} | "
                            f"{show(figures['lock_held_ms'])} | {_waits(figures)} | "
                            f"{show(figures['writer_worst_wait_ms'])} | {run['rows']:,} | "
                            f"{{doc}}`{slug} </guides/{slug}>` |"
                        )
            except (KeyError, TypeError) as missing:
                logger.warning("%s lacks %s: run nox -s evidence -- %s", path, missing, slug,
                               location=self.get_location())
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


def _waits(figures: dict) -> str:
    if figures["lock_waits"] is None:
        return show(None)
    if figures["lock_waits"]:
        return f"{figures['lock_waits']} ({show(figures['longest_lock_wait_ms'])})"
    return "none"


def setup(app):
    """Register the role and directives."""
    app.add_role("evidence", EvidenceRole())
    app.add_directive("evidence-stamp", EvidenceStampDirective)
    app.add_directive("evidence-table", EvidenceTableDirective)
    app.add_directive("evidence-errors", EvidenceErrorsDirective)
    app.add_directive("lock-reference", LockReferenceDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
