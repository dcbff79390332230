"""The lab: runs the handbook's example projects against real databases.

Each guide's example is a Django project whose releases are states of one
app. The lab starts databases (:mod:`lab.engines`), runs a release's commands
and workload in their own processes (:mod:`lab.releases`,
:mod:`lab.workload`), deploys one release over another while the previous
one serves (:mod:`lab.deploy`), watches the locks a migration takes
(:mod:`lab.locks`), fills tables fast (:mod:`lab.fill`), checks the guides'
claims (:mod:`lab.claims`) and keeps the evidence guides show
(:mod:`lab.evidence`).
"""
