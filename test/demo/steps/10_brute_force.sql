-- Step 10: a scripted brute-force attack on one provider's account, from one address.
\echo
\echo '======== 10: brute force against dr.alvarez@sunrise.example from 198.51.100.23'
\echo 'The app calls check_login before each password check and record_failed_login after each failure.'
SELECT n AS attempt, v.allowed, v.reason, v.captcha_required, v.failed_attempts,
       v.locked_until IS NOT NULL AS lock_set
  FROM generate_series(1, 7) AS n,
       LATERAL security.record_failed_login('Dr.Alvarez@Sunrise.example ', '198.51.100.23',
                                            'python-requests/2.31 #' || n) AS v;
\echo 'The account is now refused before the password is even checked:'
SELECT * FROM security.check_login('dr.alvarez@sunrise.example', '198.51.100.23');
\ir ../print_tabs.sql
