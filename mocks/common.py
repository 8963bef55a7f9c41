"""Shared helpers of the routers: JSON responses (UTF-8, not escaped), simulator state."""
from __future__ import annotations

import json
from typing import Any

from fastapi import Response


def json_response(body: Any, status_code: int = 200, headers: dict | None = None) -> Response:
    return Response(content=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
                    status_code=status_code, media_type="application/json", headers=headers)
