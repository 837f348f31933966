"""AUTH_SERVICE mode: the user directory's client and the lookup of participants in it."""
