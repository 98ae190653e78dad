"""The certification domain: aggregates, events, commands, rules, catalogues and policy. Pure.

Events stored before the project installed under one import name carry topics such as
`domain.certification_case:CertificationCase.Submitted`. Stored events are read for ever, so the
old module prefix is registered as an alias of this package: every such topic resolves to the same
class under `clusterlabel.domain` (events written since carry the new topic).
"""

import sys

from eventsourcing.utils import register_topic

register_topic("domain", sys.modules[__name__])

# The commands a module of their own keeps register in commands.COMMANDS as they are imported: imported
# with the package, so that the table is whole wherever any part of the domain is used.
from clusterlabel.domain import complaint_commands  # noqa: E402, F401
