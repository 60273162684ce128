"""HTTP API (FastAPI). Routes parse input, call one service and shape the answer."""

from sostenuto.api.app import create_app

__all__ = ["create_app"]
