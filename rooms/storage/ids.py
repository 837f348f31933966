"""The shape of a teleconsultation id: 24 lowercase hex characters (a Mia CRUD `_id`)."""

import re

# Anything else cannot exist and is not looked up (a NUL byte in a path, for one, is an error in
# PostgreSQL rather than a miss, and the CRUD Service would answer 400).
ID_SHAPE = re.compile(r"[0-9a-f]{24}")


def is_teleconsultation_id(value: str) -> bool:
    return bool(ID_SHAPE.fullmatch(value))
