"""The commands on invoices (domain/invoice.py), as data. An invoice is issued by the agreement's handler
and cancelled by the withdrawal's, in their saves; the one command of its own is the secretariat's record
of a payment. Registered in commands.COMMANDS."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from clusterlabel.domain.command_base import Command
from clusterlabel.domain.text import Text


class InvoiceCommand(Command, subject="invoice"):
    pass


class RecordPayment(InvoiceCommand):
    """The cluster has paid the invoice: on which day the money arrived, and the payment's reference."""

    paid_on: date = Field(description="the day the money arrived (not in the future)")
    reference: Text = Field(min_length=1, max_length=200, description="the bank's or the cluster's payment reference")
