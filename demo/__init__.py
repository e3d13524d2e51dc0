"""Demo data for `make run` and trying the portal by hand; production never imports it.

`manage.py seed_demo` is the only way in: `accounts` (the demo tenants and users),
`generator` (the rows, built in memory from a seed) and `loader` (one transaction that
inserts whatever is missing). Django finds the command without importing it, so a
deployment that does not run it loads nothing here beyond `apps`.
"""
