"""One date format everywhere (lists, pages, messages, timelines): ISO-like, to the second,
with the time zone, never microseconds. Django's own English formats would win over
the DATETIME_FORMAT setting, hence this module (settings.FORMAT_MODULE_PATH)."""

DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i:s"
