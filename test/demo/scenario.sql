-- The demo scenario, run by test/run_demo.sh in ONE psql session (so a step's SET, e.g.
-- of vitaluxe_security.clock_offset, carries into the next). Each step is a file
-- steps/NN_name.sql; append a step by adding the file and its \ir line below, in name
-- order (run_demo.sh refuses to run when the list and the folder disagree).
-- By hand:  psql -X -v ON_ERROR_STOP=1 -d vitaluxe_demo -f test/demo/scenario.sql
\set QUIET on
\pset pager off
\pset null '-'
\set QUIET off
\ir steps/00_tabs.sql
\ir steps/10_brute_force.sql
\ir steps/20_spray.sql
\ir steps/30_unlock.sql
\ir steps/40_phi_access.sql
\ir steps/50_key_compromise.sql
