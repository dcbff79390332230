"""``manage.py rehearse`` in a project that is not one of the handbook's: made by ``django-admin startproject`` here,
with an app of two models, filled by the command's own ``--rows``, and a risky migration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab.claims import check
from lab.releases import REPO, example_dir

GUIDE = "rehearse-on-production-like-data"

MODELS = '''
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=20, unique=True)
    price_cents = models.IntegerField()


class Order(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(default=1)
    placed = models.DateTimeField()
    note = models.TextField(blank=True)
'''
# What the team changes next: one release drops a field the running code reads; the other only adds one.
RISKY = MODELS.replace("    note = models.TextField(blank=True)\n", "")
SAFE = MODELS + "    gift = models.BooleanField(null=True)\n"
# The lines the guide tells a team to add to its settings, as the guide shows them.
SETTINGS = (example_dir(GUIDE) / "rehearsal_settings.py").read_text() + '\nINSTALLED_APPS += ["inventory"]\n'
ROWS = ["--rows", "inventory.Product=500", "--rows", "inventory.Order=5000"]


class Project:
    """A project made by startproject in ``path``, run by this interpreter."""

    def __init__(self, path: Path, database: dict):
        self.path = path
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "REHEARSAL_DATABASE": json.dumps(database),
                    "DJANGO_SETTINGS_MODULE": "site_config.settings"}
        self.env.pop("HANDBOOK_DATABASE", None)

    def run(self, *args: str, check_ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=self.path, env=self.env,
                                capture_output=True, text=True, timeout=300)
        if check_ok:
            assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
        return result

    def models(self, source: str) -> None:
        (self.path / "inventory" / "models.py").write_text(source)

    def rehearse(self, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
        result = self.run("rehearse", "--database", "rehearsal", "--noinput", "--settle", "0.3",
                          "--json", "report.json", *args, check_ok=False)
        report_file = self.path / "report.json"
        return result, json.loads(report_file.read_text()) if report_file.exists() else {}


def new_project(tmp_path: Path, database) -> Project:
    subprocess.run([sys.executable, "-m", "django", "startproject", "site_config", str(tmp_path)], check=True)
    project = Project(tmp_path, database.settings)
    project.run("startapp", "inventory")
    with (tmp_path / "site_config" / "settings.py").open("a") as settings:
        settings.write(SETTINGS)
    project.models(MODELS)
    project.run("makemigrations", "inventory", "-v", "0")
    project.run("migrate", "--database", "rehearsal", "-v", "0")
    return project


def rehearsed(tmp_path: Path, database, models: str) -> tuple[subprocess.CompletedProcess, dict]:
    """A new project at its first release, filled by ``--rows``, then ``models`` migrated and rehearsed."""
    project = new_project(tmp_path, database)
    project.models(models)
    project.run("makemigrations", "inventory", "-v", "0")
    return project.rehearse(*ROWS)


@pytest.fixture(scope="module")
def project(tmp_path_factory, embedded_postgresql_engine, module_databases):
    """A new project whose second migration (a nullable field) is not applied yet: left so by every test."""
    made = new_project(tmp_path_factory.mktemp("project"), module_databases(embedded_postgresql_engine))
    made.models(SAFE)
    made.run("makemigrations", "inventory", "-v", "0")
    return made


def test_rehearse_flags_a_risky_migration_in_a_new_project(tmp_path_factory, embedded_postgresql_engine,
                                                           new_database):
    postgresql_engine = embedded_postgresql_engine
    result, report = rehearsed(tmp_path_factory.mktemp("risky"), new_database(postgresql_engine), RISKY)
    check("rehearse flags a migration that drops a field the running code reads, in a project of its own",
          lambda outcome: outcome[0].returncode == 1 and not outcome[1]["passed"]
          and "guides/remove-a-field" in {f["page"] for m in outcome[1]["migrations"] for f in m["findings"]},
          (result, report), contrast="the same project adding a nullable field",
          against=lambda: rehearsed(tmp_path_factory.mktemp("safe"), new_database(postgresql_engine), SAFE),
          observed=lambda outcome: outcome[0].stdout + outcome[0].stderr, guide=GUIDE, engine=postgresql_engine)
    # The command filled the tables it was asked to, before the rehearsal's own inserts.
    assert report["tables"]["inventory_order"] >= 5000
    assert "Filling inventory.Order" in result.stderr
    assert "FAIL  inventory.0002" in result.stdout


def test_the_fill_gives_every_field_a_value_and_every_order_a_product(tmp_path, embedded_postgresql_engine,
                                                                      new_database):
    made = new_project(tmp_path, new_database(embedded_postgresql_engine))
    result = made.run("rehearse", "--database", "rehearsal", "--noinput", *ROWS, check_ok=False)
    assert "No migrations to rehearse" in result.stdout, result.stdout + result.stderr
    assert "Filling" not in result.stderr  # nothing to rehearse: nothing is filled
    made.models(SAFE)
    made.run("makemigrations", "inventory", "-v", "0")
    result, report = made.rehearse(*ROWS)
    assert result.returncode == 0, result.stdout + result.stderr
    shell = made.run("shell", "-v", "0", "-c", (
        "from django.db import connections\n"
        "c = connections['rehearsal'].cursor()\n"
        "c.execute('SELECT count(*), count(DISTINCT sku) FROM inventory_product'); print(*c.fetchone())\n"
        "c.execute('SELECT count(*) FROM inventory_order o JOIN inventory_product p ON p.id = o.product_id'); "
        "print(*c.fetchone())"))
    products, skus, orders = map(int, shell.stdout.split())
    assert products == skus >= 500 and orders >= 5000


@pytest.mark.parametrize("args, message", [
    (["--database", "default"], "needs PostgreSQL or MariaDB,"),
    (["--database", "nowhere"], "no such database in DATABASES"),
    (["--database", "rehearsal", "--rows", "inventory.Order"], "expected APP_LABEL.MODEL=ROWS"),
    (["--database", "rehearsal", "--rows", "inventory.Nothing=5"], "no model 'inventory.Nothing'"),
    (["--database", "rehearsal", "nowhere"], "App 'nowhere' does not have migrations"),
    (["--database", "rehearsal", "inventory", "0042"], "Cannot find a migration matching '0042'"),
    (["--database", "rehearsal", "--max-lock", "-1"], "seconds must be above zero, not '-1'"),
    (["--database", "rehearsal", "--clients", "many"], "clients must be a number, not 'many'"),
], ids=["sqlite", "unknown-alias", "rows-without-count", "unknown-model", "unknown-app", "unknown-migration",
        "negative-budget", "clients-not-a-number"])
def test_bad_input_gets_a_clear_error_and_no_traceback(project, args, message):
    result = project.run("rehearse", "--noinput", *args, check_ok=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert str(project.path) not in result.stderr


def test_without_noinput_it_asks_and_stops_unless_told_yes(project):
    result = subprocess.run([sys.executable, "manage.py", "rehearse", "--database", "rehearsal"], cwd=project.path,
                            env=project.env, input="no\n", capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Rehearsal cancelled" in result.stderr, result.stderr
    assert "never on production" in result.stderr and result.stdout == ""
    assert "[ ]" in project.run("showmigrations", "inventory", "--database", "rehearsal").stdout
