"""Run the app under gunicorn from inside `cltd serve` (as deploy/gunicorn.conf.py does)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from cltd.config import Settings


class _CltdGunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from cltd.web import create_app

        return create_app(self._settings)


def serve_with_gunicorn(settings: Settings, *, host: str, port: int, workers: int) -> None:
    _CltdGunicorn(
        settings,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "accesslog": "-",
            "errorlog": "-",
            "timeout": 30,
            "graceful_timeout": 20,
            "forwarded_allow_ips": "127.0.0.1",
        },
    ).run()
