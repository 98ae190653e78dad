"""What the case's and the label's workflows share: one record (a case or a label), its latest view, and
its commands run one at a time under a lock. Workflow code: deterministic, no rules of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, ClassVar, Generic
from uuid import UUID

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from clusterlabel.domain.base import DomainError
    from clusterlabel.domain.command_base import Command, Envelope, command_key
    from clusterlabel.domain.commands import command_name
    from clusterlabel.workflows.messages import FLAT_STEP_NAMES, Step

from clusterlabel.workflows.common import (
    BOUNDED_RETRIES,
    DOMAIN_DECIDES_UNDER_LOCK,
    RECORD_PATCHES,
    REFUSALS_BEFORE_HELP,
    RETRY_PAUSE,
    UNHEARD_RETRY_PAUSE,
    V,
    ask_for_patches_first,
    automatic,
    refusal,
    run_activity,
    run_command,
    takes_patch,
    view_query,
    wait_until,
)


class RecordWorkflow(Generic[V]):
    """A subclass names, as class arguments, its record (`kind`: "case" or "label", also the first
    part of its automatic steps' keys), its view, the search attribute that shows its state and the
    activity that runs its commands; and says how to load it (`_load`) and check a human step (`_check`)."""

    kind: ClassVar[str]
    # The patches its runs ask for first thing (PATCHES_FIRST); a subclass that asks for more adds them.
    patches: ClassVar[tuple[str, ...]] = RECORD_PATCHES
    view_type: ClassVar[type[Any]]
    state_attribute: ClassVar[SearchAttributeKey[str]]
    command_activity: ClassVar[Any]
    view: ClassVar[Any]  # the query of the latest view, typed as the subclass's view (view_query)

    def __init_subclass__(
        cls, *, kind: str, view: type[Any], state: SearchAttributeKey[str], commands: Any, **rest: Any
    ) -> None:
        super().__init_subclass__(**rest)
        cls.kind, cls.view_type, cls.state_attribute, cls.command_activity = kind, view, state, commands
        cls.view = view_query(view)

    def __init__(self) -> None:
        self._record_id: UUID | None = None
        self._view: V | None = None
        self._lock = asyncio.Lock()  # one command at a time, so the view is always the latest
        self._refusals = 0  # automatic steps refused in a row, while the record stays at one version
        self._refused_at_version = -1
        self._resumes = 0  # `resume` signals received
        self._help_wanted: str | None = None  # why it waits for `resume`, while it does
        self._alarms_done: set[tuple[Any, ...]] = set()  # the alarms acted on (_await_alarms)
        self._reloading = 0  # `reload` signals whose load is still to come

    @property
    def record_id(self) -> UUID:
        assert self._record_id is not None, "set first thing in run()"
        return self._record_id

    @property
    def current(self) -> V:
        assert self._view is not None, "the record is loaded first thing in run()"
        return self._view

    def _automatic(self, occurrence: str) -> Envelope:
        return automatic(self.kind, self.record_id, occurrence)

    async def _begin(self, record_id: UUID) -> V:
        """First thing in every run: ask for the patches before anything is awaited (PATCHES_FIRST),
        then load the record."""
        ask_for_patches_first(*self.patches)
        self._record_id = record_id
        return await self._reload()

    async def _reload(self) -> V:
        async with self._lock:
            view: V = await run_activity(*self._load())
        self._remember(view)
        return view

    def _load(self) -> tuple[Any, Any]:
        """The activity that loads the record, and its input."""
        raise NotImplementedError

    async def _command(self, command: Command, envelope: Envelope, check: bool = False) -> V:
        """Run a command under the lock and keep the view (and the state's search attribute) current.

        A human step (`check`) was checked by the update validator against an older view; under the
        lock the domain decides on the stored record, and answers a step whose key it has already
        applied with the record as it is (a retry after a crash, whose view may have moved on). Runs
        recorded before that patch checked the view here instead.
        """
        async with self._lock:
            if check and not takes_patch(DOMAIN_DECIDES_UNDER_LOCK):
                self._refuse_out_of_turn(command)
            view = await self._run(command, envelope)
        self._remember(view)
        return view

    async def _run(self, command: Command, envelope: Envelope) -> V:
        """Run a command; the caller holds the lock."""
        view: V = await run_command(
            type(self).command_activity, self.record_id, command, envelope, self.view_type, self._view
        )
        return view

    def _remember(self, view: V) -> None:
        if self._view is None or self._view.state != view.state:
            workflow.upsert_search_attributes([self.state_attribute.value_set(view.state)])
        self._view = view

    async def _act_on_alarm(self, applies: Callable[[], bool], act: Callable[[], Awaitable[V]], kind: str) -> bool:
        """Act on a due alarm under the lock, unless an update or signal moved the record meanwhile (the
        alarm no longer applies then: False, and the caller looks at the record's alarms again). A refusal
        (a race with a human step) is looked at again after a pause."""
        try:
            async with self._lock:
                if not applies():
                    return False
                view = await act()
        except ApplicationError as error:
            await self._after_refusal(f"the {kind} alarm", error)
            return True
        self._remember(view)
        return True

    async def _await_alarms(
        self, alarms: Sequence[Any], moved: Callable[[], bool], act: Callable[[Any], Awaitable[V]], once_acted: bool
    ) -> None:
        """Wait until the record moves on (`moved`), acting on each of its `alarms` on time meanwhile (the
        reminders, then the deadline, of a case's or a complaint's step). `once_acted` (their runs' answer to
        NO_SILENT_WAITS): an alarm counts as done only once acted on, and the loop returns to take the
        record's alarms again when an alarm's step came back with other ones (a worker on another policy);
        runs recorded before it counted an alarm done though a human step had moved the record first, and
        kept the alarms they took."""
        for alarm in alarms:
            done_key = (alarm.kind, alarm.step, alarm.offset, alarm.at)
            if done_key in self._alarms_done:
                continue
            if await wait_until(moved, alarm.at):
                return
            acted = await self._act_on_alarm(lambda: not moved(), partial(act, alarm), alarm.kind)
            if acted or not once_acted:
                self._alarms_done.add(done_key)
            if moved() or (once_acted and self.current.alarms != alarms):
                return
        await workflow.wait_condition(moved)

    # ---- automatic steps the domain refuses -------------------------------------------------------

    async def _after_refusal(self, what: str, error: ApplicationError) -> None:
        """Look again, after a pause, at the record whose automatic step (`what`) the domain refused;
        the pause doubles while the record makes no progress, and then the secretariat is asked."""
        workflow.logger.info("automatic step refused", extra={"step": what, "error": error.message})
        if not takes_patch(BOUNDED_RETRIES):
            await workflow.sleep(RETRY_PAUSE)
        else:
            if self.current.version != self._refused_at_version:  # progress since: count afresh
                self._refusals, self._refused_at_version = 0, self.current.version
            self._refusals += 1
            if self._refusals < REFUSALS_BEFORE_HELP:
                await workflow.sleep(RETRY_PAUSE * 2 ** (self._refusals - 1))
            else:
                await self._ask_for_help(f"{what} was refused {self._refusals} times: {error.message}")
                self._refusals = 0
        await self._reload()

    async def _ask_for_help(self, reason: str) -> None:
        """Tell the secretariat (where the record has a way to: `_help`) and wait for `resume` or for a
        step that moves the record. A record with no way to tell anyone (a label: its timers must not
        stop) looks again every UNHEARD_RETRY_PAUSE instead."""
        workflow.logger.warning("automatic step keeps being refused; waiting for resume", extra={"reason": reason})
        resumes = self._resumes
        command = self._help(reason)
        told = False
        if command is not None:
            try:
                await self._command(command, self._automatic(f"help:v{self.current.version}"))
                told = True
            except ApplicationError as error:  # not even that: the log and the wait remain
                workflow.logger.warning("could not ask for help", extra={"error": error.message})
        version = self.current.version
        moved = lambda: self._resumes != resumes or self.current.version != version  # noqa: E731
        self._help_wanted = reason
        try:
            await workflow.wait_condition(moved, timeout=None if told else UNHEARD_RETRY_PAUSE)
        except TimeoutError:  # nobody told (a label): look again anyway
            pass
        finally:
            self._help_wanted = None

    def _help(self, reason: str) -> Command | None:
        """The command that asks the secretariat for help with this record, if it has one."""
        return None

    @workflow.query
    def help_wanted(self) -> str | None:
        """Why the workflow waits for `resume` (an automatic step kept being refused), or None."""
        return self._help_wanted

    @workflow.signal
    def resume(self) -> None:
        """Look again at a record whose automatic step kept being refused, once the cause is fixed
        (`POST /cases/{id}/resume` or `/labels/{ref}/resume`, or `temporal workflow signal --name resume`)."""
        self._resumes += 1

    @workflow.signal
    async def reload(self) -> None:
        """Load the record again: it holds a step this run never heard of. Its update was lost with the
        Temporal server that held it (stopped after the step's command was recorded, before the step
        reached the history), and the caller's retry was answered from the record (interfaces/web/steps.py:
        catch_up). A signal, not a patch: runs recorded before it never received one. Until the record is
        loaded, the update validator lets every step through to the domain (the next step often comes in the
        same workflow task as this signal, and the view it would be judged on is the stale one)."""
        self._reloading += 1  # before any await: the validators of this workflow task run after this line
        try:
            await workflow.wait_condition(lambda: self._view is not None)
            await self._reload()
        finally:
            self._reloading -= 1

    # ---- human steps: the updates (see workflows.common.human_step) -----------------------------

    def envelope_of(self, step: Step[Any]) -> Envelope:
        """The step's envelope; one sent in the older flat format gets the key the workflow derived
        then: <kind>:<id>:<step>:<the caller's Idempotency-Key, or the update id>."""
        if not step.flat:
            return step.envelope
        info = workflow.current_update_info()
        name = info.name if info else "step"
        occurrence = step.flat_occurrence or (info.id if info else "")
        key = command_key(self.kind, self.record_id, FLAT_STEP_NAMES.get(name, name), occurrence)
        return step.envelope.model_copy(update={"key": key})

    async def _human_step(self, step: Step[Any]) -> V:
        await workflow.wait_condition(lambda: self._view is not None)
        # Checked again under the lock: another command may have moved the record since the validator ran.
        view = await self._command(step.command, self.envelope_of(step), check=True)
        workflow.logger.info(
            "human step done", extra={"step": command_name(step.command), "actor": step.envelope.actor}
        )
        return view

    def _validate(self, step: Step[Any]) -> None:
        """The update validator: refuse a step out of turn before anything is recorded.

        While a command is in flight the view is about to change, so the validator lets the
        update in and the handler decides under the lock, on the view that command leaves. A step
        whose key the record holds already was taken (its worker died after writing it, and the
        caller asks again): the handler answers it with the record, as the first time. While a `reload`
        is pending the view is known to be stale: the handler decides, under the lock, on the record.
        """
        if self._view is None or self._lock.locked() or self._reloading or step.envelope.key in self._view.recent_keys:
            return
        self._refuse_out_of_turn(step.command)

    def _refuse_out_of_turn(self, command: Command) -> None:
        try:
            self._check(command)
        except DomainError as error:
            raise refusal(error) from None

    def _check(self, command: Command) -> None:
        """Raise the domain's refusal of a human step out of turn, judged on the current view."""
        raise NotImplementedError
