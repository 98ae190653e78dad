"""Tools beside the service: the bench (`clusterlabel bench`) and the simulator (`clusterlabel simulate`).

They drive the real engine but are not part of it: the production image leaves them out.
"""
