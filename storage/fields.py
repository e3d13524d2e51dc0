"""Field helpers that make Django's DDL match the Supabase spec to the letter."""

from django.db import models
from django.db.models.expressions import RawSQL


def db_default(sql: str) -> RawSQL:
    """A database default written as the spec writes it (NOW(), not STATEMENT_TIMESTAMP())."""
    return RawSQL(sql, ())


class TextPrimaryKey(models.TextField):
    """A TEXT primary key without Django's extra `text_pattern_ops` "_like" index.

    PostgreSQL's schema editor adds that index to every text column that is
    unique or indexed, unless the type is spelt differently from "text"; the
    spec has no such index, so the type is spelt in capitals.
    """

    def __init__(self, *args, **kwargs):
        kwargs["primary_key"] = True
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        del kwargs["primary_key"]
        return name, path, args, kwargs

    def db_type(self, connection) -> str:
        return "TEXT"


class ExactDecimal(models.DecimalField):
    """NUMERIC without a precision: an amount kept exactly as it was read, whatever its scale."""

    def __init__(self, *args, **kwargs):
        # Django's checks want bounds; PostgreSQL's NUMERIC without them holds any amount.
        kwargs.update(max_digits=1000, decimal_places=500)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        del kwargs["max_digits"], kwargs["decimal_places"]
        return name, path, args, kwargs

    def db_type(self, connection) -> str:
        return "numeric"
