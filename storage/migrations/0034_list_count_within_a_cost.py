"""`portal_list_count` counts a list exactly only when the planner prices the count as cheap.

Migration 0022 counted every list the planner expected under `exact_below` rows. A filter no
index serves (a draft type with a risk level) is expected to match a few thousand rows, spread
over all of a tenant's rows: counting them read every one, 0.2 s for the largest tenant, where
the page itself stops after its 50. The function now
also takes `exact_cost_below`, and counts only a query whose plan costs less (the plan of
its EXPLAIN, which it reads anyway); the list says "about N" otherwise, and the page it
shows settles N when the list ends on it (storage.admin.paginator).
"""

import importlib

from django.db import migrations

from storage.migration_operations import for_rls_role, nobody_executes, only_the_rls_role_executes

previous = importlib.import_module("storage.migrations.0022_list_count_function")

FUNCTION = "portal_list_count(text, integer, double precision)"

# 0022's function with one more argument, and one more condition on its count.
CREATE = previous.CREATE.replace(
    "exact_below integer,",
    "exact_below integer,\n                                  exact_cost_below double precision,",
    1,
).replace(
    "    IF estimate < exact_below THEN",
    "    -- Under exact_below rows, the LIMIT cuts nothing the plan reads: its cost is the\n"
    "    -- count's.\n"
    "    IF estimate < exact_below\n"
    "            AND (plan -> 0 -> 'Plan' ->> 'Total Cost')::double precision\n"
    "                < exact_cost_below THEN",
    1,
)


class Migration(migrations.Migration):
    dependencies = [("storage", "0033_email_changed_by_account_managers")]

    operations = [
        migrations.RunSQL(CREATE, f"DROP FUNCTION {FUNCTION}"),
        *only_the_rls_role_executes(FUNCTION),
        # Backwards, the function of 0022 comes back with its grants (these run in reverse).
        for_rls_role(None, f"GRANT EXECUTE ON FUNCTION {previous.FUNCTION} TO {{role}}"),
        migrations.RunSQL(
            f"DROP FUNCTION {previous.FUNCTION}",
            [previous.CREATE, *nobody_executes(previous.FUNCTION).sql],
        ),
    ]
