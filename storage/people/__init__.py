"""People: who manages which portal users (superusers everyone, tenant admins their tenant)."""
