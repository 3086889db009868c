"""What every command needs: the trust's settings, bylaws and a database session factory."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cltd.adapters.datadir import bylaws_path
from cltd.cli.errors import CliError
from cltd.cli.text import governance_problem
from cltd.config import ConfigError, Settings, load_settings
from cltd.db import make_engine, make_sessionmaker
from cltd.rules.bylaws import Bylaws, BylawsError, load_bylaws
from cltd.services import rulebook


@dataclass
class CliContext:
    data_dir: Path | None

    @cached_property
    def settings(self) -> Settings:
        try:
            return load_settings(self.data_dir)
        except ConfigError as error:
            raise CliError(str(error)) from None

    @cached_property
    def founding_bylaws(self) -> Bylaws:
        try:
            return load_bylaws(bylaws_path(self.settings))
        except BylawsError as error:
            raise CliError(governance_problem(error)) from None

    @cached_property
    def bylaws(self) -> Bylaws:
        """The bylaws in force: the file, or the newest amendment the board adopted."""
        # A read session: commands ask for the bylaws inside their own write transaction.
        with make_sessionmaker(self.engine, writes=False)() as session:
            return rulebook.in_force(session, self.founding_bylaws)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine, writes=True)
