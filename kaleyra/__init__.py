"""Everything about the video provider (Kaleyra Video REST API v2): client, typed results, errors,
and a local simulator. Nothing else in the project talks to Kaleyra directly."""
