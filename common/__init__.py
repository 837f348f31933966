"""The bottom floor: small pieces every package of the service may import.

It imports only the standard library, never one of our packages, so `kaleyra`, `crud`, `rooms`
and `teleconsultation_project` can all lean on it without an import pointing back up
(`tests/foundation/test_import_layers.py` holds that).
"""
