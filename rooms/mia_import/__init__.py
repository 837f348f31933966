"""Importing Mia's exported CRUD collections (teleconsultations and the user id map) into this
service's database: reading `mongoexport` files, checking each record, storing it once."""
