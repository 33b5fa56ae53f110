"""Each clinical definition of docs/clinical-definitions.md written once.

One module per definition. Where the registry needs it in more than one form they sit side by
side, built from the same constants: a Python form (a pure function of plain values, for a
single episode or a page), an ORM form (a `Q` over the episode summary columns, for the flag
rules and the dashboard's aggregates) and, where the outcomes report writes raw SQL, a SQL
fragment. Each module's tests (registry/definitions/tests/) prove its forms agree on generated
episodes written to the database (docs/testing.md#property-tests).

The modules import nothing from the apps beyond `carereg.lib.expressions` and
`registry.thresholds`, and this package imports none of them itself, so that
`registry.scoring` can re-export the outcome functions without an import cycle.
"""
