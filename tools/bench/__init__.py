"""`clusterlabel bench`: figures measured on real stores and servers, each against a bare baseline."""
