"""The migrations produce exactly the models' schema, on both databases, and run both ways."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from tautan.core.model import DOCUMENT_TYPES, DocumentType
from tautan.db import alembic_config, make_engine, schema, upgrade


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                    "compare_server_default": True})
            return compare_metadata(context, schema())
    finally:
        engine.dispose()


def test_migrations_match_the_models(database_url: str) -> None:
    assert _diff(database_url) == []


def test_document_types_are_seeded(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert tuple(connection.scalars(select(DocumentType.code).order_by(DocumentType.id))) == DOCUMENT_TYPES
    engine.dispose()


def test_sqlite_has_foreign_keys_and_wal(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):  # noqa: ANN001, ANN201
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'roundtrip.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"tautan_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_engine(empty_database)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(config, "head")
    assert _diff(empty_database) == []


def test_upgrading_a_database_that_has_data(empty_database: str) -> None:
    """Data migrations run on real rows: companies created before slugs existed get unique ones."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0002")
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        for id_, name, parent in ((1, "PT Maju Jaya", None), (2, "PT Maju-Jaya", None), (3, "Gudang", 1)):
            connection.execute(text(
                "INSERT INTO companies (id, name, parent_key, name_key, search_name, role, parent_id, locale, "
                "created_at) VALUES (:id, :name, :parent_key, :key, :key, 'customer', :parent, 'id', "
                "CURRENT_TIMESTAMP)"), {"id": id_, "name": name, "parent_key": parent or 0, "key": name.lower(),
                                        "parent": parent})
    command.upgrade(config, "head")
    with engine.connect() as connection:
        slugs = dict(connection.execute(text("SELECT id, slug FROM companies ORDER BY id")).all())
    engine.dispose()
    assert slugs == {1: "pt-maju-jaya", 2: "pt-maju-jaya-2", 3: "pt-maju-jaya-gudang"}
