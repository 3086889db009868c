"""The Alembic migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from cltd.adapters import migrations
from cltd.models import Base


def test_migrations_leave_no_difference_with_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_database_is_at_the_newest_migration(engine: Engine) -> None:
    assert migrations.current_revision(engine) == migrations.head_revision()


def test_one_ballot_style_constraints_exist(engine: Engine) -> None:
    unique = inspect(engine).get_unique_constraints("seats")
    assert {"member_class", "number"} in [set(u["column_names"]) for u in unique]
