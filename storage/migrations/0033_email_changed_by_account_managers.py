"""A person's e-mail address, like their user name, changes only by someone who manages accounts.

The maker-checker rule (storage.review.services, and the database's check of every decision
since migration 0032) compares a draft's `created_by` with the reviewer's user name and e-mail
address. Migration 0027's guard let anyone change their own address: a reviewer's injected SQL
could move theirs away from the one on a draft they made, then approve it. The portal's pages
let only account managers change an address (storage/admin/accounts.py), as now the database.
"""

import importlib

from django.db import migrations

guarded = importlib.import_module("storage.migrations.0027_people_of_the_acting_tenant")

WHO = "({row}.tenant_id, {row}.is_staff, {row}.is_active, {row}.username)"
GUARD = guarded.GUARD
for row in ("NEW", "OLD"):
    GUARD = GUARD.replace(WHO.format(row=row), f"{WHO.format(row=row)[:-1]}, {row}.email)", 1)


class Migration(migrations.Migration):
    dependencies = [("storage", "0032_approvals_counted_by_the_database")]

    operations = [migrations.RunSQL(GUARD, guarded.GUARD)]
