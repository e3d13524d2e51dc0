"""Audit events: run timelines over live and archived events, and archival past retention."""
