"""The type rules: what counts as an integer, a number, a boolean, a date or a datetime.

One set, used by the header sniffer (Python ``re`` on a few hundred cells, through
``csv_formats.kind_of``) and by column typing (pyarrow's RE2 over every distinct value), so
that a value is the same kind in both. These are the plain, machine forms; ``csv_formats``
reads the forms people write (``$1,299.00``, ``31.12.2024``) into them. The patterns are
written in the subset both engines read alike, with one quantifier per run of digits: a run
that fails to match is then given up in linear time (no ReDoS). Values are matched as
written: ``tRuE`` and `` 12`` are strings.
"""

from __future__ import annotations

import re

INT_RE = r"^[-+]?(0|[1-9][0-9]*)$"
LEADING_ZERO_RE = r"^[-+]?0[0-9]+$"  # an identifier (zip code, account), never a number
NUM_RE = r"^[-+]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$|^[-+]?(?i:inf|infinity)$"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# A zone offset as pyarrow reads one: hours 00-23, minutes 00-59 (+30:00 is text, not a
# datetime that would fail its cast).
_OFFSET_RE = r"(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])"
DATETIME_RE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,9})?)?"
    rf"{_OFFSET_RE}?$"
)
AWARE_RE = rf"{_OFFSET_RE}$"
# Cheap first pass: only values that start like a number or are a boolean word can be typed.
PREFILTER_RE = r"^([-+.0-9]|(?i:true|false|yes|no|t|f|y|n|inf|infinity)$)"
TRUE_TOKENS = ("true", "True", "TRUE", "t", "T", "yes", "Yes", "YES", "y", "Y")
FALSE_TOKENS = ("false", "False", "FALSE", "f", "F", "no", "No", "NO", "n", "N")
# Most specific first: a column is the first type all (or nearly all) its values fit.
TYPE_ORDER = ("boolean", "integer", "number", "date", "datetime")

# No INT_RE: NUM_RE matches every integer too.
PLAIN_NUMBER = (re.compile(LEADING_ZERO_RE), re.compile(NUM_RE))
PLAIN_DATE = (re.compile(DATE_RE), re.compile(DATETIME_RE))
BOOLEAN_WORDS = frozenset(TRUE_TOKENS + FALSE_TOKENS)
