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
    def bylaws(self) -> Bylaws:
        try:
            return load_bylaws(bylaws_path(self.settings))
        except BylawsError as error:
            raise CliError(governance_problem(error)) from None

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine, writes=True)
