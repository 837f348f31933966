"""Pure rules of the teleconsultation domain: no I/O, no storage, no provider calls."""
