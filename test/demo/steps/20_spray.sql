-- Step 20: a password spray: one address tries several accounts.
\echo
\echo '======== 20: password spray from 203.0.113.77 against four accounts'
SELECT e AS email, v.allowed, v.failed_attempts
  FROM unnest(ARRAY['nurse.cruz@sunrise.example', 'desk@lonestar.example',
                    'dr.garcia@pacific.example', 'nobody@vitaluxeservice.com']) AS e,
       LATERAL security.record_failed_login(e, '203.0.113.77', 'Mozilla/5.0 (spray)') AS v;
\echo 'One ip_multi_account event, not one per attempt; the Brute force tab recommends a block.'
\echo 'The on-call admin blocks the network:'
SET vitaluxe_security.actor = 'oncall.admin@vitaluxeservice.com';
SELECT security.block_ip('203.0.113.0/24', 'password spray against 4 accounts') AS block_id;
SELECT * FROM security.check_login('dr.baker@sunrise.example', '203.0.113.80');
\ir ../print_tabs.sql
