"""May a human step be taken now? The update validators ask before anything is recorded.

The state rules are the domain's own (CASE_STEPS, LABEL_STEPS, the proposal's rules); these only say
which of them a command must pass. The aggregate asks again when it applies the command.
"""

from __future__ import annotations

from uuid import UUID

from clusterlabel.domain.case_lifecycle import CaseState, check_case_step, check_proposed
from clusterlabel.domain.command_base import Command
from clusterlabel.domain.commands import AnswerProposal
from clusterlabel.domain.label_lifecycle import LabelState, check_label_step


def check_case_command(command: Command, state: CaseState, proposed_expert_id: UUID | None) -> None:
    """Refuse, in the domain's words, a human step the case's state does not allow."""
    if isinstance(command, AnswerProposal):
        step = "accept_assignment" if command.accept else "decline_assignment"
        check_proposed(step, state, proposed_expert_id, command.expert_id)
    else:
        check_case_step(command.domain_step, state)


def check_label_command(command: Command, state: LabelState, label_code: str) -> None:
    check_label_step(command.domain_step, state, label_code)
