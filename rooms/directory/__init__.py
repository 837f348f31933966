"""AUTH_SERVICE mode: the user directory's client and the participant resolvers."""
