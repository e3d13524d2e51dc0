"""The dashboard: a tenant's numbers at a glance, across the other domains."""
