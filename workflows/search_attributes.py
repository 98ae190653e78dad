"""Typed search attribute keys that the workflows upsert and the UI and CLI filter on.

Pure on purpose: workflow modules import this inside the sandbox, so it imports nothing but
temporalio.common. The server side (registering them) lives in interfaces.temporal_server.
"""

from temporalio.common import SearchAttributeKey

CASE_STATE = SearchAttributeKey.for_keyword("CaseState")
CLUSTER_ID = SearchAttributeKey.for_keyword("ClusterId")
LABEL_LEVEL = SearchAttributeKey.for_keyword("LabelLevel")
LABEL_STATE = SearchAttributeKey.for_keyword("LabelState")
COMPLAINT_STATE = SearchAttributeKey.for_keyword("ComplaintState")

# Every key the project relies on; the server must know each one before a workflow upserts it.
ALL_KEYS: tuple[SearchAttributeKey[str], ...] = (CASE_STATE, CLUSTER_ID, LABEL_LEVEL, LABEL_STATE, COMPLAINT_STATE)
