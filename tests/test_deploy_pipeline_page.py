"""docs/deploy-pipeline.md: the commands of its console block, run as written and in the page's order on the example
of guides/lock-timeout-and-retries.md (a database at release 1's schema, release 2's code), apply release 2's
migration and pass the gate; run before the migration step, the gate refuses."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from lab.claims import check
from lab.engines import Database
from lab.releases import CommandRun, Release, example_module
from lab.schema import columns
from lab.story import Story

from .handbook import REPO
from .test_guide_code_blocks import written_blocks

PAGE = REPO / "docs" / "deploy-pipeline.md"
GUIDE = "docs/deploy-pipeline"
demo = example_module("lock-timeout-and-retries", "demonstration")
RELEASE = Release(demo.SLUG, "release_2")  # the code being deployed: migration 0002_order_note and the wrapper
PREFIX = "python manage.py "
ROWS = 1_000  # the orders release 1 holds when the pipeline runs; nothing here grows with the table
QUIET = Story(quiet=True)
NEW_COLUMN = "note"  # what 0002_order_note adds to demo.TABLE
ADD_COLUMN_SQL = f'ALTER TABLE "{demo.TABLE}" ADD COLUMN "{NEW_COLUMN}"'
MIGRATION = "shop.0002_order_note"
STEPS = ["makemigrations", "sqlmigrate", "plan", "wrapper", "gate"]  # the page's steps 1, 2, 5, 6 and 7


def session_lines() -> list[str]:
    """The ``$`` lines of the page's one console block, in order, without the ``$ ``."""
    text = PAGE.read_text()
    consoles = [(start, end) for language, start, end in written_blocks(text) if language == "console"]
    assert len(consoles) == 1, f"{PAGE.name} must have exactly one console block, not {len(consoles)}"
    start, end = consoles[0]  # the fences' line numbers, 1-based
    return [line[2:] for line in text.splitlines()[start:end - 1] if line.startswith("$ ")]


def manage_args(line: str) -> list[str]:
    """The arguments of ``python manage.py`` on a line of the page, split as a shell would."""
    assert line.startswith(PREFIX), f"{PAGE.name}: {line!r} is not a `{PREFIX.strip()}` command"
    return shlex.split(line[len(PREFIX):], comments=True)


def step_of(line: str) -> str:
    """Which of :data:`STEPS` a line of the page is."""
    args = manage_args(line)
    if args[0] == "migrate":
        return "plan" if "--plan" in args else "gate" if "--check" in args else "migrate"
    return {"migrate_with_retries": "wrapper"}.get(args[0], args[0])


@dataclass(frozen=True)
class Ran:
    """One line of the page, run: what it did, and whether the table had the new column afterwards."""

    line: str
    run: CommandRun
    column_after: bool

    def summary(self) -> str:
        said = (self.run.stdout + self.run.stderr).strip().splitlines()
        return (f"$ {self.line}  -> exit {self.run.returncode}, {NEW_COLUMN} column after: {self.column_after}\n"
                + "\n".join(f"    {text}" for text in said[-6:]))


@dataclass(frozen=True)
class Session:
    """The page's lines, run one after the other on one database."""

    ran: tuple[Ran, ...]

    def step(self, name: str) -> Ran:
        return next(ran for ran in self.ran if step_of(ran.line) == name)

    def summary(self) -> str:
        return "\n".join(ran.summary() for ran in self.ran)


def at_release_1(database: Database) -> Database:
    """The database before the deploy: release 1's schema (0002 unapplied), with orders."""
    demo.orders_table(database, ROWS, QUIET)
    assert NEW_COLUMN not in columns(database, demo.TABLE)
    return database


def run_line(line: str, database: Database) -> Ran:
    run = RELEASE.run(*manage_args(line), database=database)
    return Ran(line, run, NEW_COLUMN in columns(database, demo.TABLE))


def run_session(lines: list[str], database: Database) -> Session:
    return Session(tuple(run_line(line, database) for line in lines))


def applied_and_gated(session: Session) -> bool:
    """Each step did what the page says, and the gate passed once the migration step had applied the migration."""
    checked, review, plan = session.step("makemigrations"), session.step("sqlmigrate"), session.step("plan")
    wrapper, gate = session.step("wrapper"), session.step("gate")
    return (checked.run.ok and "No changes detected" in checked.run.stdout
            and review.run.ok and ADD_COLUMN_SQL in review.run.stdout
            and plan.run.ok and MIGRATION in plan.run.stdout and not plan.column_after
            and wrapper.run.ok and f"Applying {MIGRATION}" in wrapper.run.stdout and wrapper.column_after
            and gate.run.returncode == 0)


def refuses(gate: Ran) -> bool:
    """``migrate --check`` exited with status 1 and applied nothing."""
    return gate.run.returncode == 1 and not gate.column_after


def test_the_console_block_holds_steps_1_2_5_6_and_7_as_the_steps_show_them():
    lines = session_lines()
    assert [step_of(line) for line in lines] == STEPS, lines
    text = PAGE.read_text()
    for line in lines:  # each step's paragraph shows the command the session runs, word for word
        assert f"`{line}`" in text, f"{PAGE.name}: no step shows `{line}`"


def test_the_pages_commands_run_in_order_apply_the_migration_and_pass_the_gate(postgresql_engine, new_database):
    lines = session_lines()
    database = at_release_1(new_database(postgresql_engine))
    gate_line = next(line for line in lines if step_of(line) == "gate")
    gate_before = run_line(gate_line, database)  # step 7 run before step 6: the gate's contrast
    session = run_session(lines, database)

    def gate_moved_before_the_migration_step() -> Session:
        others = [line for line in lines if line != gate_line]
        at = next(i for i, line in enumerate(others) if step_of(line) == "wrapper")
        return run_session([*others[:at], gate_line, *others[at:]], at_release_1(new_database(postgresql_engine)))

    check("the page's commands, run in order, apply the release's migration and pass the gate", applied_and_gated,
          session, contrast="the same commands with the gate run before the migration step",
          against=gate_moved_before_the_migration_step, observed=Session.summary, guide=GUIDE,
          engine=postgresql_engine)
    check("migrate --check exits with a non-zero status while a migration is unapplied, and applies nothing",
          refuses, gate_before, contrast="the same gate once the wrapper has applied the migration",
          against=lambda: session.step("gate"), observed=Ran.summary, guide=GUIDE, engine=postgresql_engine)
