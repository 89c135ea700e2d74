"""``python -m engine.service``: print the OpenAPI document, as committed in docs/openapi.json."""

import sys

from .openapi import document, dumps

sys.stdout.write(dumps(document()))
