"""A question a lower CRM package asks a higher one, answered through a function the composition root connects.

The CRM's packages depend one way, lower to higher (docs/crm.md, "Packages"): a deal names its company and its
stage, so deals use companies and pipelines; deals and leads fire the automation rules; a task or an activity
names a deal or a lead, so tasks and activities use both. A few questions go against that order: may this company
be deleted (not while it has open deals), may this stage be archived (likewise), how many activities does this
lead have (its score counts them), and the rows an automation rule's create_task and log_note actions write (a
task, a note). Importing the answering package there would make a cycle, so the asking package declares a `Port`
with the function's type, and `crm.app.connect_ports` connects it to the answering package's public function at
start. The dependency stays explicit and typed; only its direction in the import graph is turned round.
"""

from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Port(Generic[P, R]):
    def __init__(self, question: str) -> None:
        self.question = question
        self._answer: Callable[P, R] | None = None

    def connect(self, answer: Callable[P, R]) -> None:
        self._answer = answer

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._answer is None:
            raise RuntimeError(f"Nothing answers {self.question!r}: crm.app.connect_ports connects it at start.")
        return self._answer(*args, **kwargs)
