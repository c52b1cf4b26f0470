"""Settings shared by the tests of a real deployment's mail (two keys: one signs, both verify)."""

MAIL_KEYS = ("new-key", "old-key")
