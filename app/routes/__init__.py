"""The web layer: one router module per screen group, plus the JSON API."""
