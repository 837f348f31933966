"""The bottom floor: small pieces every package of the service may import, and the outbound HTTP
base (`common.http`) the clients of Kaleyra, the CRUD Service and the user directory build on.

It imports the standard library, `requests` and `prometheus_client`, never Django or one of our
packages, so `kaleyra`, `crud`, `rooms` and `teleconsultation_project` can all lean on it without
an import pointing back up (`tests/foundation/test_import_layers.py` holds that).
"""
