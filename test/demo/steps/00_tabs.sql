-- Step 00: the Security tabs right after install, with the sample app loaded.
\echo
\echo '======== 00: the Security tabs after CREATE EXTENSION and the sample data'
\ir ../print_tabs.sql
