"""A question a lower CRM package asks a higher one, answered through a function the composition root connects.

The CRM's packages depend one way, each using only those before it: companies, pipelines; automation (the rules
engine); deals; leads; activities, tasks; mail; sequences; then idle_deals, timeline, reports, csvio. A deal names
its company and its stage; deals and leads fire the rules engine (a win asks it in the statement that loads the
deal); a lead converts into a deal; a task or an activity names a deal or a lead; mail is about all of them;
sequences mail people and add tasks.

A few questions go against that order: may this company be deleted (not while it has open deals), may this stage
be archived (likewise), how many activities does this lead have (its score counts them), the note a converted
lead's message becomes, the rows an automation rule's create_task and log_note actions write (a task, a note), the
enrolment its enrol_in_sequence action makes (and whether that sequence exists), and the sequences a reply, an
unsubscribe or a bounce stops (mail). Importing the answering package there would make a cycle, so the asking
package declares a `Port` with the function's type, and `crm.app.connect_ports` connects it to the answering
package's public function at start. The dependency stays explicit and typed; only its direction in the import graph
is turned round.
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
