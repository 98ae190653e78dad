"""The certification domain: aggregates, events, commands, rules, catalogues and policy. Pure.

Events stored before the project installed under one import name carry topics such as
`domain.certification_case:CertificationCase.Submitted`. Stored events are read for ever, so the
old module prefix is registered as an alias of this package: every such topic resolves to the same
class under `clusterlabel.domain` (events written since carry the new topic).
"""

import sys

from eventsourcing.utils import register_topic

register_topic("domain", sys.modules[__name__])
