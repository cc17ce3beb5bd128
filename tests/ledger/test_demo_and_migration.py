"""Existing databases get chains: demo data through load_demo, older rows through the data migration."""

from __future__ import annotations

import importlib
import io

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from tests.ledger.factories import accepted_case
from tongban.accounts import demo as accounts_demo
from tongban.cases import demo as cases_demo
from tongban.cases.models import CaseEvent
from tongban.catalog import demo as catalog_demo
from tongban.core import demo as core_demo
from tongban.ledger import demo, services
from tongban.ledger.models import ChainLink, MerkleCommit

pytestmark = pytest.mark.django_db


def test_demo_cases_are_chained_committed_and_verify():
    core_demo.load(None)
    accounts_demo.load(io.StringIO())
    catalog_demo.load(None, counties=[])
    cases_demo.load(io.StringIO())
    # Events written through record_case_event are chained as they happen …
    assert CaseEvent.objects.exists()
    assert not CaseEvent.objects.filter(chain_link__isnull=True).exists()
    # … and the ledger's demo step commits them (and chains anything older).
    demo.load(io.StringIO())
    assert MerkleCommit.objects.count() == 1
    demo.load(io.StringIO())  # again: nothing to do
    assert MerkleCommit.objects.count() == 1
    report = services.verify_store()
    assert report.ok and report.events == CaseEvent.objects.count() == report.links


def test_data_migration_backfills_with_historical_models():
    app, *_ = accepted_case()
    ChainLink.objects.all().delete()
    state = MigrationLoader(connection).project_state(("ledger", "0002_backfill_chains"))
    historical = {
        "CaseEvent": state.apps.get_model("cases", "CaseEvent"),
        "ChainLink": state.apps.get_model("ledger", "ChainLink"),
        "Application": state.apps.get_model("cases", "Application"),
    }
    module = importlib.import_module("tongban.ledger.migrations.0002_backfill_chains")
    module.chain_existing_events(state.apps, None)
    assert ChainLink.objects.filter(application=app).count() == app.events.count()
    assert services.verify_case(app).ok
    assert services.backfill(models=historical) == 0
