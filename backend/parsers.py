"""Request parsers that turn every malformed body into a 400, never a 500."""
from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, except that absurdly nested JSON is a parse error (the standard
    parser lets the RecursionError through)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("The JSON is nested too deeply.") from None
        if not isinstance(data, dict):
            raise ParseError("Send a JSON object.")
        return data
