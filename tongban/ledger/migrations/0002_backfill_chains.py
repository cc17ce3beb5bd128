"""Chain the case events recorded before the ledger existed (demo and early databases).

Same code as ``manage.py backfill_ledger`` (which also commits a Merkle root); on a big database
run that command instead and this migration finds nothing left to do.
"""

from django.db import migrations


def chain_existing_events(apps, schema_editor):
    from tongban.ledger.services import backfill

    backfill(
        models={
            "CaseEvent": apps.get_model("cases", "CaseEvent"),
            "ChainLink": apps.get_model("ledger", "ChainLink"),
            "Application": apps.get_model("cases", "Application"),
        }
    )


class Migration(migrations.Migration):
    # Each batch of cases commits on its own (backfill's own transactions), not one huge transaction.
    atomic = False

    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(chain_existing_events, migrations.RunPython.noop)]
