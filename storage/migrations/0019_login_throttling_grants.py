"""The RLS role records and reads sign-in attempts (django-axes' tables).

Sign-in runs inside the request's transaction as the RLS role, without a tenant:
axes reads the failures so far, records this one, and forgets them after the
cool-off. Its tables hold user names and addresses of every tenant and no tenant
column, so they have no row level security; no screen shows them.
"""

from django.db import migrations

from storage.migration_operations import for_rls_role

TABLES = ["axes_accessattempt", "axes_accesslog", "axes_accessfailurelog"]
ALL_TABLES = [*TABLES, "axes_accessattemptexpiration"]
SEQUENCES = ", ".join(f"{table}_id_seq" for table in TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("storage", "0018_people_and_log_security"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [
        for_rls_role(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(ALL_TABLES)} TO {{role}}",
            f"REVOKE ALL ON {', '.join(ALL_TABLES)} FROM {{role}}",
        ),
        for_rls_role(
            f"GRANT USAGE ON SEQUENCE {SEQUENCES} TO {{role}}",
            f"REVOKE ALL ON SEQUENCE {SEQUENCES} FROM {{role}}",
        ),
    ]
