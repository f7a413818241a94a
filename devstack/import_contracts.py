"""An import-linter contract of our own: a domain package is used by the others only through its public module.

    [importlinter:contract:public-modules]
    type = public_module
    containers = crm, erp
    public = api
    entry_points = router, handlers, jobs

Inside each container (a service package), a sibling package `P` may be imported by code outside `P` only as
`P` itself (its `__init__`) or `P.api`. Its entry points (`P.router`, `P.handlers`, `P.jobs`) may in addition be
imported by the container's composition roots: the modules directly inside the container (`crm.app`,
`erp.handlers`), which wire the process. Everything else of `P` (models, repository, service, schemas) is its
own business, free to change without breaking a neighbour. Import-linter's built-in `protected` contract needs
one contract per package; this one says the rule once.
"""

from typing import Any

import grimp
from importlinter import Contract, ContractCheck, fields, output


class PublicModuleContract(Contract):
    type_name = "public_module"

    containers = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())
    entry_points = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        # The fields are declared as descriptors; on an instance they hold the parsed lists.
        public: set[str] = set(self.public)  # type: ignore[call-overload]
        entry_points: set[str] = set(self.entry_points or [])  # type: ignore[arg-type]
        violations: list[dict[str, Any]] = []
        for container in self.containers:  # type: ignore[attr-defined]
            packages = {child for child in graph.find_children(container) if graph.find_children(child)}
            roots = graph.find_children(container) - packages
            for package in sorted(packages):
                for imported in sorted(graph.find_descendants(package)):
                    first = imported[len(package) + 1:].split(".")[0]
                    if first in public:
                        continue
                    for importer in sorted(graph.find_modules_that_directly_import(imported)):
                        if importer == package or importer.startswith(package + "."):
                            continue
                        if first in entry_points and importer in roots:
                            continue
                        details = graph.get_import_details(importer=importer, imported=imported)
                        violations.append({"importer": importer, "imported": imported,
                                           "line": details[0]["line_number"] if details else 0})
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for v in check.metadata["violations"]:
            output.print_error(f"{v['importer']} -> {v['imported']} (l. {v['line']}): "
                               f"import the package's public module ({', '.join(self.public)}) instead")  # type: ignore[arg-type]
            output.new_line()
