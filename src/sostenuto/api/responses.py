"""JSON responses rendered with orjson (fast for large batch answers)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    """Like JSONResponse, rendered by orjson; dates, decimals and dataclasses pass through."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(
            content, default=str, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
        )
