"""Phase II — the local response toolkit (from the Mexican pilot, Lima 2019 session 6.1).

One module per step, each a set of pure functions over data frames plus the reader and checks
of its worksheet: :mod:`selection` (1, choosing the territory), :mod:`liaison` (2, stakeholder
register and gap check), :mod:`characterisation` (3, territorial profile), :mod:`services`
(4, services against risk factors), :mod:`intervention` (5, action lines, costs, monitoring).
:mod:`inputs` adapts the Phase I results (risk model or IVTI), :mod:`steps` runs each step from
the worksheets in ``<country folder>/phase2/``, :mod:`examples` writes the sample worksheets,
:mod:`plots` and :mod:`export` draw and write the results.
"""
