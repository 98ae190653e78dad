"""Stored events of every type written today, and the tests that the current code still reads them."""
