"""`ferkit serve`: the Analyzer behind an HTTP API and a web page (FastAPI on uvicorn)."""

from ferkit.serve.app import ServeSettings, create_app

__all__ = ["ServeSettings", "create_app"]
