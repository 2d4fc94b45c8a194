"""What the hostile-input property tests share: their hypothesis profile, the text they throw,
and `Rows`, which keeps a database's rows and puts them back between examples.

The profile bounds each property to a number of examples that keeps the three files within a
couple of minutes on both engines, waits for no deadline (a PostgreSQL example can take longer
than hypothesis's default 200 ms without meaning anything), and under CI derandomizes, so a CI
run is reproducible; no example database is written into the work tree (a failure found once
is kept as an `@example`). It is registered here and applied by decorator, never loaded: other
test files keep hypothesis's defaults. FARO_HOSTILE_SCALE=10 runs ten times the examples, for
a longer hunt by hand.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import select

from escalation.base.db import Base
from tests.conftest import IN_CI

settings.register_profile(
    "faro-hostile",
    max_examples=60,
    deadline=None,
    derandomize=IN_CI,
    database=None,
    print_blob=True,
)
HOSTILE = settings.get_profile("faro-hostile")
SCALE = int(os.environ.get("FARO_HOSTILE_SCALE", "1"))


def examples(n: int, *, resets_state: bool = False) -> settings:
    """The profile with `n` examples. `resets_state`: the test gives every example a clean
    database itself, so hypothesis may use a function-scoped fixture (the app) across them."""
    suppressed = [HealthCheck.function_scoped_fixture] if resets_state else []
    return settings(HOSTILE, max_examples=n * SCALE, suppress_health_check=suppressed)


# Text as phones and webhooks deliver it: any code point but lone surrogates (which no UTF-8
# transport can carry), with the troublemakers drawn often.
TROUBLE = "\x00\t\n\r\x0b\x0c\x1b\x7f\u200b\u200d\u2028\u2029\ufeff\ufffd\U0001f198\U0001f197\u0301"
any_char = st.one_of(
    st.characters(blacklist_categories=("Cs",)),
    st.sampled_from(TROUBLE),
)
any_text = st.text(any_char, max_size=60)


def mostly(usual, unusual, tenths: int = 7):
    """`usual` that many tenths of the time, else `unusual`: hypothesis's `one_of` picks its
    branches evenly (and counts a repeated one once), which would rarely reach deep paths."""
    return st.integers(0, 9).flatmap(lambda n: usual if n < tenths else unusual)


class Rows:
    """Every row of every table, read in key order: to compare two states of the database and
    to put one back (delete all, insert all, parents first). The tables are the models';
    test_hostile_webhook.py checks that the migrated database has no other."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.tables = Base.metadata.sorted_tables

    def read(self) -> dict[str, list[tuple]]:
        with self.engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        select(table).order_by(*(table.primary_key.columns or table.columns))
                    )
                ]
                for table in self.tables
            }

    def restore(self, state: dict[str, list[tuple]]) -> None:
        with self.engine.begin() as connection:
            for table in reversed(self.tables):
                connection.execute(table.delete())
            for table in self.tables:
                if state[table.name]:
                    names = [column.name for column in table.columns]
                    connection.execute(
                        table.insert(),
                        [dict(zip(names, row, strict=True)) for row in state[table.name]],
                    )
